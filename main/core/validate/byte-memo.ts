/**
 * Reading the few values the rules compare, cheaply. Consecutive instances of a disc mostly
 * repeat them (the same SOP class, modality, study, series, image type…), so each value is
 * remembered with its bytes and reused while the bytes are the same: comparing 30 bytes costs
 * far less than building a string and looking it up. One memo lives as long as one validation
 * run (InstanceChecks), never longer: the values are a patient's.
 */
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import { HeaderMemo } from './header-memo.ts';

/**
 * A copy, never a view: `Buffer#slice` shares memory, and the scan reuses its read buffer for
 * the next file.
 */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const copy = new Uint8Array(end - start);
  for (let i = start; i < end; i++) copy[i - start] = bytes[i]!;
  return copy;
}

interface Entry<T> {
  bytes: Uint8Array;
  value: T;
}

/** The last value computed from some bytes, per key, reused while the bytes repeat. */
export class ByteMemo<K, T> {
  private readonly entries = new Map<K, Entry<T>>();

  get(key: K, bytes: Uint8Array, start: number, end: number): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const remembered = entry.bytes;
    if (remembered.length !== end - start) return undefined;
    // From the end, as PassedValues.has.
    for (let i = end - start - 1; i >= 0; i--)
      if (remembered[i] !== bytes[start + i]) return undefined;
    return entry.value;
  }

  set(key: K, bytes: Uint8Array, start: number, end: number, value: T): T {
    const entry = this.entries.get(key);
    const copy = copyOf(bytes, start, end);
    if (entry) {
      entry.bytes = copy;
      entry.value = value;
    } else {
      this.entries.set(key, { bytes: copy, value });
    }
    return value;
  }
}

/** Where the last `trim` put a value's bytes (one object for all calls: no allocation). */
export const trimmed = { start: 0, end: 0 };

/**
 * Sets `trimmed` to the value's bytes without leading spaces and trailing spaces or NULs
 * (PS3.5 6.2); false for a sequence or an undefined length.
 */
export function trim(dataset: DicomDataset, element: DicomElement): boolean {
  if (element.items || element.undefinedLength) return false;
  const bytes = dataset.bytes;
  let start = element.valueOffset;
  let end = Math.min(bytes.length, start + element.length);
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
  while (start < end && bytes[start] === 0x20) start++;
  trimmed.start = start;
  trimmed.end = end;
  return true;
}

export function latin1(bytes: Uint8Array, start: number, end: number): string {
  // Buffer's native decoder beats any loop but for the shortest values (CS, IS).
  if (Buffer.isBuffer(bytes)) return bytes.toString('latin1', start, end);
  if (end - start > 12)
    return Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('latin1');
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i] as number);
  return text;
}

/**
 * Elements that passed every value check, by tag: the same tag with the same VR and the same
 * bytes in the next instance passes again without being checked. Only values whose verdict
 * depends on nothing else are remembered: default-repertoire text, and text in the Specific
 * Character Set made of printable ASCII alone (its length in characters is its length in bytes
 * whatever the character set).
 */
export class PassedValues {
  /** By the tag's dictionary entry id (values.ts): an array index, not a map lookup. */
  private readonly byId: Array<PassedEntry | undefined> = [];

  has(id: number, vr: string, bytes: Uint8Array, start: number, end: number): boolean {
    const entry = this.byId[id];
    if (entry === undefined) return false;
    if (entry.misses >= PassedValues.volatile) {
      // A value that differs in every instance (SOP Instance UID, Instance Number, positions):
      // not compared nor copied, but tried again now and then.
      if (++entry.misses >= PassedValues.retry) entry.misses = 0;
      return false;
    }
    const remembered = entry.bytes;
    if (entry.vr !== vr || remembered.length !== end - start) {
      entry.misses++;
      return false;
    }
    // From the end: values that change (counters, instance UIDs) mostly differ in their last
    // bytes; values that repeat are compared whole either way.
    for (let i = end - start - 1; i >= 0; i--) {
      if (remembered[i] !== bytes[start + i]) {
        entry.misses++;
        return false;
      }
    }
    entry.misses = 0;
    return true;
  }

  remember(id: number, vr: string, bytes: Uint8Array, start: number, end: number): void {
    const entry = this.byId[id];
    const length = end - start;
    if (entry !== undefined && entry.misses >= PassedValues.volatile) return;
    if (entry !== undefined && entry.bytes.length === length) {
      // Values that change from instance to instance mostly keep their length: reuse the copy
      // rather than allocate one per instance.
      entry.vr = vr;
      const remembered = entry.bytes;
      for (let i = 0; i < length; i++) remembered[i] = bytes[start + i]!;
    } else if (entry !== undefined) {
      entry.vr = vr;
      entry.bytes = copyOf(bytes, start, end);
    } else {
      while (this.byId.length < id) this.byId.push(undefined);
      this.byId[id] = { vr, bytes: copyOf(bytes, start, end), misses: 0 };
    }
  }

  /** Misses in a row after which a tag's values are no longer compared, and when to retry. */
  static readonly volatile = 3;
  static readonly retry = 64;
}

interface PassedEntry {
  vr: string;
  bytes: Uint8Array;
  /** Instances in a row whose value differed from the one remembered. */
  misses: number;
}

/**
 * What one validation run remembers from instance to instance (never longer: the values are a
 * patient's): default-repertoire texts (UI, CS) by tag, rule verdicts by rule, passed elements,
 * and the last header checked in full with its findings (header-memo.ts).
 */
export class InstanceMemo {
  private readonly memo = new ByteMemo<number, string>();
  /** Verdicts of rules on a value (enumerations), keyed by the rule. */
  readonly verdicts = new ByteMemo<object, string>();
  readonly passed = new PassedValues();
  /**
   * The last header checked per SOP class (header-memo.ts): a disc's series of one kind repeat
   * each other's headers but for their UIDs, numbers and descriptions, so the first instance of
   * a series needs every rule only when no series of its class came before. Bounded: a disc of
   * many classes keeps the first few.
   */
  private readonly headersByClass = new Map<string, HeaderMemo>();
  private lastClass: string | undefined;
  private lastHeaders: HeaderMemo | undefined;
  static readonly headerClasses = 16;

  headers(sopClassUid: string): HeaderMemo {
    if (sopClassUid === this.lastClass && this.lastHeaders !== undefined) return this.lastHeaders;
    let headers = this.headersByClass.get(sopClassUid);
    if (headers === undefined) {
      headers = new HeaderMemo();
      if (this.headersByClass.size < InstanceMemo.headerClasses)
        this.headersByClass.set(sopClassUid, headers);
    }
    this.lastClass = sopClassUid;
    this.lastHeaders = headers;
    return headers;
  }

  /** The value (all of it, backslashes included) trimmed; '' when absent. */
  text(dataset: DicomDataset | undefined, tag: number): string {
    const element = dataset?.elements.get(tag);
    if (!dataset || !element) return '';
    if (!trim(dataset, element) || trimmed.start === trimmed.end) return '';
    const { start, end } = trimmed;
    const bytes = dataset.bytes;
    return (
      this.memo.get(tag, bytes, start, end) ??
      this.memo.set(tag, bytes, start, end, latin1(bytes, start, end))
    );
  }

  /** The same without remembering: for values that differ in every instance (SOP Instance UID). */
  once(dataset: DicomDataset | undefined, tag: number): string {
    const element = dataset?.elements.get(tag);
    if (!dataset || !element) return '';
    return trim(dataset, element) ? latin1(dataset.bytes, trimmed.start, trimmed.end) : '';
  }
}

/** Do two elements hold the same trimmed value? undefined when either is absent or empty. */
export function sameValue(
  a: DicomDataset,
  tagA: number,
  b: DicomDataset,
  tagB: number,
): boolean | undefined {
  const elementA = a.elements.get(tagA);
  const elementB = b.elements.get(tagB);
  if (!elementA || !elementB) return undefined;
  // Usually both are written alike, padding included: compare the raw bytes first.
  const rawLength = elementA.length;
  if (
    rawLength > 0 &&
    rawLength === elementB.length &&
    !elementA.undefinedLength &&
    !elementB.undefinedLength &&
    elementA.valueOffset + rawLength <= a.bytes.length &&
    elementB.valueOffset + rawLength <= b.bytes.length
  ) {
    const bytesA = a.bytes;
    const bytesB = b.bytes;
    const offsetA = elementA.valueOffset;
    const offsetB = elementB.valueOffset;
    let i = 0;
    while (i < rawLength && bytesA[offsetA + i] === bytesB[offsetB + i]) i++;
    const first = bytesA[offsetA];
    if (i === rawLength && first !== 0x20 && first !== 0) return true;
  }
  if (!trim(a, elementA)) return undefined;
  const startA = trimmed.start;
  const length = trimmed.end - startA;
  if (!trim(b, elementB) || length === 0 || trimmed.start === trimmed.end) return undefined;
  if (length !== trimmed.end - trimmed.start) return false;
  for (let i = 0; i < length; i++) {
    if (a.bytes[startA + i] !== b.bytes[trimmed.start + i]) return false;
  }
  return true;
}
