import { Tag, TransferSyntax } from './dictionary.ts';
import {
  DicomParseError,
  parseDicom,
  type DicomDataset,
  type ParsedDicom,
  type ParseOptions,
} from './parse.ts';
import { getInteger, getText, getTexts } from './values.ts';

/** What Ferry needs to know of one instance, read from its header alone. */
export interface InstanceHeader {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly transferSyntaxUid: string;
  readonly patientId: string;
  readonly patientName: string;
  readonly patientBirthDate: string;
  readonly patientSex: string;
  readonly modality: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly studyDescription: string;
  readonly studyId: string;
  readonly seriesDescription: string;
  readonly accessionNumber: string;
  readonly seriesNumber?: number;
  readonly instanceNumber?: number;
  readonly numberOfFrames?: number;
  readonly specificCharacterSet: string[];
  readonly hasPixelData: boolean;
  /** Preamble, DICM and File Meta Information present (PS3.10 7.1). */
  readonly part10: boolean;
  /** Meta Media Storage SOP Instance UID, when there is meta information. */
  readonly metaSopInstanceUid?: string;
  readonly metaSopClassUid?: string;
}

export type HeaderRead =
  | {
      readonly kind: 'dicom';
      readonly header: InstanceHeader;
      readonly headerBytes: number;
      /** Where Pixel Data's value ends, when its length is defined: past the file = truncated. */
      readonly pixelDataEnd?: number;
      /**
       * The parsed header itself, so validation runs its rules without reading the file again
       * (read with `headerOnly`, it holds only the attributes of `header`).
       */
      readonly parsed: ParsedDicom;
    }
  | { readonly kind: 'need-more'; readonly atLeast: number }
  | { readonly kind: 'not-dicom'; readonly reason: string }
  | {
      readonly kind: 'malformed';
      readonly code: string;
      readonly message: string;
      readonly offset: number;
    };

/** The attributes headerOf reads (dataset and File Meta Information), for header-only parses. */
export const headerTags: ReadonlySet<number> = new Set([
  Tag.MediaStorageSopClassUid,
  Tag.MediaStorageSopInstanceUid,
  Tag.TransferSyntaxUid,
  Tag.SpecificCharacterSet,
  Tag.SopClassUid,
  Tag.SopInstanceUid,
  Tag.StudyDate,
  Tag.StudyTime,
  Tag.AccessionNumber,
  Tag.Modality,
  Tag.StudyDescription,
  Tag.SeriesDescription,
  Tag.PatientName,
  Tag.PatientId,
  Tag.PatientBirthDate,
  Tag.PatientSex,
  Tag.StudyInstanceUid,
  Tag.SeriesInstanceUid,
  Tag.StudyId,
  Tag.SeriesNumber,
  Tag.InstanceNumber,
  Tag.NumberOfFrames,
]);

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

// Plain functions rather than closures inside headerOf: it runs once per file of a scan.
function textOf(dataset: DicomDataset, tag: number): string {
  return getText(dataset, tag) ?? '';
}

function metaTextOf(parsed: ParsedDicom, tag: number): string | undefined {
  return parsed.meta ? getText(parsed.meta, tag) : undefined;
}

export function headerOf(parsed: ParsedDicom): InstanceHeader {
  const ds = parsed.dataset;
  const metaSopInstanceUid = metaTextOf(parsed, Tag.MediaStorageSopInstanceUid);
  const metaSopClassUid = metaTextOf(parsed, Tag.MediaStorageSopClassUid);
  const header: Mutable<InstanceHeader> = {
    sopClassUid: textOf(ds, Tag.SopClassUid) || (metaSopClassUid ?? ''),
    sopInstanceUid: textOf(ds, Tag.SopInstanceUid) || (metaSopInstanceUid ?? ''),
    studyInstanceUid: textOf(ds, Tag.StudyInstanceUid),
    seriesInstanceUid: textOf(ds, Tag.SeriesInstanceUid),
    transferSyntaxUid: parsed.transferSyntaxUid,
    patientId: textOf(ds, Tag.PatientId),
    patientName: textOf(ds, Tag.PatientName),
    patientBirthDate: textOf(ds, Tag.PatientBirthDate),
    patientSex: textOf(ds, Tag.PatientSex),
    modality: textOf(ds, Tag.Modality),
    studyDate: textOf(ds, Tag.StudyDate),
    studyTime: textOf(ds, Tag.StudyTime),
    studyDescription: textOf(ds, Tag.StudyDescription),
    studyId: textOf(ds, Tag.StudyId),
    seriesDescription: textOf(ds, Tag.SeriesDescription),
    accessionNumber: textOf(ds, Tag.AccessionNumber),
    specificCharacterSet: getTexts(ds, Tag.SpecificCharacterSet),
    hasPixelData: parsed.pixelData !== undefined,
    part10: parsed.preamble && parsed.meta !== undefined,
  };
  // Optional fields are absent, not undefined, when the file has no value.
  const seriesNumber = getInteger(ds, Tag.SeriesNumber);
  if (seriesNumber !== undefined) header.seriesNumber = seriesNumber;
  const instanceNumber = getInteger(ds, Tag.InstanceNumber);
  if (instanceNumber !== undefined) header.instanceNumber = instanceNumber;
  const numberOfFrames = getInteger(ds, Tag.NumberOfFrames);
  if (numberOfFrames !== undefined) header.numberOfFrames = numberOfFrames;
  if (metaSopInstanceUid !== undefined) header.metaSopInstanceUid = metaSopInstanceUid;
  if (metaSopClassUid !== undefined) header.metaSopClassUid = metaSopClassUid;
  return header;
}

export interface ReadHeaderOptions {
  /**
   * Size of the whole file: whether a short buffer is the whole file (then running out is
   * 'malformed'/truncated) or just its first bytes ('need-more').
   */
  readonly fileSize?: number;
  /**
   * Keep only the attributes of InstanceHeader in `parsed` (headerTags): every element is still
   * read and checked and Pixel Data located, but nothing is built for the others. For callers
   * that use the header alone; rules that look at the whole dataset need the default.
   */
  readonly headerOnly?: boolean;
}

const parseUntilPixelData: ParseOptions = { untilPixelData: true };
const parseHeaderOnly: ParseOptions = { untilPixelData: true, keepTags: headerTags };

/** Parses the header from the start of a file (stops at Pixel Data). */
export function readInstanceHeader(bytes: Uint8Array, options: ReadHeaderOptions = {}): HeaderRead {
  try {
    const base = options.headerOnly ? parseHeaderOnly : parseUntilPixelData;
    const parsed = parseDicom(
      bytes,
      options.fileSize !== undefined ? { ...base, fileSize: options.fileSize } : base,
    );
    const header = headerOf(parsed);
    if (!parsed.meta && !header.sopClassUid && !header.studyInstanceUid && !header.sopInstanceUid) {
      // Bytes that happened to look like an element header: a raw dataset must identify itself.
      return { kind: 'not-dicom', reason: 'no DICOM preamble and no identifying attributes' };
    }
    const pixel = parsed.pixelData;
    const deflated = parsed.transferSyntaxUid === TransferSyntax.DeflatedExplicitVrLittleEndian;
    return {
      kind: 'dicom',
      header,
      headerBytes: parsed.headerBytes,
      parsed,
      ...(pixel && !pixel.undefinedLength && !deflated
        ? { pixelDataEnd: pixel.valueOffset + pixel.length }
        : {}),
    };
  } catch (error) {
    if (error instanceof DicomParseError) {
      if (error.code === 'need-more') return { kind: 'need-more', atLeast: error.atLeast };
      if (error.code === 'not-dicom') return { kind: 'not-dicom', reason: error.message };
      return { kind: 'malformed', code: error.code, message: error.message, offset: error.offset };
    }
    if (error instanceof RangeError) {
      // A DataView read past the end: a length field lied.
      return { kind: 'malformed', code: 'malformed', message: error.message, offset: 0 };
    }
    throw error;
  }
}
