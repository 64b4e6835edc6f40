/**
 * The rules run on one instance's parsed header (read once by the scan, up to Pixel Data):
 * Part 10 file meta (PS3.10 7.1), identifiers and UIDs (PS3.5 9.1), the attributes its IOD
 * requires (PS3.3), values by VR and VM (PS3.5 6.2, PS3.6), pixel data against its description
 * (PS3.3 C.7.6.3, PS3.5 8.1.1), and the privacy risks the preview must show.
 */
import { attributeName, formatTag, Tag, TransferSyntax } from '../dicom/dictionary.ts';
import type { DicomDataset, DicomElement, ParsedDicom } from '../dicom/parse.ts';
import { findingCatalog, type FindingCode } from '../findings.ts';
import { requirementsOf, tagOfKeyword } from './iods.ts';
import { lookupSopClass } from './sop-classes.ts';
import { checkValues, ValueProblems } from './values.ts';

/** One instance's finding before findings of many files are grouped. */
export interface InstanceFinding {
  readonly code: FindingCode;
  readonly detail?: string;
}

/** What the disc-wide rules need to know of an instance, kept after its header is gone. */
export interface InstanceFacts {
  readonly path: string;
  readonly fileSize: number;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly seriesNumber?: number;
  readonly modality: string;
  /** Number of Study/Series Related Instances (0020,1208/1209), Images in Acquisition (0020,1002). */
  readonly studyRelatedInstances?: number;
  readonly seriesRelatedInstances?: number;
  readonly imagesInAcquisition?: number;
  readonly acquisitionNumber?: number;
}

export interface InstanceReport {
  readonly facts: InstanceFacts;
  readonly findings: readonly InstanceFinding[];
}

/** Transfer syntaxes of PS3.5 Annex A and PS3.6 Table A-1, retired ones included. */
const knownTransferSyntaxes: ReadonlySet<string> = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.1.98',
  '1.2.840.10008.1.2.1.99',
  '1.2.840.10008.1.2.2',
  '1.2.840.10008.1.2.5',
  '1.2.840.10008.1.2.6.1',
  '1.2.840.10008.1.2.6.2',
  '1.2.840.10008.1.2.7.1',
  '1.2.840.10008.1.2.7.2',
  '1.2.840.10008.1.2.7.3',
  '1.2.840.10008.1.2.8.1',
  ...[
    50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 66, 70, 80, 81, 90, 91, 92, 93,
    94, 95,
  ].map((n) => `1.2.840.10008.1.2.4.${n}`),
  ...[100, 101, 102, 103, 104, 105, 106].flatMap((n) => [
    `1.2.840.10008.1.2.4.${n}`,
    `1.2.840.10008.1.2.4.${n}.1`,
  ]),
  ...[107, 108, 110, 111, 112, 201, 202, 203, 204, 205].map((n) => `1.2.840.10008.1.2.4.${n}`),
]);

/** Native (uncompressed) encodings, whose pixel data length follows from the description. */
const nativeTransferSyntaxes: ReadonlySet<string> = new Set([
  TransferSyntax.ImplicitVrLittleEndian,
  TransferSyntax.ExplicitVrLittleEndian,
  TransferSyntax.DeflatedExplicitVrLittleEndian,
  TransferSyntax.ExplicitVrBigEndian,
]);

// PS3.10 Table 7.1-1: the Type 1 elements of the File Meta Information.
const metaRequired: readonly number[] = [
  Tag.FileMetaInformationGroupLength,
  0x00020001, // File Meta Information Version
  Tag.MediaStorageSopClassUid,
  Tag.MediaStorageSopInstanceUid,
  Tag.TransferSyntaxUid,
  Tag.ImplementationClassUid,
];

const identifiers: readonly number[] = [
  Tag.SopClassUid,
  Tag.SopInstanceUid,
  Tag.StudyInstanceUid,
  Tag.SeriesInstanceUid,
];

/** IODs whose pictures are often screenshots or scans with names written into them. */
const burnedInProne =
  /^(Secondary Capture|Multi-frame .* Secondary Capture|Ultrasound|Video |VL )/u;

/** Free-text attributes that invite personal details (PS3.15 E.1-1 lists them for removal). */
const commentKeywords = [
  'ImageComments',
  'StudyComments',
  'PatientComments',
  'AdditionalPatientHistory',
  'RequestedProcedureComments',
  'InterpretationText',
];
let commentTags: number[] | undefined;

const burnedInProneByIod = new Map<string, boolean>();
function isBurnedInProne(iod: string): boolean {
  let prone = burnedInProneByIod.get(iod);
  if (prone === undefined) burnedInProneByIod.set(iod, (prone = burnedInProne.test(iod)));
  return prone;
}

const patientIdentityRemoved = 0x00120062;
const deidentificationMethod = 0x00120063;
const deidentificationMethodCodes = 0x00120064;
const imagesInAcquisitionTag = 0x00201002;
const acquisitionNumberTag = 0x00200012;
const perFrameFunctionalGroups = 0x52009230;

/** Error codes from the most fundamental to the most specific. */
const blockingOrder: readonly FindingCode[] = [
  'unknown-transfer-syntax',
  'missing-identifier',
  'pixel-data-missing',
  'pixel-description-invalid',
  'pixel-data-short',
];

function describe(tags: readonly number[]): string {
  return tags.map((tag) => `${attributeName(tag)} ${formatTag(tag)}`).join(', ');
}

/** VRs whose bytes are numbers: a zero byte is a value, not padding. */
const binaryVrs: ReadonlySet<string> = new Set([
  'US',
  'SS',
  'UL',
  'SL',
  'FL',
  'FD',
  'AT',
  'SV',
  'UV',
  'OB',
  'OW',
  'OF',
  'OL',
  'OD',
  'OV',
  'UN',
]);

function isEmpty(dataset: DicomDataset, element: DicomElement): boolean {
  if (element.items) return element.items.length === 0;
  if (element.length === 0) return true;
  if (element.undefinedLength || binaryVrs.has(element.vr)) return false;
  const bytes = dataset.bytes;
  const end = Math.min(bytes.length, element.valueOffset + element.length);
  for (let i = element.valueOffset; i < end; i++) {
    if (bytes[i] !== 0x20 && bytes[i] !== 0) return false;
  }
  return true;
}

/**
 * A UI or CS value (default repertoire, PS3.5 6.1.2.2): read as bytes, no character set
 * decoding, padding trimmed. Every value this module compares is one of those.
 */
function textOf(dataset: DicomDataset | undefined, tag: number): string {
  const element = dataset?.elements.get(tag);
  if (!dataset || !element || element.items || element.undefinedLength) return '';
  const bytes = dataset.bytes;
  let start = element.valueOffset;
  let end = Math.min(bytes.length, start + element.length);
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
  while (start < end && bytes[start] === 0x20) start++;
  return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
}

/**
 * An integer from US, SS, UL, SL or IS (first value), read from the bytes: the rules read a
 * dozen per instance, and decoding text for each would cost more than all the other checks.
 */
function integerOf(dataset: DicomDataset, tag: number): number | undefined {
  const element = dataset.elements.get(tag);
  if (!element || element.items || element.undefinedLength) return undefined;
  const bytes = dataset.bytes;
  const at = element.valueOffset;
  if (at + element.length > bytes.length) return undefined;
  const le = dataset.littleEndian;
  switch (element.vr) {
    case 'US':
    case 'SS': {
      if (element.length < 2) return undefined;
      const value = le ? bytes[at]! | (bytes[at + 1]! << 8) : (bytes[at]! << 8) | bytes[at + 1]!;
      return element.vr === 'SS' && value >= 0x8000 ? value - 0x10000 : value;
    }
    case 'UL':
    case 'SL': {
      if (element.length < 4) return undefined;
      const value = le
        ? (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>>
          0
        : ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>>
          0;
      return element.vr === 'SL' ? value | 0 : value;
    }
    default: {
      const first = textOf(dataset, tag).split('\\')[0]!.trim();
      return /^[+-]?\d+$/u.test(first) ? Number.parseInt(first, 10) : undefined;
    }
  }
}

/** The tags of `tags` that `dataset` lacks or holds empty (a loop: this runs per instance). */
function absentOrEmpty(dataset: DicomDataset, tags: readonly number[]): number[] {
  const result: number[] = [];
  for (const tag of tags) {
    const element = dataset.elements.get(tag);
    if (!element || isEmpty(dataset, element)) result.push(tag);
  }
  return result;
}

/** Runs every instance rule over a parsed header. `relPath` is only carried into the facts. */
export function checkInstance(
  relPath: string,
  parsed: ParsedDicom,
  fileSize: number,
): InstanceReport {
  const ds = parsed.dataset;
  const findings: InstanceFinding[] = [];
  const add = (code: FindingCode, detail?: string): void => {
    findings.push(detail !== undefined ? { code, detail } : { code });
  };
  const text = (tag: number): string => textOf(ds, tag);
  const datasetSopClass = text(Tag.SopClassUid);
  const datasetSopInstance = text(Tag.SopInstanceUid);

  // Part 10 (PS3.10 7.1): complete meta, its UIDs equal to the dataset's, a known encoding.
  const meta = parsed.meta;
  if (meta) {
    const absent = absentOrEmpty(meta, metaRequired);
    if (absent.length > 0) add('file-meta-incomplete', `absent or empty: ${describe(absent)}`);
    const differ: string[] = [];
    const metaClass = textOf(meta, Tag.MediaStorageSopClassUid);
    const metaInstance = textOf(meta, Tag.MediaStorageSopInstanceUid);
    if (metaClass && datasetSopClass && metaClass !== datasetSopClass) {
      differ.push('Media Storage SOP Class UID differs from SOP Class UID');
    }
    if (metaInstance && datasetSopInstance && metaInstance !== datasetSopInstance) {
      differ.push('Media Storage SOP Instance UID differs from SOP Instance UID');
    }
    if (differ.length > 0) add('file-meta-mismatch', differ.join('; '));
  }
  const transferSyntax = parsed.transferSyntaxUid;
  if (!parsed.transferSyntaxGuessed && !knownTransferSyntaxes.has(transferSyntax)) {
    add('unknown-transfer-syntax', `Transfer Syntax UID ${transferSyntax.slice(0, 64)}`);
  }

  // Identifiers: what files the instance under a study and series (PS3.3 C.12.1, C.7.2.1, C.7.3.1).
  const missingIds = absentOrEmpty(ds, identifiers);
  if (missingIds.length > 0) add('missing-identifier', `absent or empty: ${describe(missingIds)}`);

  // The IOD's required attributes.
  const sopClassUid = datasetSopClass || textOf(meta, Tag.MediaStorageSopClassUid);
  const sopClass = sopClassUid ? lookupSopClass(sopClassUid) : undefined;
  if (sopClassUid && !sopClass) {
    add(
      'unknown-sop-class',
      `SOP Class UID ${sopClassUid.slice(0, 64)} is not a storage SOP class of PS3.4`,
    );
  }
  const iod = requirementsOf(sopClass?.iod ?? '');
  const type1Absent: number[] = [];
  const type1Empty: number[] = [];
  for (const tag of iod.type1) {
    if (missingIds.includes(tag)) continue;
    if (tag === Tag.PixelData) continue;
    const element = ds.elements.get(tag);
    if (!element) type1Absent.push(tag);
    else if (isEmpty(ds, element)) type1Empty.push(tag);
  }
  // PS3.3 C.7.1.1: a de-identified patient says how (Type 1C on Patient Identity Removed YES).
  if (
    text(patientIdentityRemoved).toUpperCase() === 'YES' &&
    !ds.elements.has(deidentificationMethod) &&
    !ds.elements.has(deidentificationMethodCodes)
  ) {
    type1Absent.push(deidentificationMethod);
  }
  const type2Absent: number[] = [];
  for (const tag of iod.type2) if (!ds.elements.has(tag)) type2Absent.push(tag);
  if (type1Absent.length > 0 || type1Empty.length > 0) {
    const parts: string[] = [];
    if (type1Absent.length > 0) parts.push(`Type 1 absent: ${describe(type1Absent)}`);
    if (type1Empty.length > 0) parts.push(`Type 1 empty: ${describe(type1Empty)}`);
    add('required-attribute-missing', parts.join('; '));
  }
  if (type2Absent.length > 0)
    add('type2-attribute-missing', `Type 2 absent: ${describe(type2Absent)}`);

  // Values by VR, VM and length, every element and item; element order.
  const explicitVr = transferSyntax !== TransferSyntax.ImplicitVrLittleEndian;
  const problems = new ValueProblems();
  const context = { explicitVr, problems, outOfOrder: false };
  checkValues(ds, context);
  if (meta) checkValues(meta, context);
  // PS3.3 C.7.6.16.2: one Per-frame Functional Groups item per frame.
  const perFrame = ds.elements.get(perFrameFunctionalGroups)?.items;
  const frameCount = integerOf(ds, Tag.NumberOfFrames);
  if (perFrame && frameCount !== undefined && perFrame.length !== frameCount) {
    problems.add(
      'value',
      perFrameFunctionalGroups,
      `${perFrame.length} item(s) for ${frameCount} frame(s) (PS3.3 C.7.6.16.2)`,
    );
  }
  if (problems.uid) add('invalid-uid', [...problems.uid].join('; '));
  if (problems.value) add('invalid-value', [...problems.value].join('; '));
  if (context.outOfOrder)
    add('element-order', 'data elements not in ascending tag order (PS3.5 7.1)');
  if (parsed.anomalies.length > 0) add('encoding-anomaly', parsed.anomalies.slice(0, 4).join('; '));

  // Pixel data against rows, columns, frames, samples and bits (PS3.3 C.7.6.3).
  checkPixels(parsed, iod.image, transferSyntax, add);

  // Privacy risks for the preview.
  const iodName = sopClass?.iod ?? '';
  const burnedIn = text(Tag.BurnedInAnnotation).toUpperCase();
  if (burnedIn === 'YES') add('burned-in-text-likely', 'Burned In Annotation (0028,0301) is YES');
  else if (burnedIn !== 'NO' && isBurnedInProne(iodName)) {
    add('burned-in-text-likely', `${iodName} without Burned In Annotation (0028,0301) NO`);
  }
  if (iod.family === 'document') add('document-attached', iodName);
  if (iod.family === 'sr') add('free-text-report', iodName);
  commentTags ??= commentKeywords.map(tagOfKeyword);
  const comments: number[] = [];
  for (const tag of commentTags) {
    const element = ds.elements.get(tag);
    if (element !== undefined && !isEmpty(ds, element)) comments.push(tag);
  }
  if (comments.length > 0) add('free-text-comments', describe(comments));

  // A file that will not be sent reports why, once: its most fundamental error, naming the
  // others in the detail, and not the lesser faults that follow from it.
  const blocking = findings
    .filter((finding) => findingCatalog[finding.code].severity === 'error')
    .sort((a, b) => blockingOrder.indexOf(a.code) - blockingOrder.indexOf(b.code));
  const root = blocking[0];
  const reported: InstanceFinding[] = !root
    ? findings
    : [
        blocking.length === 1
          ? root
          : {
              code: root.code,
              detail: `${root.detail ?? ''} (also: ${blocking
                .slice(1)
                .map((finding) => finding.code)
                .join(', ')})`,
            },
      ];
  const seriesNumber = integerOf(ds, Tag.SeriesNumber);
  const studyRelated = integerOf(ds, Tag.NumberOfStudyRelatedInstances);
  const seriesRelated = integerOf(ds, Tag.NumberOfSeriesRelatedInstances);
  const imagesInAcquisition = integerOf(ds, imagesInAcquisitionTag);
  const acquisitionNumber = integerOf(ds, acquisitionNumberTag);
  const facts: InstanceFacts = {
    path: relPath,
    fileSize,
    sopInstanceUid: datasetSopInstance || textOf(meta, Tag.MediaStorageSopInstanceUid),
    studyInstanceUid: text(Tag.StudyInstanceUid),
    seriesInstanceUid: text(Tag.SeriesInstanceUid),
    modality: text(Tag.Modality),
    seriesNumber,
    studyRelatedInstances: studyRelated,
    seriesRelatedInstances: seriesRelated,
    imagesInAcquisition,
    acquisitionNumber,
  };
  return {
    facts,
    findings: reported,
  };
}

function checkPixels(
  parsed: ParsedDicom,
  imageIod: boolean,
  transferSyntax: string,
  add: (code: FindingCode, detail?: string) => void,
): void {
  const ds = parsed.dataset;
  const pixel = parsed.pixelData;
  if (!pixel) {
    if (imageIod) add('pixel-data-missing', 'no Pixel Data (7FE0,0010) before the end of the file');
    return;
  }
  const rows = integerOf(ds, Tag.Rows);
  const columns = integerOf(ds, Tag.Columns);
  const bitsAllocated = integerOf(ds, Tag.BitsAllocated);
  const bitsStored = integerOf(ds, Tag.BitsStored);
  const highBit = integerOf(ds, Tag.HighBit);
  const samples = integerOf(ds, Tag.SamplesPerPixel) ?? 1;
  const frames = integerOf(ds, Tag.NumberOfFrames) ?? 1;
  const impossible: string[] = [];
  if (pixel.tag === Tag.PixelData) {
    if (rows === undefined || rows === 0) impossible.push('Rows absent or zero');
    if (columns === undefined || columns === 0) impossible.push('Columns absent or zero');
    if (bitsAllocated === undefined) impossible.push('Bits Allocated absent');
    else if (
      bitsAllocated !== 1 &&
      (bitsAllocated === 0 || bitsAllocated % 8 !== 0 || bitsAllocated > 64)
    ) {
      impossible.push(`Bits Allocated ${bitsAllocated}`);
    }
    if (bitsStored !== undefined && bitsAllocated !== undefined) {
      if (bitsStored === 0 || bitsStored > bitsAllocated) {
        impossible.push(`Bits Stored ${bitsStored} with Bits Allocated ${bitsAllocated}`);
      }
      if (highBit !== undefined && highBit >= bitsAllocated) {
        impossible.push(`High Bit ${highBit} with Bits Allocated ${bitsAllocated}`);
      }
    }
    if (samples < 1 || samples > 4) impossible.push(`Samples per Pixel ${samples}`);
    if (frames < 1) impossible.push(`Number of Frames ${frames}`);
  }
  if (impossible.length > 0) {
    add('pixel-description-invalid', impossible.join('; '));
    return;
  }
  if (pixel.undefinedLength || !nativeTransferSyntaxes.has(transferSyntax)) return;
  if (
    pixel.tag !== Tag.PixelData ||
    rows === undefined ||
    columns === undefined ||
    !bitsAllocated
  ) {
    return;
  }
  // YBR_FULL_422 and YBR_PARTIAL_422 keep two samples per pixel natively (PS3.3 C.7.6.3.1.2).
  const photometric = textOf(ds, Tag.PhotometricInterpretation).toUpperCase();
  const samplesStored = samples === 3 && photometric.endsWith('_422') ? 2 : samples;
  const bits = rows * columns * frames * samplesStored * bitsAllocated;
  const expected = Math.ceil(bits / 8);
  const actual = pixel.length;
  const description = `${rows} x ${columns} x ${frames} frame(s) x ${samplesStored} sample(s) x ${bitsAllocated} bits`;
  if (actual < expected) {
    add('pixel-data-short', `Pixel Data has ${actual} bytes, ${description} needs ${expected}`);
  } else if (actual > expected + (expected % 2)) {
    // One byte of padding to an even length is the rule (PS3.5 8.1.1), not an excess.
    add('pixel-data-long', `Pixel Data has ${actual} bytes, ${description} needs ${expected}`);
  }
}
