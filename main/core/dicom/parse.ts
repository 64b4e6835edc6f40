import { createRequire } from 'node:module';
import type * as Zlib from 'node:zlib';

import { knownVrs, longLengthVrs, Tag, TransferSyntax, vrOf } from './dictionary.ts';

/**
 * A DICOM data element located in a byte buffer: nothing is copied or decoded until asked
 * (PS3.5 7.1). `valueOffset`/`length` point into the dataset's `bytes`.
 */
export interface DicomElement {
  readonly tag: number;
  readonly vr: string;
  /** Offset of the element's first byte (its tag). */
  readonly offset: number;
  readonly valueOffset: number;
  /** Value length in bytes; `undefinedLength` elements report the bytes up to the delimiter. */
  readonly length: number;
  readonly undefinedLength: boolean;
  readonly items?: readonly DicomDataset[];
}

export interface DicomDataset {
  readonly elements: ReadonlyMap<number, DicomElement>;
  readonly bytes: Uint8Array;
  readonly littleEndian: boolean;
  /** Offset of this dataset's Item tag, or of its first element at the top level. */
  readonly offset: number;
  /** Specific Character Set in effect for this dataset's text (inherited by items, PS3.5 6.1.2.5.3). */
  readonly characterSet: readonly string[];
}

export interface ParsedDicom {
  /** 128-byte preamble and "DICM" present (PS3.10 7.1). */
  readonly preamble: boolean;
  readonly meta: DicomDataset | undefined;
  readonly dataset: DicomDataset;
  readonly transferSyntaxUid: string;
  /** True when the transfer syntax came from a guess (no meta information). */
  readonly transferSyntaxGuessed: boolean;
  /** Pixel Data's element, when parsing stopped at it or passed it. */
  readonly pixelData: DicomElement | undefined;
  /** Bytes of the source consumed by the header, up to Pixel Data or the end. */
  readonly headerBytes: number;
  /** Encoding faults the parser tolerated, in words (for validation findings). */
  readonly anomalies: readonly string[];
}

export type DicomParseErrorCode =
  'not-dicom' | 'need-more' | 'truncated' | 'malformed' | 'too-deep' | 'unsupported';

/** A parse failure with a stable code; `atLeast` tells how many bytes a 'need-more' wants. */
export class DicomParseError extends Error {
  readonly code: DicomParseErrorCode;
  readonly offset: number;
  readonly atLeast: number;
  constructor(code: DicomParseErrorCode, message: string, offset: number, atLeast = 0) {
    super(message);
    this.name = 'DicomParseError';
    this.code = code;
    this.offset = offset;
    this.atLeast = atLeast;
  }
}

export interface ParseOptions {
  /** Stop at Pixel Data (7FE0,0010) and the float pixel data elements: header-only reads. */
  readonly untilPixelData?: boolean;
  /**
   * Size of the whole file. When the buffer is shorter, running out of bytes is 'need-more'
   * (read further) rather than 'truncated'.
   */
  readonly fileSize?: number;
  /** Sequence nesting bound: deeper is malformed (guards against hostile files). */
  readonly maxDepth?: number;
  /**
   * The top-level (and meta) attributes to keep, besides Specific Character Set and Pixel Data.
   * Every element is still read and checked, but the others are not stored: a caller that needs
   * a handful of attributes (the media scan) builds nothing for the rest. All are kept when
   * absent.
   */
  readonly keepTags?: ReadonlySet<number>;
}

const UNDEFINED_LENGTH = 0xffffffff;
const implicitInExplicit = 'element without an explicit VR in an explicit VR dataset';
const DEFAULT_MAX_DEPTH = 32;
const emptyCharacterSet: readonly string[] = [];

/**
 * Explicit VRs by their two bytes, so reading an element builds no string and hashes nothing:
 * index (first - 'A') * 26 + (second - 'A'); undefined for a pair PS3.5 6.2 does not define.
 */
const vrNames: readonly (string | undefined)[] = (() => {
  const names: (string | undefined)[] = new Array<string | undefined>(26 * 26).fill(undefined);
  for (const vr of knownVrs) names[vrIndex(vr.charCodeAt(0), vr.charCodeAt(1))] = vr;
  return names;
})();
/** 1 where the VR's explicit encoding has a 32-bit length (PS3.5 Table 7.1-1), by vrIndex. */
const longLength: Uint8Array = (() => {
  const flags = new Uint8Array(26 * 26);
  for (const vr of longLengthVrs) flags[vrIndex(vr.charCodeAt(0), vr.charCodeAt(1))] = 1;
  return flags;
})();

function vrIndex(first: number, second: number): number {
  return (first - 0x41) * 26 + (second - 0x41);
}

interface Cursor {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly littleEndian: boolean;
  explicitVr: boolean;
  readonly untilPixelData: boolean;
  readonly partial: boolean;
  readonly maxDepth: number;
  readonly keepTags: ReadonlySet<number> | undefined;
  pixelData: DicomElement | undefined;
  stopped: boolean;
  readonly anomalies: string[];
}

function isUpperAlpha(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x41 && byte <= 0x5a;
}

function short(cursor: Cursor, offset: number, needed: number, what: string): never {
  if (cursor.partial) {
    throw new DicomParseError(
      'need-more',
      `header continues past the bytes read (${what})`,
      offset,
      needed,
    );
  }
  throw new DicomParseError(
    'truncated',
    `file ends at byte ${cursor.bytes.length} inside ${what} that needs ${needed} bytes`,
    offset,
  );
}

function readTag(cursor: Cursor, offset: number): number {
  const group = cursor.view.getUint16(offset, cursor.littleEndian);
  const element = cursor.view.getUint16(offset + 2, cursor.littleEndian);
  return ((group << 16) | element) >>> 0;
}

function asciiAt(bytes: Uint8Array, offset: number, length: number): string {
  let text = '';
  for (let i = offset; i < offset + length && i < bytes.length; i++) {
    text += String.fromCharCode(bytes[i] ?? 0);
  }
  return text;
}

/** Does a defined-length value start with an Item tag? Then it is a sequence (PS3.5 6.2.2 UN). */
function looksLikeSequence(cursor: Cursor, valueOffset: number, length: number): boolean {
  if (length < 8 || valueOffset + 8 > cursor.bytes.length) return false;
  return readTag(cursor, valueOffset) === Tag.Item;
}

interface ReadResult {
  readonly dataset: DicomDataset;
  readonly end: number;
}

/**
 * Reads elements from `start` until `end` (defined length) or until a delimiter (undefined
 * length, `end` = buffer end). PS3.5 7.1 (elements), 7.5 (nesting of data sets).
 */
function readDataset(
  cursor: Cursor,
  start: number,
  end: number,
  depth: number,
  datasetOffset: number,
  inheritedCharset: readonly string[],
  delimiter: number | undefined,
): ReadResult {
  const elements = new Map<number, DicomElement>();
  let characterSet = inheritedCharset;
  let pos = start;
  const dataset: { elements: Map<number, DicomElement>; characterSet: readonly string[] } = {
    elements,
    characterSet,
  };
  const bytes = cursor.bytes;
  while (pos < end) {
    if (pos + 8 > bytes.length) short(cursor, pos, pos + 8, 'an element header');
    const tag = readTag(cursor, pos);
    if (delimiter !== undefined && tag === delimiter) {
      pos += 8;
      return { dataset: finish(cursor, dataset, datasetOffset), end: pos };
    }
    if (tag === Tag.ItemDelimitationItem || tag === Tag.SequenceDelimitationItem) {
      throw new DicomParseError(
        'malformed',
        `unexpected delimiter ${tag === Tag.ItemDelimitationItem ? 'of an item' : 'of a sequence'} at byte ${pos}`,
        pos,
      );
    }
    if (depth === 0 && cursor.untilPixelData && isPixelDataTag(tag)) {
      cursor.pixelData = readPixelDataHeader(cursor, pos, tag);
      cursor.stopped = true;
      return { dataset: finish(cursor, dataset, datasetOffset), end: pos };
    }
    let vr: string;
    let length: number;
    let valueOffset: number;
    const explicit = cursor.explicitVr && tag >>> 16 !== 0xfffe;
    const vrFirst = bytes[pos + 4] as number;
    const vrSecond = bytes[pos + 5] as number;
    if (explicit && isUpperAlpha(vrFirst) && isUpperAlpha(vrSecond)) {
      const index = vrIndex(vrFirst, vrSecond);
      const known = vrNames[index];
      if (known === undefined) {
        throw new DicomParseError(
          'malformed',
          `element at byte ${pos} has an unknown value representation "${asciiAt(bytes, pos + 4, 2)}"`,
          pos,
        );
      }
      vr = known;
      if (longLength[index] === 1) {
        if (pos + 12 > bytes.length) short(cursor, pos, pos + 12, 'an element header');
        length = cursor.view.getUint32(pos + 8, cursor.littleEndian);
        valueOffset = pos + 12;
      } else {
        length = cursor.view.getUint16(pos + 6, cursor.littleEndian);
        valueOffset = pos + 8;
      }
    } else {
      // Implicit VR (PS3.5 7.1.3). Some explicit files switch to implicit for private blocks;
      // like other readers, fall back to the dictionary for such an element.
      if (explicit && !cursor.anomalies.some((text) => text.startsWith(implicitInExplicit))) {
        cursor.anomalies.push(`${implicitInExplicit} at byte ${pos}`);
      }
      vr = vrOf(tag);
      length = cursor.view.getUint32(pos + 4, cursor.littleEndian);
      valueOffset = pos + 8;
    }

    let element: DicomElement;
    if (length === UNDEFINED_LENGTH) {
      if (isPixelDataTag(tag)) {
        const sequenceEnd = skipEncapsulated(cursor, valueOffset);
        element = {
          tag,
          vr,
          offset: pos,
          valueOffset,
          length: sequenceEnd - valueOffset,
          undefinedLength: true,
        };
        pos = sequenceEnd;
      } else {
        if (vr !== 'SQ' && vr !== 'UN' && vr !== 'OB' && vr !== 'OW') {
          throw new DicomParseError(
            'malformed',
            `element ${tagText(tag)} of VR ${vr} has an undefined length, which only sequences may have`,
            pos,
          );
        }
        // UN with undefined length is an implicit VR little endian sequence (PS3.5 6.2.2).
        const wasExplicit = cursor.explicitVr;
        if (vr === 'UN') cursor.explicitVr = false;
        const sequence = readSequence(cursor, valueOffset, undefined, depth + 1, characterSet);
        cursor.explicitVr = wasExplicit;
        element = {
          tag,
          vr: 'SQ',
          offset: pos,
          valueOffset,
          length: sequence.end - valueOffset,
          undefinedLength: true,
          items: sequence.items,
        };
        pos = sequence.end;
      }
    } else {
      const valueEnd = valueOffset + length;
      if (valueEnd > end && delimiter === undefined && end !== bytes.length) {
        throw new DicomParseError(
          'malformed',
          `element ${tagText(tag)} at byte ${pos} declares ${length} bytes, past the end of its item`,
          pos,
        );
      }
      const isSequence =
        vr === 'SQ' ||
        ((vr === 'UN' || (!cursor.explicitVr && vrOf(tag) === 'UN')) &&
          looksLikeSequence(cursor, valueOffset, length));
      if (valueEnd > bytes.length) {
        if (cursor.untilPixelData && depth === 0 && isPixelDataTag(tag)) {
          cursor.pixelData = { tag, vr, offset: pos, valueOffset, length, undefinedLength: false };
          cursor.stopped = true;
          return { dataset: finish(cursor, dataset, datasetOffset), end: pos };
        }
        short(cursor, pos, valueEnd, `element ${tagText(tag)}`);
      }
      if (isSequence) {
        const wasExplicit = cursor.explicitVr;
        if (vr === 'UN') cursor.explicitVr = false;
        const sequence = readSequence(cursor, valueOffset, valueEnd, depth + 1, characterSet);
        cursor.explicitVr = wasExplicit;
        element = {
          tag,
          vr: 'SQ',
          offset: pos,
          valueOffset,
          length,
          undefinedLength: false,
          items: sequence.items,
        };
      } else if (unwanted(cursor, depth, tag)) {
        // Read and checked, but not asked for: nothing is built for it.
        pos = valueEnd;
        continue;
      } else {
        element = { tag, vr, offset: pos, valueOffset, length, undefinedLength: false };
      }
      pos = valueEnd;
    }
    if (isPixelDataTag(tag) && depth === 0) cursor.pixelData = element;
    if (tag === Tag.SpecificCharacterSet) {
      characterSet = splitCharacterSet(bytes, element);
      dataset.characterSet = characterSet;
    }
    if (unwanted(cursor, depth, tag)) continue;
    elements.set(tag, element);
  }
  if (delimiter !== undefined) {
    if (pos >= bytes.length) short(cursor, pos, pos + 8, 'an item without its delimiter');
  }
  return { dataset: finish(cursor, dataset, datasetOffset), end: pos };
}

/**
 * A top-level element outside ParseOptions.keepTags. Specific Character Set and Pixel Data are
 * always kept: the text of the others and the end of the header depend on them.
 */
function unwanted(cursor: Cursor, depth: number, tag: number): boolean {
  return (
    depth === 0 &&
    cursor.keepTags !== undefined &&
    !cursor.keepTags.has(tag) &&
    tag !== Tag.SpecificCharacterSet &&
    !isPixelDataTag(tag)
  );
}

function finish(
  cursor: Cursor,
  dataset: { elements: Map<number, DicomElement>; characterSet: readonly string[] },
  offset: number,
): DicomDataset {
  return {
    elements: dataset.elements,
    characterSet: dataset.characterSet,
    bytes: cursor.bytes,
    littleEndian: cursor.littleEndian,
    offset,
  };
}

function readSequence(
  cursor: Cursor,
  start: number,
  end: number | undefined,
  depth: number,
  characterSet: readonly string[],
): { items: DicomDataset[]; end: number } {
  if (depth > cursor.maxDepth) {
    throw new DicomParseError(
      'too-deep',
      `sequences nested more than ${cursor.maxDepth} levels deep at byte ${start}`,
      start,
    );
  }
  const items: DicomDataset[] = [];
  let pos = start;
  const limit = end ?? Number.MAX_SAFE_INTEGER;
  while (pos < limit) {
    if (pos + 8 > cursor.bytes.length) short(cursor, pos, pos + 8, 'a sequence item');
    const tag = readTag(cursor, pos);
    if (tag === Tag.SequenceDelimitationItem) {
      if (end === undefined) return { items, end: pos + 8 };
      // A delimiter inside a defined-length sequence: tolerated, skip it.
      pos += 8;
      continue;
    }
    if (tag !== Tag.Item) {
      throw new DicomParseError(
        'malformed',
        `expected a sequence item at byte ${pos}, found ${tagText(tag)}`,
        pos,
      );
    }
    const itemLength = cursor.view.getUint32(pos + 4, cursor.littleEndian);
    const itemStart = pos + 8;
    if (itemLength === UNDEFINED_LENGTH) {
      const item = readDataset(
        cursor,
        itemStart,
        cursor.bytes.length + 1,
        depth,
        pos,
        characterSet,
        Tag.ItemDelimitationItem,
      );
      items.push(item.dataset);
      pos = item.end;
    } else {
      let itemEnd = itemStart + itemLength;
      const container = end ?? cursor.bytes.length;
      if (itemEnd > container && !cursor.partial) {
        // Writers that drop elements without fixing the item length (pydicom's "nooffset"
        // DICOMDIR): read the item up to its container's end, as other readers do.
        cursor.anomalies.push(
          `item at byte ${pos} declares ${itemLength} bytes, past the end of its sequence`,
        );
        itemEnd = container;
      }
      if (itemEnd > cursor.bytes.length) short(cursor, pos, itemEnd, 'a sequence item');
      const item = readDataset(cursor, itemStart, itemEnd, depth, pos, characterSet, undefined);
      items.push(item.dataset);
      pos = itemEnd;
    }
  }
  return { items, end: pos };
}

/** Encapsulated pixel data: fragments until the Sequence Delimitation Item (PS3.5 A.4). */
function skipEncapsulated(cursor: Cursor, start: number): number {
  let pos = start;
  for (;;) {
    if (pos + 8 > cursor.bytes.length) short(cursor, pos, pos + 8, 'encapsulated pixel data');
    const tag = readTag(cursor, pos);
    const length = cursor.view.getUint32(pos + 4, cursor.littleEndian);
    if (tag === Tag.SequenceDelimitationItem) return pos + 8;
    if (tag !== Tag.Item || length === UNDEFINED_LENGTH) {
      throw new DicomParseError(
        'malformed',
        `encapsulated pixel data has no fragment item at byte ${pos}`,
        pos,
      );
    }
    pos += 8 + length;
  }
}

function isPixelDataTag(tag: number): boolean {
  return tag === Tag.PixelData || tag === Tag.FloatPixelData || tag === Tag.DoubleFloatPixelData;
}

function readPixelDataHeader(cursor: Cursor, pos: number, tag: number): DicomElement {
  const bytes = cursor.bytes;
  const explicitHeader =
    cursor.explicitVr && isUpperAlpha(bytes[pos + 4]) && isUpperAlpha(bytes[pos + 5]);
  // A file cut inside the Pixel Data element's own header is truncated (or, read in part,
  // needs more bytes): its length is unknown, not zero.
  const headerLength = explicitHeader || (cursor.explicitVr && pos + 6 > bytes.length) ? 12 : 8;
  if (pos + headerLength > bytes.length) {
    short(cursor, pos, pos + headerLength, 'the Pixel Data element header');
  }
  let vr = vrOf(tag);
  let length: number;
  let valueOffset: number;
  if (explicitHeader) {
    vr = asciiAt(bytes, pos + 4, 2);
    length = cursor.view.getUint32(pos + 8, cursor.littleEndian);
    valueOffset = pos + 12;
  } else {
    length = cursor.view.getUint32(pos + 4, cursor.littleEndian);
    valueOffset = pos + 8;
  }
  const undefinedLength = length === UNDEFINED_LENGTH;
  return {
    tag,
    vr,
    offset: pos,
    valueOffset,
    length: undefinedLength ? 0 : length,
    undefinedLength,
  };
}

function splitCharacterSet(bytes: Uint8Array, element: DicomElement): readonly string[] {
  const raw = asciiAt(bytes, element.valueOffset, element.length);
  const terms = raw.split('\\').map((term) => term.replace(/[\s\0]+$/u, '').replace(/^\s+/u, ''));
  return terms.every((term) => term === '') ? emptyCharacterSet : terms;
}

function tagText(tag: number): string {
  const hex = (tag >>> 0).toString(16).toUpperCase().padStart(8, '0');
  return `(${hex.slice(0, 4)},${hex.slice(4)})`;
}

/**
 * `view` may be shared with another cursor on the same start of memory: every read through it
 * is bounds-checked against `bytes` first, so a longer view reads the same.
 */
function makeCursor(
  bytes: Uint8Array,
  littleEndian: boolean,
  explicitVr: boolean,
  options: ParseOptions,
  view: DataView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength),
): Cursor {
  return {
    bytes,
    view,
    littleEndian,
    explicitVr,
    untilPixelData: options.untilPixelData ?? false,
    partial: options.fileSize !== undefined && options.fileSize > bytes.length,
    maxDepth: options.maxDepth ?? DEFAULT_MAX_DEPTH,
    keepTags: options.keepTags,
    pixelData: undefined,
    stopped: false,
    anomalies: [],
  };
}

/** Reads File Meta Information: group 0002, always explicit VR little endian (PS3.10 7.1). */
function readMeta(
  bytes: Uint8Array,
  start: number,
  options: ParseOptions,
  view: DataView,
): ReadResult {
  const cursor = makeCursor(bytes, true, true, options, view);
  let end = start;
  // Walk while the group is 0002, whatever (0002,0000) claims: real files get it wrong.
  while (end + 8 <= bytes.length && view.getUint16(end, true) === 0x0002) {
    const vrHigh = bytes[end + 4];
    const vrLow = bytes[end + 5];
    if (!isUpperAlpha(vrHigh) || !isUpperAlpha(vrLow)) {
      // Implicit VR meta (non-conformant, but seen): 4-byte length.
      end += 8 + view.getUint32(end + 4, true);
      cursor.explicitVr = false;
      continue;
    }
    if (longLength[vrIndex(vrHigh as number, vrLow as number)] === 1) {
      if (end + 12 > bytes.length) short(cursor, end, end + 12, 'the file meta information');
      end += 12 + view.getUint32(end + 8, true);
    } else {
      end += 8 + view.getUint16(end + 6, true);
    }
  }
  if (end + 8 > bytes.length && end < (options.fileSize ?? bytes.length)) {
    short(cursor, end, end + 8, 'the file meta information');
  }
  const metaCursor = makeCursor(
    bytes.subarray(0, end),
    true,
    cursor.explicitVr,
    { ...options, fileSize: undefined },
    view,
  );
  const meta = readDataset(metaCursor, start, end, 0, start, emptyCharacterSet, undefined);
  return {
    dataset: { ...meta.dataset, bytes },
    end,
  };
}

function metaString(meta: DicomDataset, tag: number): string | undefined {
  const element = meta.elements.get(tag);
  if (!element) return undefined;
  return asciiAt(meta.bytes, element.valueOffset, element.length).replace(/[\s\0]+$/u, '');
}

/**
 * Guesses how a dataset without File Meta Information is encoded, from its first element
 * (old CDs carry raw datasets). Returns undefined when the bytes do not look like DICOM.
 */
export function guessRawEncoding(
  bytes: Uint8Array,
  start = 0,
): { littleEndian: boolean; explicitVr: boolean } | undefined {
  if (bytes.length < start + 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const groupLe = view.getUint16(start, true);
  const groupBe = view.getUint16(start, false);
  const plausible = (group: number): boolean => group >= 0x0002 && group <= 0x0010;
  const explicit =
    isUpperAlpha(bytes[start + 4]) &&
    isUpperAlpha(bytes[start + 5]) &&
    knownVrs.has(asciiAt(bytes, start + 4, 2));
  if (plausible(groupLe) && (groupLe % 2 === 0 || groupLe === 0)) {
    if (!explicit) {
      // Implicit: the 32-bit length must fit inside a plausible header.
      const length = view.getUint32(start + 4, true);
      if (length > 0x100000 && length !== UNDEFINED_LENGTH) return undefined;
    }
    return { littleEndian: true, explicitVr: explicit };
  }
  if (plausible(groupBe) && groupBe % 2 === 0 && explicit) {
    return { littleEndian: false, explicitVr: true };
  }
  return undefined;
}

function encodingOf(transferSyntaxUid: string): {
  littleEndian: boolean;
  explicitVr: boolean;
  deflated: boolean;
} {
  switch (transferSyntaxUid) {
    case TransferSyntax.ImplicitVrLittleEndian:
      return { littleEndian: true, explicitVr: false, deflated: false };
    case TransferSyntax.ExplicitVrBigEndian:
      return { littleEndian: false, explicitVr: true, deflated: false };
    case TransferSyntax.DeflatedExplicitVrLittleEndian:
    case '1.2.840.10008.1.2.8.1': // JPIP Referenced Deflate
      return { littleEndian: true, explicitVr: true, deflated: true };
    default:
      // Every other transfer syntax (encapsulated ones included) is explicit VR little endian.
      return { littleEndian: true, explicitVr: true, deflated: false };
  }
}

/** zlib, loaded on first use: deflated datasets are rare, and loading it costs every run. */
let zlib: typeof Zlib | undefined;

function inflateDataset(deflated: Uint8Array, partial: boolean): Uint8Array {
  zlib ??= createRequire(import.meta.url)('node:zlib') as typeof Zlib;
  try {
    return zlib.inflateRawSync(deflated, {
      finishFlush: partial ? zlib.constants.Z_SYNC_FLUSH : zlib.constants.Z_FINISH,
    });
  } catch (error) {
    throw new DicomParseError(
      'malformed',
      `the deflated dataset cannot be inflated: ${(error as Error).message}`,
      0,
    );
  }
}

/**
 * Parses a DICOM file or a prefix of one: Part 10 with preamble (PS3.10 7.1), "DICM" without
 * preamble, and raw datasets without meta information. Throws DicomParseError.
 */
export function parseDicom(bytes: Uint8Array, options: ParseOptions = {}): ParsedDicom {
  const hasPreamble = bytes.length >= 132 && isDicm(bytes, 128);
  const dicmAtStart = !hasPreamble && bytes.length >= 4 && isDicm(bytes, 0);
  let meta: DicomDataset | undefined;
  let datasetStart: number;
  let transferSyntaxUid: string | undefined;
  let guessed = false;
  // One view of the bytes for the meta information and the dataset alike.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);

  if (hasPreamble || dicmAtStart) {
    const metaStart = hasPreamble ? 132 : 4;
    const metaResult = readMeta(bytes, metaStart, options, view);
    meta = metaResult.dataset;
    datasetStart = metaResult.end;
    transferSyntaxUid = metaString(meta, Tag.TransferSyntaxUid);
    if (!transferSyntaxUid) {
      // DICM says this is DICOM: guess the encoding, else take the default (PS3.5 10.1).
      const raw = guessRawEncoding(bytes, datasetStart);
      transferSyntaxUid = rawTransferSyntax(raw ?? { littleEndian: true, explicitVr: false });
      guessed = true;
    }
  } else {
    const raw = guessRawEncoding(bytes, 0);
    if (!raw) {
      throw new DicomParseError('not-dicom', 'no DICOM preamble and no dataset at the start', 0);
    }
    datasetStart = 0;
    // A raw dataset may still begin with group 0002 (meta without preamble).
    if (view.getUint16(0, raw.littleEndian) === 0x0002) {
      const metaResult = readMeta(bytes, 0, options, view);
      meta = metaResult.dataset;
      datasetStart = metaResult.end;
      transferSyntaxUid = metaString(meta, Tag.TransferSyntaxUid);
    }
    if (!transferSyntaxUid) {
      const dataRaw = guessRawEncoding(bytes, datasetStart) ?? raw;
      transferSyntaxUid = rawTransferSyntax(dataRaw);
      guessed = true;
    }
  }

  const encoding = encodingOf(transferSyntaxUid);
  let source = bytes;
  let start = datasetStart;
  let parseOptions = options;
  if (encoding.deflated) {
    const partial = options.fileSize !== undefined && options.fileSize > bytes.length;
    source = inflateDataset(bytes.subarray(datasetStart), partial);
    start = 0;
    // An inflated prefix is only as long as the deflate stream we had: running out is 'need-more'.
    parseOptions = partial
      ? { ...options, fileSize: Number.MAX_SAFE_INTEGER }
      : { ...options, fileSize: undefined };
  }
  const cursor =
    source === bytes
      ? makeCursor(source, encoding.littleEndian, encoding.explicitVr, parseOptions, view)
      : makeCursor(source, encoding.littleEndian, encoding.explicitVr, parseOptions);
  const result = readDataset(cursor, start, source.length, 0, start, emptyCharacterSet, undefined);
  return {
    preamble: hasPreamble,
    meta,
    dataset: result.dataset,
    transferSyntaxUid,
    transferSyntaxGuessed: guessed,
    pixelData: cursor.pixelData,
    headerBytes: encoding.deflated ? bytes.length : result.end,
    anomalies: cursor.anomalies,
  };
}

/** The four bytes "DICM" at `offset` (PS3.10 7.1). */
function isDicm(bytes: Uint8Array, offset: number): boolean {
  return (
    bytes[offset] === 0x44 &&
    bytes[offset + 1] === 0x49 &&
    bytes[offset + 2] === 0x43 &&
    bytes[offset + 3] === 0x4d
  );
}

function rawTransferSyntax(raw: { littleEndian: boolean; explicitVr: boolean }): string {
  if (!raw.littleEndian) return TransferSyntax.ExplicitVrBigEndian;
  return raw.explicitVr
    ? TransferSyntax.ExplicitVrLittleEndian
    : TransferSyntax.ImplicitVrLittleEndian;
}
