import { Tag, TransferSyntax } from './dictionary.ts';
import { DicomParseError, parseDicom, type ParsedDicom } from './parse.ts';
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
      /** The parsed header itself, so validation runs its rules without reading the file again. */
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

export function headerOf(parsed: ParsedDicom): InstanceHeader {
  const ds = parsed.dataset;
  const text = (tag: number): string => getText(ds, tag) ?? '';
  const metaText = (tag: number): string | undefined =>
    parsed.meta ? getText(parsed.meta, tag) : undefined;
  const header: InstanceHeader = {
    sopClassUid: text(Tag.SopClassUid) || (metaText(Tag.MediaStorageSopClassUid) ?? ''),
    sopInstanceUid: text(Tag.SopInstanceUid) || (metaText(Tag.MediaStorageSopInstanceUid) ?? ''),
    studyInstanceUid: text(Tag.StudyInstanceUid),
    seriesInstanceUid: text(Tag.SeriesInstanceUid),
    transferSyntaxUid: parsed.transferSyntaxUid,
    patientId: text(Tag.PatientId),
    patientName: text(Tag.PatientName),
    patientBirthDate: text(Tag.PatientBirthDate),
    patientSex: text(Tag.PatientSex),
    modality: text(Tag.Modality),
    studyDate: text(Tag.StudyDate),
    studyTime: text(Tag.StudyTime),
    studyDescription: text(Tag.StudyDescription),
    studyId: text(Tag.StudyId),
    seriesDescription: text(Tag.SeriesDescription),
    accessionNumber: text(Tag.AccessionNumber),
    specificCharacterSet: getTexts(ds, Tag.SpecificCharacterSet),
    hasPixelData: parsed.pixelData !== undefined,
    part10: parsed.preamble && parsed.meta !== undefined,
  };
  const seriesNumber = getInteger(ds, Tag.SeriesNumber);
  const instanceNumber = getInteger(ds, Tag.InstanceNumber);
  const numberOfFrames = getInteger(ds, Tag.NumberOfFrames);
  const metaSopInstanceUid = metaText(Tag.MediaStorageSopInstanceUid);
  const metaSopClassUid = metaText(Tag.MediaStorageSopClassUid);
  return {
    ...header,
    ...(seriesNumber !== undefined ? { seriesNumber } : {}),
    ...(instanceNumber !== undefined ? { instanceNumber } : {}),
    ...(numberOfFrames !== undefined ? { numberOfFrames } : {}),
    ...(metaSopInstanceUid !== undefined ? { metaSopInstanceUid } : {}),
    ...(metaSopClassUid !== undefined ? { metaSopClassUid } : {}),
  };
}

/**
 * Parses the header from the start of a file (stops at Pixel Data). `fileSize` tells it whether
 * a short buffer is the whole file (then running out is 'malformed'/truncated) or just the first
 * bytes ('need-more').
 */
export function readInstanceHeader(
  bytes: Uint8Array,
  options: { fileSize?: number } = {},
): HeaderRead {
  try {
    const parsed = parseDicom(bytes, {
      untilPixelData: true,
      ...(options.fileSize !== undefined ? { fileSize: options.fileSize } : {}),
    });
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
