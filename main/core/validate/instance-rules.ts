/**
 * The rules run on one instance's parsed header (read once by the scan, up to Pixel Data):
 * Part 10 file meta (PS3.10 7.1), identifiers and UIDs (PS3.5 9.1), the attributes its IOD
 * requires (PS3.3), values by VR and VM (PS3.5 6.2, PS3.6), pixel data against its description
 * (PS3.3 C.7.6.3, PS3.5 8.1.1), and the privacy risks the preview must show.
 */
import { attributeName, formatTag, Tag, TransferSyntax } from '../dicom/dictionary.ts';
import type { DicomDataset, DicomElement, ParsedDicom } from '../dicom/parse.ts';
import { findingCatalog, type FindingCode } from '../findings.ts';
import {
  photometricSamples,
  pixelValueKeywords,
  requirementsOf,
  tagOfKeyword,
  type CompiledCondition,
  type CompiledEnumeration,
  type ResolvedIod,
} from './iods.ts';
import { lookupSopClass } from './sop-classes.ts';
import { checkSrContent } from './sr-rules.ts';
import { InstanceMemo, sameValue, trim, trimmed } from './byte-memo.ts';
import type { HeaderMemo } from './header-memo.ts';
import {
  checkValues,
  isEmptyValue,
  ValueProblems,
  type RoleTable,
  type ValueCheckContext,
} from './values.ts';

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

/** The last transfer syntax looked up and its verdict: a disc mostly repeats one. */
let lastTransferSyntax = '';
let lastTransferSyntaxKnown = false;
function isKnownTransferSyntax(uid: string): boolean {
  if (uid !== lastTransferSyntax) {
    lastTransferSyntax = uid;
    lastTransferSyntaxKnown = knownTransferSyntaxes.has(uid);
  }
  return lastTransferSyntaxKnown;
}

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

/** The meta's required elements as a role table for the pass over the meta (values.ts). */
const metaRoles: RoleTable = { index: 1023, type1: metaRequired, type2: [] };

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

/** Per IOD name: the burned-in detail when the IOD is prone to it, '' when it is not. */
const burnedInDetailByIod = new Map<string, string>();
function burnedInDetail(iod: string): string {
  let detail = burnedInDetailByIod.get(iod);
  if (detail === undefined) {
    detail = burnedInProne.test(iod) ? `${iod} without Burned In Annotation (0028,0301) NO` : '';
    burnedInDetailByIod.set(iod, detail);
  }
  return detail;
}

const imagesInAcquisitionTag = 0x00201002;
const planarConfiguration = 0x00280006;
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

/**
 * An integer from US, SS, UL, SL or IS (first value), read from the bytes: the rules read a
 * dozen per instance, and decoding text for each would cost more than all the other checks.
 */
function integerOf(dataset: DicomDataset, tag: number): number | undefined {
  return integerOfElement(dataset, dataset.elements.get(tag));
}

function integerOfElement(
  dataset: DicomDataset,
  element: DicomElement | undefined,
): number | undefined {
  if (!element || element.items || element.undefinedLength) return undefined;
  const bytes = dataset.bytes;
  const at = element.valueOffset;
  const end = at + element.length;
  if (end > bytes.length) return undefined;
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
      // IS (and text read as a number): [spaces][+-]digits[spaces], first value only.
      let i = at;
      while (i < end && bytes[i] === 0x20) i++;
      let sign = 1;
      if (bytes[i] === 0x2b || bytes[i] === 0x2d) sign = bytes[i++] === 0x2d ? -1 : 1;
      let value = 0;
      let digits = 0;
      while (i < end && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) {
        value = value * 10 + (bytes[i++]! - 0x30);
        digits++;
      }
      while (i < end && (bytes[i] === 0x20 || bytes[i] === 0)) i++;
      if (digits === 0 || digits > 15 || (i < end && bytes[i] !== 0x5c)) return undefined;
      return sign * value;
    }
  }
}

/** The tags of `tags` that `dataset` lacks or holds empty (a loop: this runs per instance). */
function absentOrEmpty(dataset: DicomDataset, tags: readonly number[]): number[] | undefined {
  let result: number[] | undefined;
  for (const tag of tags) {
    const element = dataset.elements.get(tag);
    if (!element || isEmptyValue(dataset, element)) (result ??= []).push(tag);
  }
  return result;
}

function addTo(findings: InstanceFinding[], code: FindingCode, detail?: string): void {
  findings.push(detail !== undefined ? { code, detail } : { code });
}

/**
 * Runs every instance rule over a parsed header. `relPath` is only carried into the facts;
 * `texts` remembers repeated values across the instances of one run (byte-memo.ts), and the
 * last header checked in full: a header that repeats it but for values no rule reads beyond
 * their own checks gets its findings without running every rule again (header-memo.ts).
 * `parsed` is the whole dataset, or (with `whole`, which parses the whole dataset of the same
 * bytes) the scan's header-only parse: the whole dataset is then parsed only when the rules run.
 */
export function checkInstance(
  relPath: string,
  parsed: ParsedDicom,
  fileSize: number,
  texts: InstanceMemo = new InstanceMemo(),
  whole?: () => ParsedDicom,
): InstanceReport {
  const meta = parsed.meta;
  // Different in every instance, and compared by a rule: the memo needs the verdict either way.
  const sopInstanceUidsAgree = meta
    ? sameValue(meta, Tag.MediaStorageSopInstanceUid, parsed.dataset, Tag.SopInstanceUid)
    : undefined;
  const headers = texts.headers(
    texts.text(parsed.dataset, Tag.SopClassUid) || texts.text(meta, Tag.MediaStorageSopClassUid),
  );
  const reused = headers.reuse(parsed, sopInstanceUidsAgree);
  const complete = reused === undefined && whole !== undefined ? whole() : parsed;
  const findings = reused ?? checkHeader(complete, texts, headers, sopInstanceUidsAgree);
  const ds = complete.dataset;
  const facts: InstanceFacts = {
    path: relPath,
    fileSize,
    sopInstanceUid:
      texts.once(ds, Tag.SopInstanceUid) || texts.once(meta, Tag.MediaStorageSopInstanceUid),
    studyInstanceUid: texts.text(ds, Tag.StudyInstanceUid),
    seriesInstanceUid: texts.text(ds, Tag.SeriesInstanceUid),
    modality: texts.text(ds, Tag.Modality),
    seriesNumber: integerOf(ds, Tag.SeriesNumber),
    // Counts a header-only parse does not keep: on a reuse, where the memo found them.
    studyRelatedInstances: countOf(ds, reused, headers, Tag.NumberOfStudyRelatedInstances),
    seriesRelatedInstances: countOf(ds, reused, headers, Tag.NumberOfSeriesRelatedInstances),
    imagesInAcquisition: countOf(ds, reused, headers, imagesInAcquisitionTag),
    acquisitionNumber: countOf(ds, reused, headers, acquisitionNumberTag),
  };
  return { facts, findings };
}

function countOf(
  ds: DicomDataset,
  reused: readonly InstanceFinding[] | undefined,
  headers: HeaderMemo,
  tag: number,
): number | undefined {
  return reused === undefined
    ? integerOf(ds, tag)
    : integerOfElement(ds, headers.plainElement(tag));
}

/** Every rule over one header; the result is remembered for the headers that repeat it. */
function checkHeader(
  parsed: ParsedDicom,
  texts: InstanceMemo,
  headers: HeaderMemo,
  sopInstanceUidsAgree: boolean | undefined,
): readonly InstanceFinding[] {
  const ds = parsed.dataset;
  const findings: InstanceFinding[] = [];

  const transferSyntax = parsed.transferSyntaxUid;
  const explicitVr = transferSyntax !== TransferSyntax.ImplicitVrLittleEndian;
  const problems = new ValueProblems();
  // Every field set here, so that the context keeps one shape through the passes.
  const context: ValueCheckContext = {
    explicitVr,
    problems,
    uidOnly: false,
    outOfOrder: false,
    nonAsciiWithoutCharset: false,
    passed: texts.passed,
    type1Present: 0,
    type2Present: 0,
  };

  // Part 10 (PS3.10 7.1): complete meta, its UIDs equal to the dataset's, a known encoding.
  const meta = parsed.meta;
  if (meta) {
    // One pass over the meta: its values, and its required elements counted.
    checkValues(meta, context, metaRoles);
    const absent =
      context.type1Present === metaRequired.length ? undefined : absentOrEmpty(meta, metaRequired);
    if (absent) addTo(findings, 'file-meta-incomplete', `absent or empty: ${describe(absent)}`);
    let differ: string[] | undefined;
    if (sameValue(meta, Tag.MediaStorageSopClassUid, ds, Tag.SopClassUid) === false) {
      (differ ??= []).push('Media Storage SOP Class UID differs from SOP Class UID');
    }
    if (sopInstanceUidsAgree === false) {
      (differ ??= []).push('Media Storage SOP Instance UID differs from SOP Instance UID');
    }
    if (differ) addTo(findings, 'file-meta-mismatch', differ.join('; '));
  }
  if (!parsed.transferSyntaxGuessed && !isKnownTransferSyntax(transferSyntax)) {
    addTo(
      findings,
      'unknown-transfer-syntax',
      `Transfer Syntax UID ${transferSyntax.slice(0, 64)}`,
    );
  }

  // The IOD's required attributes.
  const sopClassUid =
    texts.text(ds, Tag.SopClassUid) || texts.text(meta, Tag.MediaStorageSopClassUid);
  const sopClass = sopClassUid ? lookupSopClass(sopClassUid) : undefined;
  if (sopClassUid && !sopClass) {
    addTo(
      findings,
      'unknown-sop-class',
      `SOP Class UID ${sopClassUid.slice(0, 64)} is not a storage SOP class of PS3.4`,
    );
  }
  const iod = requirementsOf(sopClass?.iod ?? '');
  // Values by VR, VM and length, every element and item (sequence items against their macros);
  // element order; then what depends on them: conditions, enumerations.
  checkValues(ds, context, iod);
  // Identifiers: what files the instance under a study and series (PS3.3 C.12.1, C.7.2.1,
  // C.7.3.1). When they are among the IOD's Type 1 attributes and all of those were found,
  // they are there.
  const missingIds =
    context.type1Present === iod.type1.length && identifiersRequired(iod)
      ? undefined
      : absentOrEmpty(ds, identifiers);
  if (missingIds) addTo(findings, 'missing-identifier', `absent or empty: ${describe(missingIds)}`);
  checkRequired(ds, iod, context, missingIds, findings);
  checkConditionals(ds, iod, context, texts, findings);
  checkEnumerations(ds, iod, texts, findings);
  if (explicitVr) checkPixelValueVrs(ds, problems);
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
  if (problems.uid) addTo(findings, 'invalid-uid', [...problems.uid].join('; '));
  if (problems.value) addTo(findings, 'invalid-value', [...problems.value].join('; '));
  if (problems.item) addTo(findings, 'sequence-item-invalid', [...problems.item].join('; '));
  if (iod.family === 'sr') {
    const content = checkSrContent(ds);
    if (content.length > 0) addTo(findings, 'sr-content-invalid', content.join('; '));
  }
  if (context.outOfOrder)
    addTo(findings, 'element-order', 'data elements not in ascending tag order (PS3.5 7.1)');
  if (parsed.anomalies.length > 0)
    addTo(findings, 'encoding-anomaly', parsed.anomalies.slice(0, 4).join('; '));

  // Pixel data against rows, columns, frames, samples and bits (PS3.3 C.7.6.3).
  checkPixels(parsed, iod.image, transferSyntax, texts, findings);

  // Privacy risks for the preview.
  const iodName = sopClass?.iod ?? '';
  const burnedIn = texts.text(ds, Tag.BurnedInAnnotation);
  if (burnedIn === 'YES' || burnedIn === 'yes') {
    addTo(findings, 'burned-in-text-likely', 'Burned In Annotation (0028,0301) is YES');
  } else if (burnedIn !== 'NO' && burnedIn !== 'no') {
    const detail = burnedInDetail(iodName);
    if (detail) addTo(findings, 'burned-in-text-likely', detail);
  }
  if (iod.family === 'document') addTo(findings, 'document-attached', iodName);
  if (iod.family === 'sr') addTo(findings, 'free-text-report', iodName);
  commentTags ??= commentKeywords.map(tagOfKeyword);
  let comments: number[] | undefined;
  for (const tag of commentTags) {
    const element = ds.elements.get(tag);
    if (element !== undefined && !isEmptyValue(ds, element)) (comments ??= []).push(tag);
  }
  if (comments) addTo(findings, 'free-text-comments', describe(comments));

  const result = oneReasonPerBlockedFile(findings);
  headers.remember(parsed, {
    iod,
    findings: result,
    problems,
    context,
    sopInstanceUidsAgree,
  });
  return result;
}

const identifiersByIod: boolean[] = [];
function identifiersRequired(iod: ResolvedIod): boolean {
  return (identifiersByIod[iod.index] ??= identifiers.every((tag) => iod.type1.includes(tag)));
}

/**
 * The IOD's Type 1 (present, not empty) and Type 2 (present) attributes. The pass over the
 * elements counted those present; only when a count falls short are the tables searched for
 * which ones, to name them.
 */
function checkRequired(
  ds: DicomDataset,
  iod: ResolvedIod,
  context: ValueCheckContext,
  missingIds: readonly number[] | undefined,
  findings: InstanceFinding[],
): void {
  if (context.type1Present !== iod.type1.length) {
    let type1Absent: number[] | undefined;
    let type1Empty: number[] | undefined;
    for (const tag of iod.type1) {
      if (missingIds?.includes(tag)) continue;
      const element = ds.elements.get(tag);
      if (!element) (type1Absent ??= []).push(tag);
      else if (isEmptyValue(ds, element)) (type1Empty ??= []).push(tag);
    }
    if (type1Absent || type1Empty) {
      const parts: string[] = [];
      if (type1Absent) parts.push(`Type 1 absent: ${describe(type1Absent)}`);
      if (type1Empty) parts.push(`Type 1 empty: ${describe(type1Empty)}`);
      addTo(findings, 'required-attribute-missing', parts.join('; '));
    }
  }
  if (context.type2Present !== iod.type2.length) {
    let type2Absent: number[] | undefined;
    for (const tag of iod.type2) if (!ds.elements.has(tag)) (type2Absent ??= []).push(tag);
    if (type2Absent)
      addTo(findings, 'type2-attribute-missing', `Type 2 absent: ${describe(type2Absent)}`);
  }
}

/**
 * A file that will not be sent reports why, once: its most fundamental error, naming the
 * others in the detail, and not the lesser faults that follow from it.
 */
function oneReasonPerBlockedFile(findings: InstanceFinding[]): InstanceFinding[] {
  let errors = 0;
  for (const finding of findings) if (findingCatalog[finding.code].severity === 'error') errors++;
  if (errors === 0) return findings;
  const blocking = findings
    .filter((finding) => findingCatalog[finding.code].severity === 'error')
    .sort((a, b) => blockingOrder.indexOf(a.code) - blockingOrder.indexOf(b.code));
  const root = blocking[0]!;
  if (blocking.length === 1) return [root];
  const others = blocking
    .slice(1)
    .map((finding) => finding.code)
    .join(', ');
  return [{ code: root.code, detail: `${root.detail ?? ''} (also: ${others})` }];
}

function holds(
  ds: DicomDataset,
  condition: CompiledCondition,
  context: ValueCheckContext,
  texts: InstanceMemo,
): boolean {
  switch (condition.kind) {
    case 'non-ascii-text':
      return context.nonAsciiWithoutCharset === true;
    case 'present':
    case 'absent': {
      const element = ds.elements.get(condition.tag);
      const filled = element !== undefined && !isEmptyValue(ds, element);
      return condition.kind === 'present' ? filled : !filled;
    }
    case 'equals':
      return (
        ds.elements.has(condition.tag) &&
        condition.values.includes(texts.text(ds, condition.tag).split('\\')[0]!.trim())
      );
    case 'above': {
      const value = integerOf(ds, condition.tag);
      return value !== undefined && value > condition.value;
    }
  }
}

/** The IOD's conditional (1C/2C) attributes and the ones forbidden in a situation (iods.ts). */
function checkConditionals(
  ds: DicomDataset,
  iod: ResolvedIod,
  context: ValueCheckContext,
  texts: InstanceMemo,
  findings: InstanceFinding[],
): void {
  let missing: string[] | undefined;
  let forbidden: string[] | undefined;
  for (const conditional of iod.conditionals) {
    let applies = true;
    for (const condition of conditional.when) {
      if (!holds(ds, condition, context, texts)) {
        applies = false;
        break;
      }
    }
    if (!applies) continue;
    const element = ds.elements.get(conditional.tag);
    if (conditional.type === 'forbidden') {
      if (element)
        (forbidden ??= []).push(`${describe([conditional.tag])} with ${conditional.rule}`);
    } else if (!element || (conditional.type === '1C' && isEmptyValue(ds, element))) {
      const state = element ? 'empty' : 'absent';
      (missing ??= []).push(
        `Type ${conditional.type} ${state}: ${describe([conditional.tag])}, required with ${conditional.rule}`,
      );
    }
  }
  if (missing) addTo(findings, 'conditional-attribute-missing', missing.join('; '));
  if (forbidden) addTo(findings, 'attribute-not-allowed', forbidden.join('; '));
}

/** Enumerated values and defined terms (iods.ts): each value named by tag, never quoted. */
function checkEnumerations(
  ds: DicomDataset,
  iod: ResolvedIod,
  texts: InstanceMemo,
  findings: InstanceFinding[],
): void {
  let wrong: string[] | undefined;
  for (const enumeration of iod.enumerations) {
    const element = ds.elements.get(enumeration.tag);
    if (!element) continue;
    if (!trim(ds, element) || trimmed.start === trimmed.end) continue;
    const { start, end } = trimmed;
    const bytes = ds.bytes;
    const verdict =
      texts.verdicts.get(enumeration, bytes, start, end) ??
      texts.verdicts.set(
        enumeration,
        bytes,
        start,
        end,
        enumerationProblem(ds, enumeration, texts),
      );
    if (verdict) (wrong ??= []).push(verdict);
  }
  if (wrong) addTo(findings, 'enumerated-value-invalid', wrong.join('; '));
}

function enumerationProblem(
  ds: DicomDataset,
  enumeration: CompiledEnumeration,
  texts: InstanceMemo,
): string {
  const values = texts.text(ds, enumeration.tag).split('\\');
  const checked =
    enumeration.index < 0 ? values : values.slice(enumeration.index, enumeration.index + 1);
  for (const value of checked) {
    const term = value.trim();
    if (term === '' && enumeration.index < 0) continue;
    if (!enumeration.terms.has(term)) return `${describe([enumeration.tag])}: ${enumeration.label}`;
  }
  return '';
}

/** US when Pixel Representation is 0, SS when 1 (PS3.3 C.7.6.3): explicit VR files only. */
function checkPixelValueVrs(ds: DicomDataset, problems: ValueProblems): void {
  pixelValueTags ??= pixelValueKeywords.map(tagOfKeyword);
  let representation: number | undefined;
  for (const tag of pixelValueTags) {
    const element = ds.elements.get(tag);
    if (!element || (element.vr !== 'US' && element.vr !== 'SS')) continue;
    representation ??= integerOf(ds, Tag.PixelRepresentation) ?? -1;
    const expected = representation === 0 ? 'US' : representation === 1 ? 'SS' : undefined;
    if (expected && element.vr !== expected) {
      problems.add(
        'value',
        tag,
        `encoded as ${element.vr}, Pixel Representation ${representation} needs ${expected} (PS3.3 C.7.6.3)`,
      );
    }
  }
}
let pixelValueTags: number[] | undefined;

function checkPixels(
  parsed: ParsedDicom,
  imageIod: boolean,
  transferSyntax: string,
  texts: InstanceMemo,
  findings: InstanceFinding[],
): void {
  const ds = parsed.dataset;
  const pixel = parsed.pixelData;
  if (!pixel) {
    if (imageIod)
      addTo(findings, 'pixel-data-missing', 'no Pixel Data (7FE0,0010) before the end of the file');
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
    // PS3.3 C.7.6.3.1: how to read the samples. A wrong value leaves them uninterpretable.
    const representation = integerOf(ds, Tag.PixelRepresentation);
    if (representation !== undefined && representation !== 0 && representation !== 1)
      impossible.push(`Pixel Representation ${representation}`);
    const photometric = texts.text(ds, Tag.PhotometricInterpretation);
    const wanted = photometricSamples.get(photometric);
    if (wanted !== undefined && samples !== wanted) {
      impossible.push(
        `Photometric Interpretation ${photometric} with Samples per Pixel ${samples}`,
      );
    } else if (wanted === undefined && photometric !== '') {
      addTo(
        findings,
        'enumerated-value-invalid',
        `${describe([Tag.PhotometricInterpretation])}: not one of its defined terms (PS3.3 C.7.6.3.1.2)`,
      );
    }
    const planar = integerOf(ds, planarConfiguration);
    if (samples > 1 && planar !== undefined && planar !== 0 && planar !== 1)
      impossible.push(`Planar Configuration ${planar}`);
    if (
      bitsStored !== undefined &&
      highBit !== undefined &&
      highBit < (bitsAllocated ?? 0) &&
      highBit !== bitsStored - 1
    ) {
      addTo(
        findings,
        'enumerated-value-invalid',
        `High Bit ${highBit} with Bits Stored ${bitsStored}: High Bit is Bits Stored - 1 (PS3.3 C.7.6.3)`,
      );
    }
  }
  if (impossible.length > 0) {
    addTo(findings, 'pixel-description-invalid', impossible.join('; '));
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
  const photometric = texts.text(ds, Tag.PhotometricInterpretation);
  const samplesStored = samples === 3 && photometric.endsWith('_422') ? 2 : samples;
  const bits = rows * columns * frames * samplesStored * bitsAllocated;
  const expected = Math.ceil(bits / 8);
  const actual = pixel.length;
  if (actual >= expected && actual <= expected + (expected % 2)) return;
  const description = `${rows} x ${columns} x ${frames} frame(s) x ${samplesStored} sample(s) x ${bitsAllocated} bits`;
  if (actual < expected) {
    addTo(
      findings,
      'pixel-data-short',
      `Pixel Data has ${actual} bytes, ${description} needs ${expected}`,
    );
  } else if (actual > expected + (expected % 2)) {
    // One byte of padding to an even length is the rule (PS3.5 8.1.1), not an excess.
    addTo(
      findings,
      'pixel-data-long',
      `Pixel Data has ${actual} bytes, ${description} needs ${expected}`,
    );
  }
}
