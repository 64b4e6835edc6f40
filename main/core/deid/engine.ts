/**
 * The header transform of PS3.15 Annex E: every element of the dataset, at every depth, goes
 * through Table E.1-1 (with the selected options), private attributes through the private rule,
 * and the result is an OutputDataset for the writer plus the list of every change made.
 */
import { Buffer } from 'node:buffer';

import { attributeName, formatTag, lookupAttribute, Tag } from '../dicom/dictionary.ts';
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import { getText, getTexts } from '../dicom/values.ts';
import {
  asciiValue,
  dictionaryVr,
  type OutputDataset,
  type OutputElement,
} from '../dicom/write.ts';
import { attributeType, iodOf, isTypeOneSomewhere, type AttributeType } from './attribute-types.ts';
import { shiftValue } from './dates.ts';
import {
  methodCodes,
  privateProfileEntry,
  profileEntry,
  resolveAction,
  type DeidOption,
  type ProfileEntry,
  type ResolvedAction,
} from './profile.ts';
import type { TableOption } from './profile-types.ts';
import { elementMemoFor, type MemoContext, type MemoResult } from './element-memo.ts';
import { isSafePrivateValue, safePrivateEntry } from './safe-private.ts';
import { characterSetVrs, encodeText, TextCleaner } from './text.ts';
import { remapperFor, type UidRemapper } from './uid.ts';

export const ferryVersion = '0.1.0';

/** De-identify under PS3.15 Annex E, optionally with the portal's pseudonym for the patient. */
export interface DeidentifyPolicy {
  readonly kind: 'deidentify';
  readonly profile: 'basic';
  readonly options: readonly DeidOption[];
  /** HMAC key for UIDs and date offsets (at least 16 bytes). */
  readonly key: Uint8Array;
  /** The portal's subject: replaces Patient's Name and Patient ID (pseudonymisation). */
  readonly pseudonym?: { readonly patientId: string; readonly patientName?: string };
  /** With retain-modified-dates: the offset in days; derived per patient from the key if absent. */
  readonly dateOffsetDays?: number;
}

/**
 * Keep identity, reconcile to the receiving hospital (IHE Import Reconciliation Workflow): the
 * hospital's MRN becomes Patient ID; the outside ID moves to Other Patient IDs Sequence.
 */
export interface ReconcilePolicy {
  readonly kind: 'reconcile';
  readonly patientId: string;
  readonly issuerOfPatientId?: string;
}

export type IdentityPolicy = DeidentifyPolicy | ReconcilePolicy;

export type ChangeAction =
  | 'removed'
  | 'emptied'
  | 'dummy'
  | 'uid-replaced'
  | 'date-shifted'
  | 'cleaned'
  | 'replaced'
  | 'added';

/** One attribute changed, for the preview and the report. */
export interface AttributeChange {
  /** "(0010,0010)" at the top level, "(0008,1115)[0].(0008,1155)" inside sequences. */
  readonly path: string;
  readonly tag: string;
  readonly name: string;
  readonly action: ChangeAction;
  /** Why: the table's code and resolution ("X/Z/D -> D"), an option, or Ferry's rule. */
  readonly rule: string;
  readonly before?: string;
  readonly after?: string;
}

/** The patient a date offset belongs to: ID and issuer, or the name when there is no ID. */
function patientKeyOf(top: DicomDataset): string {
  const id = getText(top, Tag.PatientId) ?? '';
  const issuer = getText(top, Tag.IssuerOfPatientId) ?? '';
  return `${id}\\${issuer}\\${id ? '' : (getText(top, Tag.PatientName) ?? '')}`;
}

export class DeidError extends Error {
  readonly code: DeidErrorCode;
  constructor(code: DeidErrorCode, message: string) {
    super(message);
    this.name = 'DeidError';
    this.code = code;
  }
}

export type DeidErrorCode =
  | 'dicomdir'
  | 'not-an-instance'
  | 'unreadable'
  | 'bad-policy'
  | 'mask-compressed'
  | 'mask-unsupported'
  | 'mask-outside'
  | 'duplicate-instance';

interface Mode {
  /** Inside a sequence under D: free text and dates become dummies, structure stays. */
  readonly dummyText: boolean;
  /** Inside a sequence under C: free text is cleaned. */
  readonly cleanText: boolean;
  /** The sequence whose item is being read (undefined at the top level): types are per item. */
  readonly sequenceTag?: number;
}

const normalMode: Mode = { dummyText: false, cleanText: false };

/** The attributes the method record sets: an instance holding one gets its own record. */
const methodTags: readonly number[] = [
  0x00120062, // Patient Identity Removed
  0x00120063, // De-identification Method
  0x00120064, // De-identification Method Code Sequence
  0x00280303, // Longitudinal Temporal Information Modified
  Tag.BurnedInAnnotation,
];

/** Method records by options and masking (they depend on nothing else; see recordMethod). */
const methodRecords = new Map<
  string,
  { readonly elements: readonly OutputElement[]; readonly changes: readonly AttributeChange[] }
>();

/** Attributes Ferry drops whatever the table says (their values would be wrong or unsafe). */
const ferryRemoved: ReadonlyMap<number, string> = new Map([
  [0x00080001, 'Length to End (retired): wrong once the header changes'],
  [0xfffafffa, 'Digital Signatures: invalid once the dataset changes'],
  [0x4ffe0001, 'MAC Parameters: invalid once the dataset changes'],
  [0xfffcfffc, 'Data Set Trailing Padding'],
]);

const dummyText = 'ANONYMIZED';

/** Pixel Data and its float variants: streamed by the caller, not part of the header. */
function isPixelTag(tag: number): boolean {
  return tag === Tag.PixelData || tag === Tag.FloatPixelData || tag === Tag.DoubleFloatPixelData;
}

function dummyFor(vr: string): Uint8Array {
  switch (vr) {
    case 'AE':
    case 'CS':
    case 'LO':
    case 'LT':
    case 'SH':
    case 'ST':
    case 'UC':
    case 'UT':
    case 'PN':
      return asciiValue(dummyText);
    case 'AS':
      return asciiValue('000Y');
    case 'DA':
      return asciiValue('19000101');
    case 'DT':
      return asciiValue('19000101000000');
    case 'TM':
      return asciiValue('000000');
    case 'DS':
    case 'IS':
      return asciiValue('0');
    case 'UR':
      return new Uint8Array(0);
    case 'US':
    case 'SS':
      return new Uint8Array(2);
    case 'UL':
    case 'SL':
    case 'FL':
    case 'AT':
      return new Uint8Array(4);
    case 'FD':
    case 'SV':
    case 'UV':
      return new Uint8Array(8);
    default:
      return new Uint8Array(2);
  }
}

// Tag texts and names repeat across every instance of a disc: made once per tag.
const tagTexts = new Map<number, string>();
const tagNames = new Map<number, string>();
const maxCachedTags = 8192;

function hexTag(tag: number): string {
  let text = tagTexts.get(tag);
  if (text === undefined) {
    text = formatTag(tag);
    if (tagTexts.size < maxCachedTags) tagTexts.set(tag, text);
  }
  return text;
}

function nameOf(tag: number): string {
  let name = tagNames.get(tag);
  if (name === undefined) {
    name = attributeName(tag);
    if (tagNames.size < maxCachedTags) tagNames.set(tag, name);
  }
  return name;
}

function textOf(bytes: Uint8Array): string {
  // Latin-1 maps each byte to the code point of the same value, as the byte loop did.
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0 || bytes[end - 1] === 0x20)) end--;
  return Buffer.from(bytes.buffer, bytes.byteOffset, end).toString('latin1');
}

const binaryVrs: ReadonlySet<string> = new Set([
  'OB',
  'OD',
  'OF',
  'OL',
  'OV',
  'OW',
  'UN',
  'US',
  'SS',
  'UL',
  'SL',
  'FL',
  'FD',
  'SV',
  'UV',
  'AT',
]);

/** A value as the preview shows it: text decoded, binary as a size, sequences as a count. */
function describe(dataset: DicomDataset, element: DicomElement): string {
  if (element.items) return `${element.items.length} item${element.items.length === 1 ? '' : 's'}`;
  if (binaryVrs.has(element.vr)) return `${element.length} bytes`;
  const text = getText(dataset, element.tag) ?? '';
  return text.length > 256 ? `${text.slice(0, 256)}…` : text;
}

function describeOutput(element: OutputElement | undefined): string | undefined {
  if (!element) return undefined;
  if (element.kind === 'sequence') {
    return `${element.items.length} item${element.items.length === 1 ? '' : 's'}`;
  }
  if (element.kind === 'value') {
    return binaryVrs.has(element.vr) ? `${element.value.length} bytes` : textOf(element.value);
  }
  return undefined;
}

function resolutionText(
  entry: ProfileEntry,
  action: ResolvedAction,
  options: Set<DeidOption>,
  type: AttributeType | undefined,
): string {
  for (const option in entry.options) {
    if (options.has(option as DeidOption) && entry.options[option as TableOption] === action) {
      return `${option}: ${action}`;
    }
  }
  if (entry.basic === action) return entry.basic;
  // Which type chose among a combined code's actions (docs/deidentification.md).
  const why = type === undefined ? 'type unknown' : `Type ${type}`;
  return `${entry.basic} -> ${action} (${why})`;
}

/** The identifying values of an instance, which "clean" removes from free text. */
function identifiersOf(dataset: DicomDataset, options: ReadonlySet<DeidOption>): string[] {
  const tags = [
    Tag.PatientName,
    Tag.PatientId,
    Tag.IssuerOfPatientId,
    Tag.PatientBirthDate,
    Tag.AccessionNumber,
    Tag.StudyId,
    Tag.ReferringPhysicianName,
    0x00101000, // Other Patient IDs
    0x00101001, // Other Patient Names
    0x00101005, // Patient's Birth Name
    0x00101060, // Patient's Mother's Birth Name
    0x00101040, // Patient's Address
    0x00101090, // Medical Record Locator
    0x00102154, // Patient's Telephone Numbers
    0x00102297, // Responsible Person
    0x00102299, // Responsible Organization
    0x00081048, // Physician(s) of Record
    0x00081050, // Performing Physician's Name
    0x00081060, // Name of Physician(s) Reading Study
    0x00081070, // Operators' Name
    0x00321032, // Requesting Physician
  ];
  if (!options.has('retain-institution-identity')) {
    tags.push(Tag.InstitutionName, 0x00080081, 0x00081040);
  }
  if (!options.has('retain-device-identity')) tags.push(0x00081010, 0x00181000);
  return tags.flatMap((tag) => getTexts(dataset, tag)).filter((value) => value.length > 0);
}

export interface TransformResult {
  readonly dataset: OutputDataset;
  readonly changes: AttributeChange[];
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
}

export interface TransformExtras {
  /** Pixel data was masked (Clean Pixel Data applied): record it. */
  readonly masked: boolean;
}

/** Transforms one instance's dataset (top level) under the policy. */
export function transformDataset(
  dataset: DicomDataset,
  policy: IdentityPolicy,
  extras: TransformExtras,
): TransformResult {
  return policy.kind === 'reconcile'
    ? reconcile(dataset, policy)
    : new Deidentifier(dataset, policy, extras).run();
}

/** Output elements that copy the source, except pixel data (streamed by the caller). */
function copyAll(dataset: DicomDataset, top: boolean): Map<number, OutputElement> {
  const out = new Map<number, OutputElement>();
  for (const element of dataset.elements.values()) {
    if ((top && isPixelTag(element.tag)) || (element.tag & 0xffff) === 0) continue;
    if (element.tag >>> 16 === 0x0002 || ferryRemoved.has(element.tag)) continue;
    out.set(element.tag, copyElement(dataset, element));
  }
  return out;
}

function copyElement(dataset: DicomDataset, element: DicomElement): OutputElement {
  if (element.items) {
    return {
      kind: 'sequence',
      tag: element.tag,
      items: element.items.map((item) => ({ elements: [...copyAll(item, false).values()] })),
    };
  }
  return { kind: 'source', tag: element.tag, vr: outputVr(dataset, element), dataset, element };
}

/** UN read from a little-endian explicit file gets its dictionary VR back when known. */
function outputVr(dataset: DicomDataset, element: DicomElement): string {
  if (element.vr !== 'UN' || !dataset.littleEndian) return element.vr;
  const vr = dictionaryVr(element.tag);
  return vr && vr !== 'SQ' ? vr : 'UN';
}

function uidOf(dataset: DicomDataset, tag: number): string {
  return getText(dataset, tag) ?? '';
}

/** The dataset as it is, for a link that sends identity: only pixel masking changes the file. */
export function keepDataset(dataset: DicomDataset): TransformResult {
  return {
    dataset: { elements: [...copyAll(dataset, true).values()] },
    changes: [],
    sopInstanceUid: uidOf(dataset, Tag.SopInstanceUid),
    sopClassUid: uidOf(dataset, Tag.SopClassUid),
    studyInstanceUid: uidOf(dataset, Tag.StudyInstanceUid),
    seriesInstanceUid: uidOf(dataset, Tag.SeriesInstanceUid),
  };
}

function reconcile(dataset: DicomDataset, policy: ReconcilePolicy): TransformResult {
  if (!/^[\x20-\x7e]{1,64}$/u.test(policy.patientId) || policy.patientId.includes('\\')) {
    throw new DeidError('bad-policy', 'the hospital MRN must be 1-64 printable ASCII characters');
  }
  const out = copyAll(dataset, true);
  const changes: AttributeChange[] = [];
  const before = getText(dataset, Tag.PatientId) ?? '';
  const beforeIssuer = getText(dataset, Tag.IssuerOfPatientId) ?? '';
  const set = (tag: number, vr: string, value: string, rule: string): void => {
    const existing = dataset.elements.get(tag);
    out.set(tag, { kind: 'value', tag, vr, value: asciiValue(value) });
    changes.push({
      path: hexTag(tag),
      tag: hexTag(tag),
      name: attributeName(tag),
      action: existing ? 'replaced' : 'added',
      rule,
      ...(existing ? { before: describe(dataset, existing) } : {}),
      after: value,
    });
  };
  set(Tag.PatientId, 'LO', policy.patientId, 'reconcile: hospital MRN');
  if (policy.issuerOfPatientId !== undefined) {
    set(Tag.IssuerOfPatientId, 'LO', policy.issuerOfPatientId, 'reconcile: hospital issuer');
  }
  if (before !== '') {
    // The outside ID keeps its bytes (it may be in the dataset's character set).
    const idElement = dataset.elements.get(Tag.PatientId)!;
    const item: OutputElement[] = [copyElement(dataset, idElement)];
    const issuerElement = dataset.elements.get(Tag.IssuerOfPatientId);
    if (issuerElement && beforeIssuer !== '') item.push(copyElement(dataset, issuerElement));
    item.push({ kind: 'value', tag: 0x00100022, vr: 'CS', value: asciiValue('TEXT') });
    const previous = out.get(0x00101002);
    const items = previous?.kind === 'sequence' ? [...previous.items] : [];
    items.push({ elements: item });
    out.set(0x00101002, { kind: 'sequence', tag: 0x00101002, items });
    changes.push({
      path: hexTag(0x00101002),
      tag: hexTag(0x00101002),
      name: attributeName(0x00101002),
      action: previous ? 'replaced' : 'added',
      rule: 'reconcile: the outside Patient ID kept as another ID',
      after: `${items.length} item${items.length === 1 ? '' : 's'}`,
    });
  }
  return {
    dataset: { elements: [...out.values()] },
    changes,
    sopInstanceUid: uidOf(dataset, Tag.SopInstanceUid),
    sopClassUid: uidOf(dataset, Tag.SopClassUid),
    studyInstanceUid: uidOf(dataset, Tag.StudyInstanceUid),
    seriesInstanceUid: uidOf(dataset, Tag.SeriesInstanceUid),
  };
}

class Deidentifier {
  private readonly options: Set<DeidOption>;
  private readonly uids: UidRemapper;
  private readonly changes: AttributeChange[] = [];
  private cleaner: TextCleaner | undefined;
  /** Set when an attribute's result depended on the instance's identifiers (never memoised). */
  private cleanerUsed = false;
  /** Results of earlier instances under the same key and context (element-memo.ts). */
  private readonly memo: MemoContext;
  /** The options, sorted: part of every memo key. */
  private readonly optionsKey: string;
  private readonly dateOffset: number;
  /** The instance's IOD (PS3.3 name), for the combined codes; undefined when not known. */
  private readonly iod: string | undefined;
  /** Common Instance Reference present (Referenced Series / Studies Containing Other Referenced Instances Sequence). */
  private readonly listsReferences: boolean;

  constructor(
    private readonly top: DicomDataset,
    private readonly policy: DeidentifyPolicy,
    private readonly extras: TransformExtras,
  ) {
    if (policy.profile !== 'basic') throw new DeidError('bad-policy', 'unknown profile');
    this.options = new Set(policy.options);
    for (const option of this.options) {
      if (!(option in methodCodes)) throw new DeidError('bad-policy', `unknown option ${option}`);
    }
    if (this.options.has('retain-full-dates') && this.options.has('retain-modified-dates')) {
      throw new DeidError(
        'bad-policy',
        'retain-full-dates and retain-modified-dates exclude each other',
      );
    }
    this.uids = remapperFor(policy.key);
    this.iod = iodOf(getText(top, Tag.SopClassUid) ?? '');
    this.listsReferences = top.elements.has(0x00081115) || top.elements.has(0x00081200);
    // One offset per patient, 1 to 3650 days into the past: intervals stay true. Only Retain
    // Longitudinal Temporal Information with Modified Dates shifts dates (shiftDate): otherwise
    // the offset is not derived, and is 0 in the memo's context below.
    this.dateOffset = this.options.has('retain-modified-dates')
      ? (policy.dateOffsetDays ?? -(1 + this.uids.derive(`date\0${patientKeyOf(top)}`, 3650)))
      : 0;
    this.optionsKey = [...this.options].sort().join(',');
    // Everything besides an attribute's own bytes that its result can depend on.
    this.memo = elementMemoFor(policy.key).context(
      [
        policy.profile,
        this.optionsKey,
        this.iod ?? '',
        this.listsReferences ? 'references' : '',
        this.dateOffset,
        top.littleEndian ? 'LE' : 'BE',
        top.characterSet.join('\\'),
      ].join('|'),
    );
  }

  run(): TransformResult {
    const output = this.dataset(this.top, '', normalMode, true);
    const elements = new Map<number, OutputElement>();
    for (const element of output.elements) elements.set(element.tag, element);
    this.recordMethod(elements);
    const uid = (tag: number): string => {
      const element = elements.get(tag);
      return element?.kind === 'value'
        ? textOf(element.value)
        : element?.kind === 'source'
          ? (getText(element.dataset, element.tag) ?? '')
          : '';
    };
    return {
      dataset: { elements: [...elements.values()] },
      changes: this.changes,
      sopInstanceUid: uid(Tag.SopInstanceUid),
      sopClassUid: uid(Tag.SopClassUid),
      studyInstanceUid: uid(Tag.StudyInstanceUid),
      seriesInstanceUid: uid(Tag.SeriesInstanceUid),
    };
  }

  /** PS3.15 E.1.1 step 3 and PS3.3 C.7.1.1: say that and how the instance was de-identified. */
  private recordMethod(elements: Map<number, OutputElement>): void {
    // The record is the same for every instance under the same options that has none of its
    // attributes already (no earlier de-identification): made once, then reused.
    const memoKey = `${this.optionsKey}|${this.extras.masked ? 'masked' : ''}`;
    const reusable = !methodTags.some((tag) => this.top.elements.has(tag));
    const stored = reusable ? methodRecords.get(memoKey) : undefined;
    if (stored) {
      for (const element of stored.elements) elements.set(element.tag, element);
      for (const change of stored.changes) this.changes.push(change);
    } else {
      const changesBefore = this.changes.length;
      const made = this.methodRecord(elements);
      if (reusable && methodRecords.size < 256) {
        methodRecords.set(memoKey, {
          elements: made,
          changes: this.changes.slice(changesBefore),
        });
      }
    }
    this.recordPseudonym(elements);
  }

  /** The attributes that say that and how the instance was de-identified; returns them. */
  private methodRecord(elements: Map<number, OutputElement>): OutputElement[] {
    const made: OutputElement[] = [];
    const set = (element: OutputElement, rule: string): void => {
      made.push(element);
      this.setTopLevel(elements, element, rule);
    };
    const applied = allAppliedOptions(this.options, this.extras.masked);
    set(textElement(0x00120062, 'CS', 'YES'), 'PS3.15 E.1.1: Patient Identity Removed');
    // Earlier de-identification (values already de-identified) stays on record, then Ferry's.
    const priorMethods = getTexts(this.top, 0x00120063).filter((value) =>
      /^[\x20-\x7e]*$/u.test(value),
    );
    const methods = [
      ...priorMethods,
      `DICOM Ferry ${ferryVersion}: PS3.15 ${'2024b'} Basic Profile`,
      ...applied.map((option) => methodCodes[option][1].replace(/ Option$/u, '').slice(0, 64)),
    ];
    set(
      textElement(0x00120063, 'LO', methods.join('\\')),
      'PS3.15 E.1.1: De-identification Method',
    );
    const prior = elements.get(0x00120064);
    const priorItems = prior?.kind === 'sequence' ? prior.items : [];
    const codes = (['basic', ...applied] as const).map((option) =>
      codeItem(...methodCodes[option]),
    );
    set(
      { kind: 'sequence', tag: 0x00120064, items: [...priorItems, ...codes] },
      'PS3.15 E.1.1: De-identification Method Code Sequence (CID 7050)',
    );
    const temporal = this.options.has('retain-full-dates')
      ? 'UNMODIFIED'
      : this.options.has('retain-modified-dates')
        ? 'MODIFIED'
        : 'REMOVED';
    set(
      textElement(0x00280303, 'CS', temporal),
      'PS3.15 E.3.6: Longitudinal Temporal Information Modified',
    );
    if (this.extras.masked) {
      set(textElement(Tag.BurnedInAnnotation, 'CS', 'NO'), 'PS3.15 E.3.1: burned-in text masked');
    }
    return made;
  }

  /** The portal's subject in place of the patient's name and ID, when the link gives one. */
  private recordPseudonym(elements: Map<number, OutputElement>): void {
    const set = (element: OutputElement, rule: string): void =>
      this.setTopLevel(elements, element, rule);
    const pseudonym = this.policy.pseudonym;
    if (pseudonym) {
      const valid = (value: string): boolean =>
        /^[\x20-\x7e]{1,64}$/u.test(value) && !value.includes('\\');
      if (!valid(pseudonym.patientId) || !valid(pseudonym.patientName ?? pseudonym.patientId)) {
        throw new DeidError('bad-policy', 'the pseudonym must be 1-64 printable ASCII characters');
      }
      set(
        textElement(Tag.PatientId, 'LO', pseudonym.patientId),
        'pseudonym: the portal subject ID',
      );
      set(
        textElement(Tag.PatientName, 'PN', pseudonym.patientName ?? pseudonym.patientId),
        'pseudonym: the portal subject',
      );
    }
  }

  /** Puts an attribute Ferry sets at the top level, recording it as added or replaced. */
  private setTopLevel(
    elements: Map<number, OutputElement>,
    element: OutputElement,
    rule: string,
  ): void {
    const source = this.top.elements.get(element.tag);
    elements.set(element.tag, element);
    const after = describeOutput(element);
    this.changes.push({
      path: hexTag(element.tag),
      tag: hexTag(element.tag),
      name: nameOf(element.tag),
      action: source ? 'replaced' : 'added',
      rule,
      ...(source ? { before: describe(this.top, source) } : {}),
      ...(after !== undefined ? { after } : {}),
    });
  }

  private record(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    action: ChangeAction,
    rule: string,
    after: OutputElement | undefined,
    name?: string,
  ): void {
    const afterText = describeOutput(after);
    this.changes.push({
      path,
      tag: hexTag(element.tag),
      name: name ?? nameOf(element.tag),
      action,
      rule,
      before: describe(dataset, element),
      ...(afterText !== undefined ? { after: afterText } : {}),
    });
  }

  private dataset(dataset: DicomDataset, prefix: string, mode: Mode, top: boolean): OutputDataset {
    const out: OutputElement[] = [];
    const creators = new Map<number, string>();
    const keptBlocks = new Set<number>();
    for (const element of dataset.elements.values()) {
      const group = element.tag >>> 16;
      const low = element.tag & 0xffff;
      if (group % 2 === 1 && low >= 0x10 && low <= 0xff) {
        creators.set((group << 8) | low, getText(dataset, element.tag) ?? '');
      }
    }
    // Top-level attributes repeat across a series: their results are reused (element-memo.ts).
    const memo = top ? this.memo : undefined;
    const privateCreatorElements: DicomElement[] = [];
    for (const element of dataset.elements.values()) {
      const tag = element.tag;
      if (top && isPixelTag(tag)) continue; // pixel data: streamed by the caller
      const group = tag >>> 16;
      const low = tag & 0xffff;
      if (group % 2 === 1 && low >= 0x10 && low <= 0xff) {
        privateCreatorElements.push(element);
        continue;
      }
      const block = group % 2 === 1 ? (group << 8) | (low >>> 8) : -1;
      const creator = block === -1 ? undefined : creators.get(block);
      let output: OutputElement | undefined;
      const hit = memo?.find(dataset, element, creator);
      if (hit) {
        for (const change of hit.changes) this.changes.push(change);
        output =
          hit.result.kind === 'keep'
            ? copyElement(dataset, element)
            : hit.result.kind === 'output'
              ? hit.result.output
              : undefined;
      } else {
        const changesBefore = this.changes.length;
        this.cleanerUsed = false;
        output = this.element(dataset, element, `${prefix}${hexTag(tag)}`, mode, creators);
        if (memo && !this.cleanerUsed) {
          const result = memoResult(dataset, element, output);
          if (result) {
            memo.store(dataset, element, creator, result, this.changes.slice(changesBefore));
          }
        }
      }
      if (output) {
        out.push(output);
        if (block !== -1) keptBlocks.add(block);
      }
    }
    // A private creator stays only when an element of its block stays (PS3.5 7.8.1).
    for (const element of privateCreatorElements) {
      const group = element.tag >>> 16;
      const block = (group << 8) | (element.tag & 0xff);
      const path = `${prefix}${hexTag(element.tag)}`;
      if (keptBlocks.has(block)) out.push(copyElement(dataset, element));
      else
        this.record(
          dataset,
          element,
          path,
          'removed',
          'private attributes: X',
          undefined,
          'Private Creator',
        );
    }
    return { elements: out };
  }

  /** One attribute (not a private creator) through the profile: its output, or none (removed). */
  private element(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    mode: Mode,
    creators: ReadonlyMap<number, string>,
  ): OutputElement | undefined {
    const tag = element.tag;
    const group = tag >>> 16;
    const low = tag & 0xffff;
    if (group === 0x0002 || group === 0x0000) {
      this.record(
        dataset,
        element,
        path,
        'removed',
        'Ferry: file meta and command groups belong to the meta information, regenerated',
        undefined,
      );
      return undefined;
    }
    if (low === 0x0000) {
      this.record(
        dataset,
        element,
        path,
        'removed',
        'Ferry: group lengths (retired) change with the header',
        undefined,
      );
      return undefined;
    }
    const removedWhy = ferryRemoved.get(tag);
    if (removedWhy && !profileEntry(tag)) {
      this.record(dataset, element, path, 'removed', `Ferry: ${removedWhy}`, undefined);
      return undefined;
    }
    if (group % 2 === 1) return this.privateElement(dataset, element, path, creators);
    const entry = profileEntry(tag);
    return entry
      ? this.apply(dataset, element, path, mode, entry)
      : this.keep(dataset, element, path, mode);
  }

  private privateElement(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    creators: ReadonlyMap<number, string>,
  ): OutputElement | undefined {
    const group = element.tag >>> 16;
    const block = (element.tag & 0xffff) >>> 8;
    const creator = creators.get((group << 8) | block);
    const name = `Private attribute${creator ? ` (${creator})` : ''}`;
    const entry = privateProfileEntry();
    // Matched by the block's Private Creator and the low byte (gggg,xxEE), never the tag.
    const safe =
      this.options.has('retain-safe-private') &&
      creator !== undefined &&
      group > 0x0008 &&
      group !== 0xffff
        ? safePrivateEntry(creator, group, element.tag & 0xff)
        : undefined;
    if (safe && isSafePrivateValue(safe, dataset, element)) {
      // Numbers and codes only (safe-private.ts): kept as they are.
      return copyElement(dataset, element);
    }
    this.record(
      dataset,
      element,
      path,
      'removed',
      `private attributes: ${entry.basic}`,
      undefined,
      name,
    );
    return undefined;
  }

  private keep(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    mode: Mode,
  ): OutputElement | undefined {
    if (element.items) return this.sequence(element, path, this.childMode(element, mode));
    if (mode.dummyText || mode.cleanText) {
      const vr = outputVr(dataset, element);
      if (vr === 'DA' || vr === 'DT') {
        if (this.options.has('retain-full-dates')) return copyElement(dataset, element);
        if (this.options.has('retain-modified-dates'))
          return this.shiftDate(dataset, element, path, vr, 'retain-modified-dates: C');
        if (mode.dummyText) return this.dummy(dataset, element, path, 'inside a sequence under D');
      }
      if (characterSetVrs.has(vr)) {
        return mode.dummyText
          ? this.dummy(dataset, element, path, 'inside a sequence under D')
          : this.clean(dataset, element, path, 'inside a sequence under C');
      }
    }
    return copyElement(dataset, element);
  }

  /** Code sequences inside a dummied sequence keep their codes: coded concepts, not identity. */
  private childMode(element: DicomElement, mode: Mode): Mode {
    if (!mode.dummyText) return mode;
    const keyword = lookupAttribute(element.tag)?.keyword ?? '';
    return keyword.endsWith('CodeSequence') ? { ...mode, dummyText: false } : mode;
  }

  private sequence(element: DicomElement, path: string, mode: Mode): OutputElement {
    const items = (element.items ?? []).map((item, index) =>
      this.dataset(item, `${path}[${index}].`, { ...mode, sequenceTag: element.tag }, false),
    );
    return { kind: 'sequence', tag: element.tag, items };
  }

  private apply(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    mode: Mode,
    entry: ProfileEntry,
  ): OutputElement | undefined {
    const isSequence = element.items !== undefined;
    const type = attributeType(this.iod, mode.sequenceTag, element.tag);
    const action = resolveAction(entry, this.options, isSequence, element.length > 0, {
      type,
      typeOneSomewhere: type === undefined && isTypeOneSomewhere(element.tag),
      listsReferences: this.listsReferences,
    });
    const rule = resolutionText(entry, action, this.options, type);
    const vr = outputVr(dataset, element);
    switch (action) {
      case 'K':
        return this.keep(dataset, element, path, mode);
      case 'X':
        this.record(dataset, element, path, 'removed', rule, undefined);
        return undefined;
      case 'Z': {
        const after: OutputElement = isSequence
          ? { kind: 'sequence', tag: element.tag, items: [] }
          : {
              kind: 'value',
              tag: element.tag,
              vr: vr === 'UN' ? (dictionaryVr(element.tag) ?? 'UN') : vr,
              value: new Uint8Array(0),
            };
        if (element.length > 0 || (element.items?.length ?? 0) > 0) {
          this.record(dataset, element, path, 'emptied', rule, after);
        }
        return after;
      }
      case 'D':
        if (isSequence) return this.sequence(element, path, { ...mode, dummyText: true });
        return this.dummy(dataset, element, path, rule);
      case 'U':
      case 'U*':
        if (isSequence) return this.sequence(element, path, mode);
        return this.uid(dataset, element, path, rule);
      case 'C':
        if (isSequence) return this.sequence(element, path, { ...mode, cleanText: true });
        if (
          (vr === 'DA' || vr === 'DT') &&
          entry.options['retain-modified-dates'] === 'C' &&
          this.options.has('retain-modified-dates')
        ) {
          return this.shiftDate(dataset, element, path, vr, rule);
        }
        if (characterSetVrs.has(vr)) return this.clean(dataset, element, path, rule);
        // TM under modified dates (a whole-day shift keeps the time), AE titles, overlays.
        return this.keep(dataset, element, path, mode);
    }
  }

  private dummy(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    rule: string,
  ): OutputElement {
    let vr = outputVr(dataset, element);
    if (vr === 'UN') vr = dictionaryVr(element.tag) ?? 'UN';
    if (vr === 'UI') return this.uid(dataset, element, path, rule);
    if (element.length === 0) return copyElement(dataset, element);
    const value = dummyFor(vr);
    const after: OutputElement = { kind: 'value', tag: element.tag, vr, value };
    this.record(dataset, element, path, 'dummy', rule, after);
    return after;
  }

  private uid(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    rule: string,
  ): OutputElement {
    const vr = outputVr(dataset, element);
    if (vr !== 'UI' && dictionaryVr(element.tag) !== 'UI')
      return this.dummy(dataset, element, path, rule);
    const before = getText(dataset, element.tag) ?? '';
    if (before === '') return copyElement(dataset, element);
    const after: OutputElement = {
      kind: 'value',
      tag: element.tag,
      vr: 'UI',
      value: asciiValue(this.uids.remapValue(before)),
    };
    this.record(dataset, element, path, 'uid-replaced', rule, after);
    return after;
  }

  private shiftDate(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    vr: 'DA' | 'DT',
    rule: string,
  ): OutputElement {
    const before = getText(dataset, element.tag) ?? '';
    if (before === '') return copyElement(dataset, element);
    const shifted = shiftValue(before, vr, this.dateOffset);
    // A value that is not a date cannot be shifted: a dummy, never the original.
    const value = asciiValue(shifted ?? (vr === 'DA' ? '19000101' : '19000101000000'));
    const after: OutputElement = { kind: 'value', tag: element.tag, vr, value };
    this.record(
      dataset,
      element,
      path,
      shifted === undefined ? 'dummy' : 'date-shifted',
      rule,
      after,
    );
    return after;
  }

  private clean(
    dataset: DicomDataset,
    element: DicomElement,
    path: string,
    rule: string,
  ): OutputElement {
    const vr = outputVr(dataset, element);
    const before = getText(dataset, element.tag) ?? '';
    this.cleanerUsed = true;
    this.cleaner ??= new TextCleaner(identifiersOf(this.top, this.options));
    const cleaned = this.cleaner.clean(before);
    if (cleaned === before && element.length > 0) return copyElement(dataset, element);
    if (element.length === 0) return copyElement(dataset, element);
    const encoded = encodeText(cleaned, dataset.characterSet);
    const after: OutputElement = {
      kind: 'value',
      tag: element.tag,
      vr,
      value: encoded ?? new Uint8Array(0),
    };
    this.record(dataset, element, path, encoded ? 'cleaned' : 'emptied', rule, after);
    return after;
  }
}

/**
 * How an attribute's result can be reused by another instance: removed, kept (the other
 * instance's own bytes), or the same new value. A sequence with items is not reused: its items'
 * outputs point at this instance's source.
 */
function memoResult(
  dataset: DicomDataset,
  element: DicomElement,
  output: OutputElement | undefined,
): MemoResult | undefined {
  if (output === undefined) return { kind: 'removed' };
  if (output.kind === 'source') {
    return output.dataset === dataset && output.element === element ? { kind: 'keep' } : undefined;
  }
  if (output.kind === 'value') return { kind: 'output', output };
  return output.kind === 'sequence' && output.items.length === 0
    ? { kind: 'output', output }
    : undefined;
}

/** An ASCII text attribute Ferry sets. */
function textElement(tag: number, vr: string, value: string): OutputElement {
  return { kind: 'value', tag, vr, value: asciiValue(value) };
}

function codeItem(value: string, meaning: string): OutputDataset {
  return {
    elements: [
      { kind: 'value', tag: 0x00080100, vr: 'SH', value: asciiValue(value) },
      { kind: 'value', tag: 0x00080102, vr: 'SH', value: asciiValue('DCM') },
      { kind: 'value', tag: 0x00080104, vr: 'LO', value: asciiValue(meaning) },
    ],
  };
}

/** The options whose codes are recorded: Clean Pixel Data exactly when pixels were masked. */
function allAppliedOptions(options: ReadonlySet<DeidOption>, masked: boolean): DeidOption[] {
  const applied: DeidOption[] = [...options].filter((option) => option !== 'clean-pixel-data');
  if (masked) applied.push('clean-pixel-data');
  return applied;
}
