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
  const view = new DataView(
    dataset.bytes.buffer,
    dataset.bytes.byteOffset + element.valueOffset,
    Math.min(element.length, dataset.bytes.length - element.valueOffset),
  );
  switch (element.vr) {
    case 'US':
      return element.length >= 2 ? view.getUint16(0, dataset.littleEndian) : undefined;
    case 'SS':
      return element.length >= 2 ? view.getInt16(0, dataset.littleEndian) : undefined;
    case 'UL':
      return element.length >= 4 ? view.getUint32(0, dataset.littleEndian) : undefined;
    case 'SL':
      return element.length >= 4 ? view.getInt32(0, dataset.littleEndian) : undefined;
    default: {
      const text = getText(dataset, tag);
      if (text === undefined || text === '') return undefined;
      const first = text.split('\\')[0]?.trim() ?? '';
      if (!/^[+-]?\d+$/u.test(first)) return undefined;
      return Number.parseInt(first, 10);
    }
  }
}

export function getItems(dataset: DicomDataset, tag: number): readonly DicomDataset[] {
  return dataset.elements.get(tag)?.items ?? [];
}
