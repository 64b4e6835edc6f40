/**
 * DICOM Part 10 writer for rewritten headers (PS3.10 7.1, PS3.5 7.1 and 7.5).
 *
 * The writer encodes an output dataset — a list of elements that are either new values or
 * references to the source's value bytes — as explicit VR little endian, and stops at Pixel
 * Data: the pixel value is described by a range of the source, to be streamed through
 * untouched (or through a transform: byte swapping for big-endian sources, masking). Headers
 * are small; pixel data never becomes a whole-file buffer here.
 *
 * Output transfer syntax: an encapsulated source keeps its transfer syntax (its header is
 * already explicit VR little endian). Native sources — implicit VR little endian, explicit VR
 * big endian (retired; many archives refuse it), deflated — are written as explicit VR little
 * endian: the header is re-encoded, and big-endian OW/OF/OD/OL/OV pixel data is byte-swapped
 * while it streams.
 */
import { longLengthVrs, lookupAttribute, Tag, TransferSyntax } from './dictionary.ts';
import type { DicomDataset, DicomElement } from './parse.ts';

/** An element of the output: a new value, the source's value, or a sequence of output items. */
export type OutputElement =
  | {
      readonly kind: 'value';
      readonly tag: number;
      readonly vr: string;
      readonly value: Uint8Array;
    }
  | {
      readonly kind: 'source';
      readonly tag: number;
      readonly vr: string;
      readonly dataset: DicomDataset;
      readonly element: DicomElement;
    }
  | { readonly kind: 'sequence'; readonly tag: number; readonly items: readonly OutputDataset[] };

export interface OutputDataset {
  /** In any order: the writer sorts by tag (PS3.5 7.1: ascending order). */
  readonly elements: readonly OutputElement[];
}

/**
 * Where the pixel value comes from: a byte range of the source file, bytes in memory, or chunks
 * made while it streams (decoded and masked frames; `PixelElement.length` says their total).
 */
export type PixelSource =
  | { readonly kind: 'range'; readonly start: number; readonly end: number }
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array }
  | { readonly kind: 'frames'; readonly frames: () => AsyncIterable<Uint8Array> };

export interface PixelElement {
  readonly tag: number;
  readonly vr: string;
  /** Encapsulated (PS3.5 A.4): the source holds fragment items and the delimiter. */
  readonly undefinedLength: boolean;
  readonly source: PixelSource;
  /** Byte-swap unit for a big-endian source (2 for OW, 4 for OF/OL, 8 for OD/OV), else 0. */
  readonly swap: 0 | 2 | 4 | 8;
  readonly length: number;
}

export interface FileMetaValues {
  readonly mediaStorageSopClassUid: string;
  readonly mediaStorageSopInstanceUid: string;
  readonly transferSyntaxUid: string;
}

/** Ferry's implementation identity (PS3.7 D.3.3.2), in every file it writes. */
export const ferryImplementationClassUid = '2.25.233520427806178497432839163045591180871';
export const ferryImplementationVersionName = 'DICOMFERRY_010';

/** An encoded instance: header bytes, the pixel value to stream, and what follows it. */
export interface EncodedInstance {
  readonly transferSyntaxUid: string;
  /** Preamble, meta information, dataset up to and including Pixel Data's tag/VR/length. */
  readonly header: Uint8Array;
  readonly pixel: PixelElement | undefined;
  /** Elements after Pixel Data (rare), already encoded. */
  readonly trailer: Uint8Array;
  readonly byteLength: number;
}

const textVrs: ReadonlySet<string> = new Set([
  'AE',
  'AS',
  'CS',
  'DA',
  'DS',
  'DT',
  'IS',
  'LO',
  'LT',
  'PN',
  'SH',
  'ST',
  'TM',
  'UC',
  'UR',
  'UT',
]);

/** Byte-swap unit of a VR's values in a big-endian source (PS3.5 7.3). */
export function swapUnit(vr: string): 0 | 2 | 4 | 8 {
  switch (vr) {
    case 'US':
    case 'SS':
    case 'OW':
    case 'AT':
      return 2;
    case 'UL':
    case 'SL':
    case 'FL':
    case 'OF':
    case 'OL':
      return 4;
    case 'FD':
    case 'OD':
    case 'SV':
    case 'UV':
    case 'OV':
      return 8;
    default:
      return 0;
  }
}

/** Swaps each `unit`-byte group of `bytes` in place. A trailing partial group is left alone. */
export function swapInPlace(bytes: Uint8Array, unit: 0 | 2 | 4 | 8): void {
  if (unit === 0) return;
  const whole = bytes.length - (bytes.length % unit);
  for (let i = 0; i < whole; i += unit) {
    for (let a = i, b = i + unit - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
}

/** The transfer syntax Ferry writes for a source transfer syntax (see the file comment). */
export function outputTransferSyntax(sourceTransferSyntaxUid: string): string {
  switch (sourceTransferSyntaxUid) {
    case TransferSyntax.ImplicitVrLittleEndian:
    case TransferSyntax.ExplicitVrLittleEndian:
    case TransferSyntax.ExplicitVrBigEndian:
    case TransferSyntax.DeflatedExplicitVrLittleEndian:
      return TransferSyntax.ExplicitVrLittleEndian;
    case '1.2.840.10008.1.2.8.1': // JPIP Referenced Deflate -> JPIP Referenced
      return '1.2.840.10008.1.2.4.94';
    default:
      return sourceTransferSyntaxUid;
  }
}

/** A growable little-endian byte buffer with back-patching of lengths. */
export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initial = 16 * 1024) {
    this.buffer = new Uint8Array(initial);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }

  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value >>> 0, true);
    this.length += 4;
  }

  patchU32(at: number, value: number): void {
    this.view.setUint32(at, value >>> 0, true);
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** `source[start, end)`, without making a view of it (most values are a few bytes long). */
  range(source: Uint8Array, start: number, end: number): void {
    const count = end - start;
    this.reserve(count);
    if (count > 64) {
      this.buffer.set(source.subarray(start, end), this.length);
    } else {
      const buffer = this.buffer;
      let at = this.length;
      for (let i = start; i < end; i++) buffer[at++] = source[i]!;
    }
    this.length += count;
  }

  zeros(count: number): void {
    this.reserve(count);
    this.buffer.fill(0, this.length, this.length + count);
    this.length += count;
  }

  /** Empties the writer, keeping its memory for the next use. */
  reset(): void {
    this.length = 0;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  ascii(text: string): void {
    this.reserve(text.length);
    for (let i = 0; i < text.length; i++) this.buffer[this.length++] = text.charCodeAt(i) & 0xff;
  }

  /** The bytes written, copied out (the writer may be reused). */
  result(): Uint8Array {
    return this.buffer.slice(0, this.length);
  }
}

function padByte(vr: string): number {
  return textVrs.has(vr) ? 0x20 : 0x00;
}

/** Refuses text beyond ASCII: replacement values need no character set. */
function checkAscii(text: string): void {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7e) throw new Error('asciiValue: not ASCII');
  }
}

/** Encodes an ASCII text value (replacement values are ASCII: no character set needed). */
export function asciiValue(text: string): Uint8Array {
  checkAscii(text);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

function writeElementHeader(out: ByteWriter, tag: number, vr: string, length: number): void {
  out.u16(tag >>> 16);
  out.u16(tag & 0xffff);
  out.ascii(vr);
  if (longLengthVrs.has(vr)) {
    out.u16(0);
    out.u32(length);
  } else {
    out.u16(length);
  }
}

/**
 * The header of an element whose `length`-byte value is padded to even; a short-length VR that
 * overflows is written as UN. The caller writes the value, then padByte when `length` is odd.
 */
function writePaddedHeader(out: ByteWriter, tag: number, vr: string, length: number): void {
  const padded = length + (length % 2);
  writeElementHeader(out, tag, !longLengthVrs.has(vr) && padded > 0xffff ? 'UN' : vr, padded);
}

function writeValue(out: ByteWriter, tag: number, vr: string, value: Uint8Array): void {
  writePaddedHeader(out, tag, vr, value.length);
  out.bytes(value);
  if (value.length % 2 === 1) out.byte(padByte(vr));
}

/** A text value written straight from the string (ASCII: UIDs, Ferry's own values). */
function writeAscii(out: ByteWriter, tag: number, vr: string, text: string): void {
  checkAscii(text);
  writePaddedHeader(out, tag, vr, text.length);
  out.ascii(text);
  if (text.length % 2 === 1) out.byte(padByte(vr));
}

/** A source element's value, copied from the source bytes (byte-swapped when big endian). */
function writeSourceValue(
  out: ByteWriter,
  dataset: DicomDataset,
  element: DicomElement,
  vr: string,
): void {
  const start = element.valueOffset;
  const end = start + element.length;
  const unit = dataset.littleEndian ? 0 : swapUnit(vr);
  if (unit !== 0) {
    // A copy (Buffer's slice would alias the source), swapped to little endian.
    const copy = new Uint8Array(dataset.bytes.subarray(start, end));
    swapInPlace(copy, unit);
    writeValue(out, element.tag, vr, copy);
    return;
  }
  writePaddedHeader(out, element.tag, vr, element.length);
  out.range(dataset.bytes, start, end);
  if (element.length % 2 === 1) out.byte(padByte(vr));
}

function compareTags(a: OutputElement, b: OutputElement): number {
  return a.tag - b.tag;
}

/** Writes a dataset's elements in tag order; sequences and items with defined lengths. */
export function writeDataset(out: ByteWriter, dataset: OutputDataset): void {
  const sorted = [...dataset.elements].sort(compareTags);
  for (const element of sorted) writeOutputElement(out, element);
}

function writeOutputElement(out: ByteWriter, element: OutputElement): void {
  switch (element.kind) {
    case 'value':
      writeValue(out, element.tag, element.vr, element.value);
      return;
    case 'source':
      writeSourceValue(out, element.dataset, element.element, element.vr);
      return;
    case 'sequence': {
      writeElementHeader(out, element.tag, 'SQ', 0);
      const lengthAt = out.length - 4;
      const start = out.length;
      for (const item of element.items) {
        out.u16(0xfffe);
        out.u16(0xe000);
        out.u32(0);
        const itemLengthAt = out.length - 4;
        const itemStart = out.length;
        writeDataset(out, item);
        out.patchU32(itemLengthAt, out.length - itemStart);
      }
      out.patchU32(lengthAt, out.length - start);
      return;
    }
  }
}

/** A dataset alone, explicit VR little endian (tests, tools; instances use encodeInstance). */
export function encodeDataset(dataset: OutputDataset): Uint8Array {
  const out = new ByteWriter();
  writeDataset(out, dataset);
  return out.result();
}

/** PS3.10 7.1: File Meta Information, group length first, explicit VR little endian. */
export function writeFileMeta(out: ByteWriter, meta: FileMetaValues): void {
  writeElementHeader(out, Tag.FileMetaInformationGroupLength, 'UL', 4);
  const groupLengthAt = out.length;
  out.u32(0);
  const start = out.length;
  writeElementHeader(out, 0x00020001, 'OB', 2);
  out.byte(0x00);
  out.byte(0x01);
  writeAscii(out, Tag.MediaStorageSopClassUid, 'UI', meta.mediaStorageSopClassUid);
  writeAscii(out, Tag.MediaStorageSopInstanceUid, 'UI', meta.mediaStorageSopInstanceUid);
  writeAscii(out, Tag.TransferSyntaxUid, 'UI', meta.transferSyntaxUid);
  writeAscii(out, Tag.ImplementationClassUid, 'UI', ferryImplementationClassUid);
  writeAscii(out, Tag.ImplementationVersionName, 'SH', ferryImplementationVersionName);
  out.patchU32(groupLengthAt, out.length - start);
}

function isPixelTag(tag: number): boolean {
  return tag === Tag.PixelData || tag === Tag.FloatPixelData || tag === Tag.DoubleFloatPixelData;
}

const headerWriter = new ByteWriter(32 * 1024);
const noBytes = new Uint8Array(0);

/**
 * Encodes a Part 10 file: zeroed preamble, regenerated meta information, the dataset's
 * elements before Pixel Data, Pixel Data's element header (its value is `pixel.source`, to be
 * streamed), and the elements after it.
 */
export function encodeInstance(
  meta: FileMetaValues,
  dataset: OutputDataset,
  pixel: PixelElement | undefined,
): EncodedInstance {
  // One writer for every header (this function never yields): only the result is allocated.
  const header = headerWriter;
  header.reset();
  header.zeros(128);
  header.ascii('DICM');
  writeFileMeta(header, meta);
  const sorted = [...dataset.elements].sort(compareTags);
  const pixelTag = pixel ? pixel.tag : Infinity;
  let next = 0;
  for (; next < sorted.length && sorted[next]!.tag < pixelTag; next++) {
    const element = sorted[next]!;
    if (isPixelTag(element.tag)) continue;
    writeOutputElement(header, element);
  }
  let pixelLength = 0;
  if (pixel) {
    pixelLength = pixel.length;
    if (pixel.undefinedLength) {
      writeElementHeader(header, pixel.tag, pixel.vr, 0xffffffff);
    } else {
      writeElementHeader(header, pixel.tag, pixel.vr, pixel.length + (pixel.length % 2));
      // An odd pixel length (non-conformant) is padded after the streamed value.
      pixelLength += pixel.length % 2;
    }
  }
  const headerBytes = header.result();
  while (next < sorted.length && sorted[next]!.tag === pixelTag) next++;
  let trailer: Uint8Array = noBytes;
  if (next < sorted.length) {
    const trailerWriter = new ByteWriter(256);
    for (; next < sorted.length; next++) writeOutputElement(trailerWriter, sorted[next]!);
    trailer = trailerWriter.result();
  }
  return {
    transferSyntaxUid: meta.transferSyntaxUid,
    header: headerBytes,
    pixel,
    trailer,
    byteLength: headerBytes.length + pixelLength + trailer.length,
  };
}

/** The dictionary VR for an element read as UN, when the dictionary knows a single one. */
export function dictionaryVr(tag: number): string | undefined {
  const vr = lookupAttribute(tag)?.vr;
  return vr && vr.length === 2 ? vr : undefined;
}
