/**
 * Value checks by VR (PS3.5 6.2 Table 6.2-1), VM (PS3.6) and element length (PS3.5 7.1.1),
 * run over every element of a parsed header, items included. They work on the bytes: a header
 * of 150 elements is checked in a few microseconds, and no value is copied unless a rule needs
 * text. Problems are described by tag, attribute name and rule, never by the value itself.
 */
import { attributeName, formatTag, knownVrs, lookupAttribute } from '../dicom/dictionary.ts';
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import { decodeDicomText } from '../dicom/charset.ts';
import type { PassedValues } from './byte-memo.ts';
import {
  itemRulesBySequence,
  singleFrameIods,
  type CompiledItemRule,
  type ResolvedIod,
} from './iods.ts';
import { lookupSopClass } from './sop-classes.ts';

/** Problems found in one instance, each `(gggg,eeee) Name: what is wrong`, deduplicated. */
export class ValueProblems {
  /** Problems reported, duplicates and those beyond the limit included. */
  reported = 0;
  /** Created on the first problem: most headers have none. */
  uid: Set<string> | undefined;
  value: Set<string> | undefined;
  /** Attributes missing from, or not allowed in, sequence items (by sequence). */
  item: Set<string> | undefined;
  /** The tags problems were reported for: a header memo (header-memo.ts) never reuses them. */
  tags: number[] | undefined;
  /** Bound per instance: a header full of garbage should not make a detail of megabytes. */
  static readonly limit = 12;

  add(kind: 'uid' | 'value' | 'item', tag: number, reason: string): void {
    const target =
      kind === 'uid'
        ? (this.uid ??= new Set())
        : kind === 'value'
          ? (this.value ??= new Set())
          : (this.item ??= new Set());
    this.reported++;
    (this.tags ??= []).push(tag);
    if (target.size >= ValueProblems.limit) return;
    target.add(`${formatTag(tag)} ${attributeName(tag)}: ${reason}`);
  }
}

/** Bytes per value of the binary VRs (PS3.5 6.2). */
const binarySize: Readonly<Record<string, number>> = {
  US: 2,
  SS: 2,
  UL: 4,
  SL: 4,
  FL: 4,
  FD: 8,
  AT: 4,
  SV: 8,
  UV: 8,
  OW: 2,
  OF: 4,
  OL: 4,
  OD: 8,
  OV: 8,
};

/** VRs whose values are counted per element, not split on backslashes (VM is 1 by definition). */
const singleValued: ReadonlySet<string> = new Set(['ST', 'LT', 'UT', 'UR', 'OB', 'UN']);
const bulkVrs: ReadonlySet<string> = new Set(['OB', 'OW', 'OF', 'OL', 'OD', 'OV', 'UN']);

/** Maximum bytes per value (PS3.5 Table 6.2-1) for the VRs in the default repertoire. */
const maxBytes: Readonly<Record<string, number>> = {
  AE: 16,
  AS: 4,
  CS: 16,
  DA: 8,
  DS: 16,
  DT: 26,
  IS: 12,
  TM: 14,
  UI: 64,
};
/** Maximum characters per value for the VRs in the Specific Character Set. */
const maxChars: Readonly<Record<string, number>> = { SH: 16, LO: 64, PN: 64, ST: 1024, LT: 10240 };

/** Everything the checks need to know of a VR, in one lookup per element. */
interface VrInfo {
  /** Bytes per value of a binary VR, 0 otherwise. */
  readonly size: number;
  readonly bulk: boolean;
  /** Text in the Specific Character Set. */
  readonly charset: boolean;
  readonly single: boolean;
  readonly maxChars: number | undefined;
}
const vrInfos = new Map<string, VrInfo>();
for (const vr of [...knownVrs]) {
  vrInfos.set(vr, {
    size: binarySize[vr] ?? 0,
    bulk: bulkVrs.has(vr),
    charset: ['SH', 'LO', 'PN', 'ST', 'LT', 'UC', 'UT'].includes(vr),
    single: singleValued.has(vr),
    maxChars: maxChars[vr],
  });
}
const unknownVr: VrInfo = {
  size: 0,
  bulk: true,
  charset: false,
  single: true,
  maxChars: undefined,
};

/** Character sets whose multi-byte codes may contain the byte 0x5C (PS3.5 6.1.2.5.3). */
const multiByteSets = /ISO 2022 IR (87|159|149|58)|GB18030|GBK/u;

/** The last Specific Character Set seen and its verdict: every instance of a disc repeats it. */
let lastCharacterSet: readonly string[] = [];
let lastMultiByte = false;
function isMultiByte(characterSet: readonly string[]): boolean {
  let same = characterSet.length === lastCharacterSet.length;
  for (let i = 0; same && i < characterSet.length; i++)
    same = characterSet[i] === lastCharacterSet[i];
  if (!same) {
    lastCharacterSet = characterSet;
    lastMultiByte = characterSet.some((term) => multiByteSets.test(term));
  }
  return lastMultiByte;
}

interface VmRange {
  readonly min: number;
  readonly max: number;
  readonly step: number;
}
const vmCache = new Map<string, VmRange>();

/** '1', '1-n', '2-2n', '1-3', '3-3n' (PS3.6 6.4). */
function parseVm(vm: string): VmRange {
  let range = vmCache.get(vm);
  if (range) return range;
  const match = /^(\d+)(?:-(\d+)?(n)?)?$/u.exec(vm);
  if (!match) {
    range = { min: 0, max: Number.MAX_SAFE_INTEGER, step: 1 };
  } else {
    const min = Number(match[1]);
    if (match[3]) {
      range = { min, max: Number.MAX_SAFE_INTEGER, step: match[2] ? Number(match[2]) : 1 };
    } else {
      range = { min, max: match[2] ? Number(match[2]) : min, step: 1 };
    }
  }
  vmCache.set(vm, range);
  return range;
}

function vmProblem(count: number, definition: TagInfo): string | undefined {
  const range = definition.vmRange;
  if (count < range.min || count > range.max || (range.step > 1 && count % range.step !== 0)) {
    return `${count} value(s), the standard allows ${definition.vm}`;
  }
  return undefined;
}

/** A PS3.6 definition with its VM parsed, cached per tag: looked up for every element. */
interface TagInfo {
  readonly vr: string;
  readonly vm: string;
  readonly vmRange: VmRange;
  readonly retired: boolean;
  /** Per IOD (ResolvedIod.index): the tag's Type in it, TYPE1 or TYPE2, 0 for neither. */
  roles: Uint8Array;
  /** A small number per tag seen: where PassedValues keeps the tag's last passed value. */
  readonly id: number;
  /** The dictionary VR's VrInfo, for the usual element encoded with it. */
  readonly vrInfo: VrInfo;
}
const TYPE1 = 1;
const TYPE2 = 2;
const noRoles = new Uint8Array(0);
const tagInfos = new Map<number, TagInfo | null>();

function definitionOf(tag: number): TagInfo | undefined {
  let info = tagInfos.get(tag);
  if (info === undefined) {
    const definition = lookupAttribute(tag);
    info = definition
      ? {
          vr: definition.vr,
          vm: definition.vm,
          vmRange: parseVm(definition.vm),
          retired: definition.retired,
          roles: noRoles,
          id: tagInfos.size,
          vrInfo: vrInfos.get(definition.vr) ?? unknownVr,
        }
      : null;
    tagInfos.set(tag, info);
  }
  return info ?? undefined;
}

const isDigit = (byte: number): boolean => byte >= 0x30 && byte <= 0x39;

function latin1(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i] as number);
  return text;
}

/** PS3.5 9.1: digits and dots, no empty component, no leading zero, at most 64 bytes. */
function uidProblem(bytes: Uint8Array, start: number, end: number): string | undefined {
  if (end - start > 64) return 'longer than 64 characters';
  if (end === start) return undefined;
  let componentStart = start;
  let allZero = true;
  for (let i = start; i <= end; i++) {
    const byte = i < end ? (bytes[i] as number) : 0x2e;
    if (byte === 0x2e) {
      const length = i - componentStart;
      if (length === 0) return 'has an empty component';
      if (length > 1 && bytes[componentStart] === 0x30)
        return 'has a component with a leading zero';
      if (!(length === 1 && bytes[componentStart] === 0x30)) allZero = false;
      componentStart = i + 1;
    } else if (!isDigit(byte)) {
      return 'has characters other than digits and dots';
    }
  }
  return allZero ? 'has only zero components' : undefined;
}

function validDate(bytes: Uint8Array, start: number): boolean {
  for (let i = start; i < start + 8; i++) if (!isDigit(bytes[i] as number)) return false;
  const month = (bytes[start + 4]! - 0x30) * 10 + (bytes[start + 5]! - 0x30);
  const day = (bytes[start + 6]! - 0x30) * 10 + (bytes[start + 7]! - 0x30);
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

const dateTimePattern =
  /^\d{4}((0[1-9]|1[0-2])((0[1-9]|[12]\d|3[01])(([01]\d|2[0-3])([0-5]\d([0-5]\d|60)?(\.\d{1,6})?)?)?)?)?([+-]\d{4})?$/u;

function twoDigits(bytes: Uint8Array, at: number): number {
  return (bytes[at]! - 0x30) * 10 + (bytes[at + 1]! - 0x30);
}

/** TM: HH[MM[SS[.F{1,6}]]] with hours 00-23, minutes 00-59, seconds 00-60 (PS3.5 6.2). */
function validTime(bytes: Uint8Array, start: number, end: number): boolean {
  const length = end - start;
  if (length < 2 || length === 3 || length === 5 || length === 7 || length > 13) return false;
  for (let i = start; i < Math.min(end, start + 6); i++) if (!isDigit(bytes[i]!)) return false;
  if (twoDigits(bytes, start) > 23) return false;
  if (length >= 4 && twoDigits(bytes, start + 2) > 59) return false;
  if (length >= 6 && twoDigits(bytes, start + 4) > 60) return false;
  if (length > 6) {
    if (bytes[start + 6] !== 0x2e) return false;
    for (let i = start + 7; i < end; i++) if (!isDigit(bytes[i]!)) return false;
  }
  return true;
}

/** DS: [+-]digits[.digits][(e|E)[+-]digits], at least one digit before the exponent. */
function validDecimal(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
  let digits = 0;
  while (i < end && isDigit(bytes[i]!)) {
    i++;
    digits++;
  }
  if (i < end && bytes[i] === 0x2e) {
    i++;
    while (i < end && isDigit(bytes[i]!)) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < end && (bytes[i] === 0x65 || bytes[i] === 0x45)) {
    i++;
    if (bytes[i] === 0x2b || bytes[i] === 0x2d) i++;
    let exponent = 0;
    while (i < end && isDigit(bytes[i]!)) {
      i++;
      exponent++;
    }
    if (exponent === 0) return false;
  }
  return i === end;
}

/** One value of a default-repertoire VR, spaces already trimmed. */
function textValueProblem(
  vr: string,
  bytes: Uint8Array,
  start: number,
  end: number,
): string | undefined {
  const max = maxBytes[vr];
  if (max !== undefined && vr !== 'DA' && end - start > max) {
    return `longer than ${max} characters (${vr})`;
  }
  switch (vr) {
    case 'CS':
      for (let i = start; i < end; i++) {
        const byte = bytes[i] as number;
        if (!(isDigit(byte) || (byte >= 0x41 && byte <= 0x5a) || byte === 0x20 || byte === 0x5f)) {
          return 'not upper-case letters, digits, spaces and underscores (CS)';
        }
      }
      return undefined;
    case 'DA':
      if (end === start) return undefined;
      return end - start === 8 && validDate(bytes, start)
        ? undefined
        : 'not a date as YYYYMMDD (DA)';
    case 'TM':
      if (end === start) return undefined;
      return validTime(bytes, start, end) ? undefined : 'not a time as HHMMSS.FFFFFF (TM)';
    case 'DT':
      if (end === start) return undefined;
      return dateTimePattern.test(latin1(bytes, start, end)) ? undefined : 'not a date-time (DT)';
    case 'AS': {
      if (end === start) return undefined;
      const unit = bytes[start + 3];
      const age =
        end - start === 4 &&
        isDigit(bytes[start]!) &&
        isDigit(bytes[start + 1]!) &&
        isDigit(bytes[start + 2]!) &&
        (unit === 0x44 || unit === 0x57 || unit === 0x4d || unit === 0x59);
      return age ? undefined : 'not an age as nnnD/W/M/Y (AS)';
    }
    case 'IS': {
      if (end === start) return undefined;
      // [+-]digits, within a signed 32-bit integer.
      let i = start;
      const negative = bytes[i] === 0x2d;
      if (negative || bytes[i] === 0x2b) i++;
      if (i === end) return 'not an integer (IS)';
      let value = 0;
      for (; i < end; i++) {
        const byte = bytes[i]!;
        if (!isDigit(byte)) return 'not an integer (IS)';
        value = value * 10 + (byte - 0x30);
      }
      const limit = negative ? 2 ** 31 : 2 ** 31 - 1;
      return value > limit ? 'integer out of range (IS)' : undefined;
    }
    case 'DS':
      if (end === start) return undefined;
      return validDecimal(bytes, start, end) ? undefined : 'not a decimal number (DS)';
    case 'AE':
      return undefined;
    default:
      return undefined;
  }
}

/** VRs a dictionary entry stands for when DCMTK's table names several (xs, ox, lt, px). */
function vrAccepted(dictionaryVr: string, vr: string): boolean {
  if (dictionaryVr === vr || vr === 'UN') return true;
  if (dictionaryVr === 'US') return vr === 'SS' || vr === 'OW';
  if (dictionaryVr === 'OW') return vr === 'OB' || vr === 'US' || vr === 'SS';
  return false;
}

export interface ValueCheckContext {
  readonly explicitVr: boolean;
  readonly problems: ValueProblems;
  /** Checks UIDs only (a rule set for speed tests); everything by default. */
  readonly uidOnly?: boolean;
  /** Set when a dataset's elements are not in ascending tag order (PS3.5 7.1). */
  outOfOrder?: boolean;
  /** Set when text beyond ASCII is found where no Specific Character Set applies (PS3.5 6.1.2.3). */
  nonAsciiWithoutCharset?: boolean;
  /** Text elements that passed in earlier instances of the run, skipped when they repeat. */
  readonly passed?: PassedValues;
  /** Set by the pass over a top-level dataset given its IOD: its Type 1 attributes present and
   * not empty, its Type 2 attributes present. Equal to the IOD's counts, nothing is missing. */
  type1Present?: number;
  type2Present?: number;
}

let itemRules: ReadonlyMap<number, CompiledItemRule> | undefined;

/** Tags whose presence a pass counts: an IOD's Type 1 and 2 attributes, or the file meta's. */
export type RoleTable = Pick<ResolvedIod, 'index' | 'type1' | 'type2'>;

/**
 * Checks every element of `dataset` and its items (depth bounded by the parser); `sequence` is
 * the tag of the sequence an item belongs to.
 */
export function checkValues(
  dataset: DicomDataset,
  context: ValueCheckContext,
  iod?: RoleTable,
  sequence = 0,
): void {
  const characterSet = dataset.characterSet;
  const multiByte = characterSet.length > 0 && isMultiByte(characterSet);
  itemRules ??= itemRulesBySequence();
  const index = iod ? registerRoles(iod) : -1;
  const slots = slotsFor(iod ? -1 - iod.index : sequence);
  const slotTags = slots.tags;
  const slotDefinitions = slots.definitions;
  const slotRoles = slots.roles;
  let position = 0;
  let type1 = 0;
  let type2 = 0;
  let previous = -1;
  for (const element of dataset.elements.values()) {
    const tag = element.tag;
    if (tag <= previous) context.outOfOrder = true;
    previous = tag;
    // Instances of a disc mostly repeat the same tags in the same order: the definition and
    // the IOD's Type found at this position last time are reused while the tag is the same.
    let definition: TagInfo | undefined;
    let role: number;
    if (position < slotTags.length && slotTags[position] === tag) {
      definition = slotDefinitions[position];
      role = slotRoles[position]!;
    } else {
      definition = (tag >>> 16) % 2 === 1 ? undefined : definitionOf(tag);
      role =
        definition && index >= 0 && index < definition.roles.length ? definition.roles[index]! : 0;
      if (position < slotTags.length) {
        slotTags[position] = tag;
        slotDefinitions[position] = definition;
        slotRoles[position] = role;
      } else {
        slotTags.push(tag);
        slotDefinitions.push(definition);
        slotRoles.push(role);
      }
    }
    position++;
    // The IOD's Type 1 and Type 2 attributes, counted in this pass (precompiled roles).
    if (role === TYPE2) type2++;
    else if (role === TYPE1 && !isEmptyValue(dataset, element, definition)) type1++;
    if (element.items) {
      const rule = context.uidOnly ? undefined : itemRules.get(tag);
      for (const item of element.items) {
        if (rule) checkItem(tag, item, rule, context.problems);
        checkValues(item, context, undefined, tag);
      }
      continue;
    }
    checkElement(dataset, element, definition, multiByte, context);
  }
  if (iod) {
    context.type1Present = type1;
    context.type2Present = type2;
  }
}

/**
 * The checks checkValues runs on one top-level element that is not a sequence: for an element
 * whose value changed since the instance a header memo remembers (header-memo.ts).
 */
export function checkTopLevelElement(
  dataset: DicomDataset,
  element: DicomElement,
  context: ValueCheckContext,
): void {
  const tag = element.tag;
  const characterSet = dataset.characterSet;
  const multiByte = characterSet.length > 0 && isMultiByte(characterSet);
  const definition = (tag >>> 16) % 2 === 1 ? undefined : definitionOf(tag);
  checkElement(dataset, element, definition, multiByte, context);
}

/**
 * The tags met at each position of a dataset, and their definitions: one table per IOD (top
 * level, keyed -1 - index) and per sequence (its items, keyed by the sequence's tag). Tags and
 * dictionary entries only, never values: they may outlive a run.
 */
interface Slots {
  readonly tags: number[];
  readonly definitions: (TagInfo | undefined)[];
  /** The tag's Type in the IOD (TYPE1, TYPE2, 0). */
  readonly roles: number[];
}
const slotsByKey = new Map<number, Slots>();
function slotsFor(key: number): Slots {
  let slots = slotsByKey.get(key);
  if (slots === undefined) {
    slots = { tags: [], definitions: [], roles: [] };
    slotsByKey.set(key, slots);
  }
  return slots;
}

/** Writes an IOD's Type 1 and Type 2 tags into their TagInfo, once per IOD. */
const registeredIods = new Set<number>();
function registerRoles(iod: RoleTable): number {
  const index = iod.index;
  if (registeredIods.has(index)) return index;
  registeredIods.add(index);
  const assign = (tags: readonly number[], role: number): void => {
    for (const tag of tags) {
      const definition = definitionOf(tag);
      if (!definition) continue;
      if (definition.roles.length <= index) {
        const grown = new Uint8Array(Math.max(16, (index + 1) * 2));
        grown.set(definition.roles);
        definition.roles = grown;
      }
      definition.roles[index] = role;
    }
  };
  assign(iod.type1, TYPE1);
  assign(iod.type2, TYPE2);
  return index;
}

const codeValue = 0x00080100;
const codingSchemeDesignator = 0x00080102;
const longCodeValue = 0x00080119;
const urnCodeValue = 0x00080120;
const referencedSopClassUid = 0x00081150;
const referencedFrameNumber = 0x00081160;

/** One item of a sequence against what its macro requires (iods.ts, itemRequirements). */
function checkItem(
  sequence: number,
  item: DicomDataset,
  rule: CompiledItemRule,
  problems: ValueProblems,
): void {
  const elements = item.elements;
  for (const tag of rule.type1) {
    const element = elements.get(tag);
    if (!element || isEmptyValue(item, element)) {
      const state = element ? 'empty' : 'absent';
      problems.add('item', sequence, `item Type 1 ${state}: ${named(tag)} (PS3.3 ${rule.section})`);
    }
  }
  for (const tag of rule.type2) {
    if (!elements.has(tag))
      problems.add('item', sequence, `item Type 2 absent: ${named(tag)} (PS3.3 ${rule.section})`);
  }
  if (rule.code) {
    // Table 8.8-1: Code Value, or Long Code Value or URN Code Value instead; then its scheme.
    const hasValue = filled(item, codeValue) || filled(item, longCodeValue);
    if (!hasValue && !filled(item, urnCodeValue)) {
      problems.add(
        'item',
        sequence,
        `item without Code Value ${formatTag(codeValue)} (PS3.3 Table 8.8-1)`,
      );
    } else if (hasValue && !filled(item, codingSchemeDesignator)) {
      problems.add(
        'item',
        sequence,
        `item Type 1C absent: ${named(codingSchemeDesignator)} (PS3.3 Table 8.8-1)`,
      );
    }
  }
  if (rule.reference && filled(item, referencedFrameNumber)) {
    // Table 10-3: frame numbers only for multi-frame objects.
    const classUid = defaultText(item, referencedSopClassUid);
    const iod = classUid ? lookupSopClass(classUid)?.iod : undefined;
    if (iod && singleFrameIods.has(iod)) {
      problems.add(
        'item',
        sequence,
        `item has ${named(referencedFrameNumber)} for a single-frame ${iod} (PS3.3 Table 10-3)`,
      );
    }
  }
}

function named(tag: number): string {
  return `${attributeName(tag)} ${formatTag(tag)}`;
}

function filled(dataset: DicomDataset, tag: number): boolean {
  const element = dataset.elements.get(tag);
  return element !== undefined && !isEmptyValue(dataset, element);
}

/** A default-repertoire value (UI, CS) with its padding trimmed. */
export function defaultText(dataset: DicomDataset, tag: number): string {
  const element = dataset.elements.get(tag);
  if (!element || element.items || element.undefinedLength) return '';
  const bytes = dataset.bytes;
  let start = element.valueOffset;
  let end = Math.min(bytes.length, start + element.length);
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
  while (start < end && bytes[start] === 0x20) start++;
  return latin1(bytes, start, end);
}

/** Absent-equivalent: no items, no bytes, or only padding for a text VR (PS3.5 7.4). */
export function isEmptyValue(
  dataset: DicomDataset,
  element: DicomElement,
  definition?: TagInfo,
): boolean {
  if (element.items) return element.items.length === 0;
  if (element.length === 0) return true;
  if (element.undefinedLength) return false;
  const info =
    definition !== undefined && definition.vr === element.vr
      ? definition.vrInfo
      : (vrInfos.get(element.vr) ?? unknownVr);
  if (info.size !== 0 || info.bulk) return false;
  const bytes = dataset.bytes;
  return isBlank(
    bytes,
    element.valueOffset,
    Math.min(bytes.length, element.valueOffset + element.length),
  );
}

function checkElement(
  dataset: DicomDataset,
  element: DicomElement,
  definition: TagInfo | undefined,
  multiByte: boolean,
  context: ValueCheckContext,
): void {
  const { tag, vr } = element;
  const problems = context.problems;
  if (element.undefinedLength || element.length === 0) return;
  const group = tag >>> 16;
  if (group === 0x7fe0 || (tag & 0xffff) === 0) return;
  const bytes = dataset.bytes;
  const start = element.valueOffset;
  const end = start + element.length;
  if (end > bytes.length) return;
  if (element.length % 2 === 1) problems.add('value', tag, 'odd value length (PS3.5 7.1.1)');
  const isPrivate = group % 2 === 1;
  if (context.explicitVr && definition && !definition.retired && !vrAccepted(definition.vr, vr)) {
    problems.add('value', tag, `encoded as ${vr}, the standard says ${definition.vr}`);
    return;
  }
  const info =
    definition !== undefined && definition.vr === vr
      ? definition.vrInfo
      : (vrInfos.get(vr) ?? unknownVr);
  const size = info.size;
  if (size !== 0) {
    if (element.length % size !== 0) {
      problems.add('value', tag, `length ${element.length} is not a multiple of ${size} (${vr})`);
    } else if (definition && !info.bulk) {
      const problem = vmProblem(element.length / size, definition);
      if (problem) problems.add('value', tag, problem);
    }
    return;
  }
  if (info.bulk || vr === 'SQ' || isPrivate) return;
  // Remembered by the tag's dictionary entry; an element outside the dictionary is checked anew.
  const passed = context.uidOnly || !definition ? undefined : context.passed;
  const id = definition ? definition.id : -1;
  if (passed?.has(id, vr, bytes, start, end)) return;
  const before = problems.reported;

  if (vr === 'UI') {
    let valueEnd = end;
    if (bytes[valueEnd - 1] === 0) valueEnd--;
    let valueStart = start;
    let count = 0;
    for (let i = start; i <= valueEnd; i++) {
      if (i === valueEnd || bytes[i] === 0x5c) {
        count++;
        const problem = uidProblem(bytes, valueStart, i);
        if (problem) problems.add('uid', tag, problem);
        valueStart = i + 1;
      }
    }
    if (definition) {
      const problem = vmProblem(count, definition);
      if (problem) problems.add('value', tag, problem);
    }
    if (passed && problems.reported === before) passed.remember(id, vr, bytes, start, end);
    return;
  }
  if (context.uidOnly) return;

  // One scan of the bytes: only padding? a control character PS3.5 6.1.3 does not allow (ESC
  // everywhere, layout characters in ST/LT/UT)? text beyond ASCII? how many separators?
  const layout = vr === 'ST' || vr === 'LT' || vr === 'UT';
  let blank = true;
  let control = -1;
  let high = false;
  let plain = true;
  let separators = 0;
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if (byte === 0x20) continue;
    if (byte === 0) {
      if (control < 0) control = 0;
      continue;
    }
    blank = false;
    if (byte < 0x20 || byte >= 0x7f) plain = false;
    if (byte < 0x20) {
      if (
        control < 0 &&
        byte !== 0x1b &&
        !(layout && (byte === 0x0a || byte === 0x0d || byte === 0x0c || byte === 0x09))
      ) {
        control = byte;
      }
    } else if (byte >= 0x80) high = true;
    else if (byte === 0x5c) separators++;
  }
  if (blank) return;
  if (control >= 0) {
    const problem =
      control === 0 ? 'padded or filled with NUL bytes' : 'contains control characters';
    problems.add('value', tag, problem);
    return;
  }
  if (info.charset) {
    if (high && dataset.characterSet.length === 0 && group !== 0x0002)
      context.nonAsciiWithoutCharset = true;
    const limit = info.maxChars;
    let values: string[] | undefined;
    if (multiByte || (limit !== undefined && element.length > limit)) {
      const text = decodeDicomText(bytes.subarray(start, end), dataset.characterSet, vr);
      values = info.single ? [text] : text.split('\\');
      if (limit !== undefined) {
        for (const value of values) {
          const groups = vr === 'PN' ? value.split('=') : [value];
          if (groups.some((part) => [...part.trimEnd()].length > limit)) {
            problems.add('value', tag, `longer than ${limit} characters (${vr})`);
            break;
          }
        }
      }
    }
    if (definition && !info.single) {
      const count = values ? values.length : separators + 1;
      const problem = vmProblem(count, definition);
      if (problem) problems.add('value', tag, problem);
    }
    if (passed && plain && problems.reported === before) passed.remember(id, vr, bytes, start, end);
    return;
  }
  // Default repertoire VRs: each value, leading and trailing spaces insignificant (PS3.5 6.2).
  let count = 0;
  let valueStart = start;
  for (let i = start; i <= end; i++) {
    if (i === end || bytes[i] === 0x5c) {
      count++;
      let a = valueStart;
      let b = i;
      while (a < b && bytes[a] === 0x20) a++;
      while (b > a && bytes[b - 1] === 0x20) b--;
      const problem = textValueProblem(vr, bytes, a, b);
      if (problem) problems.add('value', tag, problem);
      valueStart = i + 1;
    }
  }
  if (definition && !info.single) {
    const problem = vmProblem(count, definition);
    if (problem) problems.add('value', tag, problem);
  }
  if (passed && problems.reported === before) passed.remember(id, vr, bytes, start, end);
}

/** Only padding: an empty value as far as Type 2 and VM are concerned. */
function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0x20 && bytes[i] !== 0) return false;
  return true;
}
