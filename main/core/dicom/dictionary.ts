import { dictionaryData } from './dictionary.generated.ts';

/**
 * The attributes Ferry reads by name, with their VR (PS3.6 Table 6-1). Implicit VR transfer
 * syntaxes do not carry a VR, so the parser looks it up here; an attribute not listed is read
 * as UN (opaque bytes), except that an undefined length or a value that starts with an Item tag
 * marks a sequence (PS3.5 7.5).
 */
export const Tag = {
  FileMetaInformationGroupLength: 0x00020000,
  MediaStorageSopClassUid: 0x00020002,
  MediaStorageSopInstanceUid: 0x00020003,
  TransferSyntaxUid: 0x00020010,
  ImplementationClassUid: 0x00020012,
  ImplementationVersionName: 0x00020013,
  SourceApplicationEntityTitle: 0x00020016,

  FileSetId: 0x00041130,
  FirstRecordOffset: 0x00041200,
  LastRecordOffset: 0x00041202,
  FileSetConsistencyFlag: 0x00041212,
  DirectoryRecordSequence: 0x00041220,
  NextRecordOffset: 0x00041400,
  RecordInUseFlag: 0x00041410,
  LowerLevelRecordOffset: 0x00041420,
  DirectoryRecordType: 0x00041430,
  PrivateRecordUid: 0x00041432,
  ReferencedFileId: 0x00041500,
  ReferencedSopClassUidInFile: 0x00041510,
  ReferencedSopInstanceUidInFile: 0x00041511,
  ReferencedTransferSyntaxUidInFile: 0x00041512,

  SpecificCharacterSet: 0x00080005,
  ImageType: 0x00080008,
  InstanceCreationDate: 0x00080012,
  SopClassUid: 0x00080016,
  SopInstanceUid: 0x00080018,
  StudyDate: 0x00080020,
  SeriesDate: 0x00080021,
  ContentDate: 0x00080023,
  StudyTime: 0x00080030,
  SeriesTime: 0x00080031,
  AccessionNumber: 0x00080050,
  Modality: 0x00080060,
  ModalitiesInStudy: 0x00080061,
  Manufacturer: 0x00080070,
  InstitutionName: 0x00080080,
  ReferringPhysicianName: 0x00080090,
  StudyDescription: 0x00081030,
  SeriesDescription: 0x0008103e,
  ManufacturerModelName: 0x00081090,
  ReferencedSopClassUid: 0x00081150,
  ReferencedSopInstanceUid: 0x00081155,

  PatientName: 0x00100010,
  PatientId: 0x00100020,
  IssuerOfPatientId: 0x00100021,
  PatientBirthDate: 0x00100030,
  PatientSex: 0x00100040,

  BodyPartExamined: 0x00180015,

  StudyInstanceUid: 0x0020000d,
  SeriesInstanceUid: 0x0020000e,
  StudyId: 0x00200010,
  SeriesNumber: 0x00200011,
  InstanceNumber: 0x00200013,
  NumberOfStudyRelatedInstances: 0x00201208,
  NumberOfSeriesRelatedInstances: 0x00201209,

  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  BurnedInAnnotation: 0x00280301,

  FloatPixelData: 0x7fe00008,
  DoubleFloatPixelData: 0x7fe00009,
  PixelData: 0x7fe00010,

  Item: 0xfffee000,
  ItemDelimitationItem: 0xfffee00d,
  SequenceDelimitationItem: 0xfffee0dd,
} as const;

export interface AttributeDefinition {
  readonly tag: number;
  readonly vr: string;
  readonly keyword: string;
  readonly vm: string;
  readonly retired: boolean;
}

interface RangeDefinition extends AttributeDefinition {
  readonly groupMask: number;
  readonly elementMask: number;
  readonly oddGroups: boolean;
}

/**
 * The generated table is searched where it stands: its lines are sorted by tag, so a binary
 * search over the text finds a line in a dozen steps, and a line is parsed when it is first
 * looked up. A run looks up a few hundred of the table's ~5,000 attributes; parsing them all,
 * or indexing them, took milliseconds of every process's start-up.
 */
let ranges: readonly RangeDefinition[] | undefined;
/** Every tag looked up so far: its definition, or null when the table has none. */
const resolved = new Map<number, AttributeDefinition | null>();
/** Private and unknown tags are many on some media: past this, lookups are not kept. */
const resolvedLimit = 65_536;

function definitionOf(line: string): AttributeDefinition {
  const [tagHex = '', vr = 'UN', keyword = '', vm = '1', retired] = line.split('|');
  return { tag: Number.parseInt(tagHex, 16) >>> 0, vr, keyword, vm, retired: retired === 'R' };
}

/** The table's line for `tag` (a range's own line included), by binary search of the text. */
function lineOf(tag: number): string | undefined {
  // Offsets of line starts: every line starting in [low, high) may still hold the tag.
  let low = 0;
  let high = dictionaryData.length;
  while (low < high) {
    // The line holding the middle offset: it starts after the last newline before it.
    const lineStart = dictionaryData.lastIndexOf('\n', ((low + high) >>> 1) - 1) + 1;
    let end = dictionaryData.indexOf('\n', lineStart);
    if (end === -1) end = dictionaryData.length;
    const found = Number.parseInt(dictionaryData.slice(lineStart, lineStart + 8), 16);
    if (found === tag) return dictionaryData.slice(lineStart, end);
    if (found < tag) low = end + 1;
    else high = lineStart;
  }
  return undefined;
}

/** The repeating-group lines, such as (6000-60FF,3000): found once, by their range field. */
function rangeDefinitions(): readonly RangeDefinition[] {
  if (ranges) return ranges;
  const found: RangeDefinition[] = [];
  // A range line ends with the range's last tag and its groups' parity (tag|...|R|60ff3000e).
  const rangeEnd = /\|([0-9a-f]{8})([eo]?)(?:\n|$)/gu;
  for (let match = rangeEnd.exec(dictionaryData); match; match = rangeEnd.exec(dictionaryData)) {
    const start = dictionaryData.lastIndexOf('\n', match.index) + 1;
    const definition = definitionOf(dictionaryData.slice(start, match.index));
    const endTag = Number.parseInt(match[1]!, 16) >>> 0;
    // The bits that vary across the range are masked out when matching.
    const groupMask = 0xffff & ~((endTag >>> 16) ^ (definition.tag >>> 16));
    const elementMask = 0xffff & ~((endTag & 0xffff) ^ (definition.tag & 0xffff));
    found.push({ ...definition, groupMask, elementMask, oddGroups: match[2] === 'o' });
  }
  ranges = found;
  return ranges;
}

/** The repeating-group range that holds `tag` (50xx curves, 60xx overlays...). */
function rangeDefinition(tag: number): AttributeDefinition | undefined {
  const group = tag >>> 16;
  const element = tag & 0xffff;
  for (const range of rangeDefinitions()) {
    if ((group & range.groupMask) !== range.tag >>> 16) continue;
    if ((element & range.elementMask) !== (range.tag & 0xffff)) continue;
    if (!range.oddGroups && group % 2 === 1) continue;
    return range;
  }
  return undefined;
}

/** The PS3.6 definition of a standard attribute, including repeating groups (50xx, 60xx). */
export function lookupAttribute(tag: number): AttributeDefinition | undefined {
  const key = tag >>> 0;
  const known = resolved.get(key);
  if (known !== undefined) return known ?? undefined;
  // A range's own line, such as (6000,3000), is matched as the range, like the rest of it.
  const line = lineOf(key);
  const exact = line !== undefined && line.endsWith('|') ? definitionOf(line) : undefined;
  const definition = exact ?? rangeDefinition(key);
  if (resolved.size < resolvedLimit) resolved.set(key, definition ?? null);
  return definition;
}

/** PS3.6 keyword as words: "PatientBirthDate" -> "Patient Birth Date". */
export function attributeName(tag: number): string {
  const definition = lookupAttribute(tag);
  if (!definition) return (tag >>> 16) % 2 === 1 ? 'Private attribute' : 'Unknown attribute';
  return definition.keyword
    .replace(/([a-z0-9])([A-Z])/gu, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/gu, '$1 $2');
}

/** The VR of a tag for implicit VR reading; group lengths are UL (PS3.5 7.2). */
export function vrOf(tag: number): string {
  if ((tag & 0xffff) === 0) return 'UL';
  // Private creator elements (gggg,0010-00FF) are LO (PS3.5 7.8.1).
  if ((tag >>> 16) % 2 === 1 && (tag & 0xffff) >= 0x10 && (tag & 0xffff) <= 0xff) return 'LO';
  return lookupAttribute(tag)?.vr ?? 'UN';
}

/** VRs whose explicit encoding has 2 reserved bytes and a 32-bit length (PS3.5 Table 7.1-1). */
export const longLengthVrs: ReadonlySet<string> = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'SQ',
  'SV',
  'UC',
  'UN',
  'UR',
  'UT',
  'UV',
]);

/** Every VR PS3.5 6.2 defines. */
export const knownVrs: ReadonlySet<string> = new Set([
  'AE',
  'AS',
  'AT',
  'CS',
  'DA',
  'DS',
  'DT',
  'FD',
  'FL',
  'IS',
  'LO',
  'LT',
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'PN',
  'SH',
  'SL',
  'SQ',
  'SS',
  'ST',
  'SV',
  'TM',
  'UC',
  'UI',
  'UL',
  'UN',
  'UR',
  'US',
  'UT',
  'UV',
]);

/** Transfer syntaxes (PS3.5 Section 10 and Annex A). */
export const TransferSyntax = {
  ImplicitVrLittleEndian: '1.2.840.10008.1.2',
  ExplicitVrLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVrLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVrBigEndian: '1.2.840.10008.1.2.2',
} as const;

export function formatTag(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}
