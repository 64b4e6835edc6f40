import { decodeDicomText, trimDicomText } from './charset.ts';
import type { DicomDataset, DicomElement } from './parse.ts';

/** VRs whose values are text in the Specific Character Set (PS3.5 6.1.2.3). */
const characterSetVrs: ReadonlySet<string> = new Set(['SH', 'LO', 'ST', 'LT', 'UT', 'PN', 'UC']);

export function valueBytes(dataset: DicomDataset, element: DicomElement): Uint8Array {
  return dataset.bytes.subarray(element.valueOffset, element.valueOffset + element.length);
}

function latin1(bytes: Uint8Array): string {
  return bufferOf(bytes).toString('latin1');
}

/** One Buffer view per source, so slicing text out of it allocates nothing but the string. */
const bufferViews = new WeakMap<Uint8Array, Buffer>();
function bufferOf(bytes: Uint8Array): Buffer {
  // A Buffer already (file reads, the scanner's read buffer): no view, no weak-map entry to
  // collect later.
  if (Buffer.isBuffer(bytes)) return bytes;
  let view = bufferViews.get(bytes);
  if (!view) {
    view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    bufferViews.set(bytes, view);
  }
  return view;
}

const keepsLeadingSpaces: ReadonlySet<string> = new Set(['ST', 'LT', 'UT']);

/**
 * The common case, fast: one value of printable ASCII (no delimiter, escape or control
 * character), whose decoding is the same in every character set Ferry knows; padding trimmed
 * as trimDicomText does. Undefined when the value needs the full decoder.
 */
function plainAsciiText(dataset: DicomDataset, element: DicomElement): string | undefined {
  const bytes = dataset.bytes;
  let start = element.valueOffset;
  let end = Math.min(start + element.length, bytes.length);
  while (end > start && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
  if (!keepsLeadingSpaces.has(element.vr)) while (start < end && bytes[start] === 0x20) start++;
  for (let i = start; i < end; i++) {
    const byte = bytes[i] as number;
    if (byte >= 0x7f || byte < 0x20 || byte === 0x5c) return undefined;
  }
  return bufferOf(bytes).toString('latin1', start, end);
}

/**
 * The value of a text attribute as Unicode: decoded per the dataset's Specific Character Set
 * for SH/LO/ST/LT/UT/PN/UC, as the default repertoire otherwise; padding trimmed (PS3.5 6.2).
 */
export function getText(dataset: DicomDataset, tag: number): string | undefined {
  const element = dataset.elements.get(tag);
  if (!element || element.items) return undefined;
  const plain = plainAsciiText(dataset, element);
  if (plain !== undefined) return plain;
  const raw = valueBytes(dataset, element);
  const text = characterSetVrs.has(element.vr)
    ? decodeDicomText(raw, dataset.characterSet, element.vr)
    : latin1(raw);
  return trimDicomText(text, element.vr);
}

/** Multi-valued text split on the backslash delimiter, each value trimmed. */
export function getTexts(dataset: DicomDataset, tag: number): string[] {
  const element = dataset.elements.get(tag);
  if (!element || element.items) return [];
  const raw = valueBytes(dataset, element);
  const text = characterSetVrs.has(element.vr)
    ? decodeDicomText(raw, dataset.characterSet, element.vr)
    : latin1(raw);
  if (text.replace(/[\s\0]/gu, '') === '') return [];
  return text.split('\\').map((value) => trimDicomText(value, element.vr));
}

/** An integer from IS, US, UL, SS or SL; undefined when absent or not a number. */
export function getInteger(dataset: DicomDataset, tag: number): number | undefined {
  const element = dataset.elements.get(tag);
  if (!element || element.items) return undefined;
  switch (element.vr) {
    case 'US':
    case 'SS':
    case 'UL':
    case 'SL':
      return binaryInteger(dataset, element);
    default: {
      const plain = plainInteger(dataset.bytes, element);
      return plain === NOT_PLAIN ? textInteger(dataset, tag) : plain;
    }
  }
}

/** US, SS, UL or SL from its bytes, in the dataset's byte order (no DataView per value). */
function binaryInteger(dataset: DicomDataset, element: DicomElement): number | undefined {
  const bytes = dataset.bytes;
  const at = element.valueOffset;
  const size = element.vr === 'US' || element.vr === 'SS' ? 2 : 4;
  if (element.length < size || at + size > bytes.length) return undefined;
  const b0 = bytes[at] as number;
  const b1 = bytes[at + 1] as number;
  if (size === 2) {
    const unsigned = dataset.littleEndian ? b0 | (b1 << 8) : (b0 << 8) | b1;
    return element.vr === 'US' ? unsigned : (unsigned << 16) >> 16;
  }
  const b2 = bytes[at + 2] as number;
  const b3 = bytes[at + 3] as number;
  const signed = dataset.littleEndian
    ? b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)
    : (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
  return element.vr === 'UL' ? signed >>> 0 : signed;
}

/** The first value of an IS as text, then as a number (the general path). */
function textInteger(dataset: DicomDataset, tag: number): number | undefined {
  const text = getText(dataset, tag);
  if (text === undefined || text === '') return undefined;
  const first = text.split('\\')[0]?.trim() ?? '';
  if (!/^[+-]?\d+$/u.test(first)) return undefined;
  return Number.parseInt(first, 10);
}

const NOT_PLAIN = Symbol('not a plain integer string');

/**
 * The common IS, read straight from its bytes: spaces, an optional sign and at most 15 digits
 * (exact in a double), then spaces and the end of the value or a backslash; trailing NULs and
 * spaces are padding. Undefined for an empty value; NOT_PLAIN when anything else is there, for
 * the general path to decide.
 */
function plainInteger(
  bytes: Uint8Array,
  element: DicomElement,
): number | undefined | typeof NOT_PLAIN {
  let pos = element.valueOffset;
  let end = Math.min(pos + element.length, bytes.length);
  while (end > pos && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0)) end--;
  while (pos < end && bytes[pos] === 0x20) pos++;
  if (pos === end) return undefined;
  let sign = 1;
  if (bytes[pos] === 0x2b || bytes[pos] === 0x2d) {
    if (bytes[pos] === 0x2d) sign = -1;
    pos++;
  }
  const digitsStart = pos;
  let value = 0;
  while (pos < end) {
    const byte = bytes[pos] as number;
    if (byte < 0x30 || byte > 0x39) break;
    value = value * 10 + (byte - 0x30);
    pos++;
  }
  const digits = pos - digitsStart;
  if (digits === 0 || digits > 15) return NOT_PLAIN;
  while (pos < end && bytes[pos] === 0x20) pos++;
  if (pos < end && bytes[pos] !== 0x5c) return NOT_PLAIN;
  return sign * value;
}

export function getItems(dataset: DicomDataset, tag: number): readonly DicomDataset[] {
  return dataset.elements.get(tag)?.items ?? [];
}
