/**
 * Masking of compressed (encapsulated) pixel data (PS3.15 E.3.1 Clean Pixel Data): every frame
 * is decoded by main/core/imaging, the rectangles are blacked out in the decoded samples, and the
 * frames are written as native pixel data for Explicit VR Little Endian (PS3.5 8.1.1, A.2). No
 * further loss: nothing is re-compressed. The Image Pixel module follows what the decoders give
 * (PS3.3 C.7.6.3): colour the codec converted (JPEG YCbCr, JPEG 2000 RCT/ICT) becomes RGB with
 * Planar Configuration 0, and a lossy source stays marked lossy (C.7.6.1.1.5).
 *
 * Frame by frame, so memory holds one decoded frame, not the instance (a long ultrasound cine is
 * hundreds of megabytes decoded): the fragments of a file are read per frame, and the output's
 * length comes from rows x columns x samples x bytes x frames. Preparing decodes only the first
 * frame (colour space, codec) and checks every frame's fragments are there; each frame is
 * decoded once more as it streams. A frame that cannot be decoded refuses the whole instance:
 * when preparing it is held back; while streaming the stream fails (the upload reports the
 * instance failed). Its pixels are never sent unmasked.
 */
import { open } from 'node:fs/promises';

import { Tag } from '../dicom/dictionary.ts';
import type { DicomElement, ParsedDicom } from '../dicom/parse.ts';
import { getInteger, getText } from '../dicom/values.ts';
import { asciiValue, type OutputElement } from '../dicom/write.ts';
import { decodeParsedFrame, readGeometry } from '../imaging/decode.ts';
import {
  frameFragments,
  readEncapsulated,
  type FragmentHead,
  type FrameFragments,
} from '../imaging/fragments.ts';
import type { DecodedFrame, PixelSamples } from '../imaging/types.ts';
import { DeidError, type AttributeChange } from './engine.ts';
import { blackStoredValue, checkRects, type MaskRect } from './mask.ts';

const LOSSY_IMAGE_COMPRESSION = 0x00282110;
const LOSSY_IMAGE_COMPRESSION_METHOD = 0x00282114;
const PLANAR_CONFIGURATION = 0x00280006;
/** Extended Offset Table, its lengths, Encapsulated Pixel Data Value Total Length: gone once native. */
const ENCAPSULATION_TAGS: readonly number[] = [0x7fe00001, 0x7fe00002, 0x7fe00003];

/** Transfer syntaxes that are always lossy, and the method to record (PS3.3 C.7.6.1.1.5.1). */
const ALWAYS_LOSSY: Readonly<Record<string, string>> = {
  '1.2.840.10008.1.2.4.50': 'ISO_10918_1',
  '1.2.840.10008.1.2.4.51': 'ISO_10918_1',
};
/** Transfer syntaxes that may be lossy: the header's Lossy Image Compression says. */
const METHOD_BY_SYNTAX: Readonly<Record<string, string>> = {
  ...ALWAYS_LOSSY,
  '1.2.840.10008.1.2.4.81': 'ISO_14495_1',
  '1.2.840.10008.1.2.4.91': 'ISO_15444_1',
  '1.2.840.10008.1.2.4.93': 'ISO_15444_1',
  '1.2.840.10008.1.2.4.203': 'ISO_15444_15',
};

export interface DecodedMask {
  /** Length of the native pixel value: rows x columns x samples x bytes per sample x frames. */
  readonly length: number;
  readonly vr: 'OB' | 'OW';
  /** Image Pixel attributes to write instead of the source's. */
  readonly elements: readonly OutputElement[];
  /** Attributes to leave out (they describe the encapsulation). */
  readonly removed: readonly number[];
  /** For the preview: what changed in the header and why. */
  readonly changes: readonly AttributeChange[];
  /**
   * The native pixel value, one masked frame per chunk (colour-by-pixel, little endian): each
   * frame is decoded, masked, handed on and let go. Throws DeidError `mask-compressed` when a
   * frame does not decode as the first did.
   */
  frames(): AsyncGenerator<Uint8Array>;
}

/** Reads fragments' bytes; closed when the frames are done. */
interface FragmentReader {
  read(indices: readonly number[]): Promise<Uint8Array[]>;
  close(): Promise<void>;
}

/**
 * The encapsulated pixel data of one instance: the header as parsed (up to and including the
 * Pixel Data element), the item table, and a way to read fragments — from the parsed bytes in
 * memory, or from the file, a frame's fragments at a time.
 */
export interface EncapsulatedSource {
  readonly parsed: ParsedDicom;
  readonly element: DicomElement;
  readonly basicOffsetTable: readonly number[];
  readonly fragments: readonly FragmentHead[];
  open(): Promise<FragmentReader>;
}

function refuse(reason: string): DeidError {
  return new DeidError(
    'mask-compressed',
    `this compressed image cannot be decoded, so it cannot be masked (${reason}); it will not be sent unmasked`,
  );
}

/** The fragments of a file parsed whole (or of bytes in memory): views, no copies. */
export function encapsulatedInMemory(parsed: ParsedDicom): EncapsulatedSource {
  const element = parsed.pixelData;
  if (!element) throw refuse('no pixel data');
  let encapsulated;
  try {
    encapsulated = readEncapsulated(parsed.dataset, element);
  } catch (error) {
    throw refuse(`the encapsulated pixel data is malformed: ${(error as Error).message}`);
  }
  const { fragments } = encapsulated;
  return {
    parsed,
    element,
    basicOffsetTable: encapsulated.basicOffsetTable,
    fragments: fragments.map((fragment) => ({
      itemOffset: fragment.itemOffset,
      length: fragment.bytes.length,
      head: fragment.bytes,
    })),
    open: async () => ({
      read: async (indices) => indices.map((i) => fragments[i]!.bytes),
      close: async () => {},
    }),
  };
}

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITER = 0xfffee0dd;

/**
 * The item table of a file's encapsulated pixel data (PS3.5 A.4), read item header by item
 * header (and each fragment's first bytes, for framing by start marker); the fragments are read
 * later, a frame's at a time. `parsed` is the header read up to Pixel Data.
 */
export async function encapsulatedInFile(
  filePath: string,
  fileSize: number,
  parsed: ParsedDicom,
): Promise<EncapsulatedSource> {
  const element = parsed.pixelData;
  if (!element) throw refuse('no pixel data');
  const positions: number[] = [];
  const fragments: FragmentHead[] = [];
  let basicOffsetTable: number[] | undefined;
  const handle = await open(filePath, 'r');
  try {
    const header = new Uint8Array(16);
    const view = new DataView(header.buffer);
    let pos = element.valueOffset;
    let firstFragment = -1;
    for (;;) {
      if (pos + 8 > fileSize) throw refuse('the pixel data ends before its delimiter');
      const { bytesRead } = await handle.read(header, 0, 16, pos);
      if (bytesRead < 8) throw refuse('the pixel data ends before its delimiter');
      const tag = ((view.getUint16(0, true) << 16) | view.getUint16(2, true)) >>> 0;
      const length = view.getUint32(4, true);
      if (tag === SEQUENCE_DELIMITER) break;
      if (tag !== ITEM || length === 0xffffffff || pos + 8 + length > fileSize) {
        throw refuse(`no fragment item at byte ${pos - element.valueOffset} of the pixel data`);
      }
      if (basicOffsetTable === undefined) {
        const table = new Uint8Array(length - (length % 4));
        if (table.length > 0) await handle.read(table, 0, table.length, pos + 8);
        const tableView = new DataView(table.buffer);
        basicOffsetTable = [];
        for (let offset = 0; offset < table.length; offset += 4) {
          basicOffsetTable.push(tableView.getUint32(offset, true));
        }
      } else {
        if (firstFragment < 0) firstFragment = pos;
        positions.push(pos + 8);
        fragments.push({
          itemOffset: pos - firstFragment,
          length,
          head: header.slice(8, 8 + Math.max(0, Math.min(length, bytesRead - 8))),
        });
      }
      pos += 8 + length;
    }
  } finally {
    await handle.close();
  }
  return {
    parsed,
    element,
    basicOffsetTable: basicOffsetTable ?? [],
    fragments,
    async open() {
      const reader = await open(filePath, 'r');
      if ((await reader.stat()).size !== fileSize) {
        await reader.close();
        throw new DeidError('unreadable', 'the file changed while it was being read');
      }
      return {
        async read(indices) {
          const parts: Uint8Array[] = [];
          for (const index of indices) {
            const bytes = new Uint8Array(fragments[index]!.length);
            let filled = 0;
            while (filled < bytes.length) {
              const { bytesRead } = await reader.read(
                bytes,
                filled,
                bytes.length - filled,
                positions[index]! + filled,
              );
              if (bytesRead === 0) {
                throw new DeidError('unreadable', 'the file ended while its pixel data was read');
              }
              filled += bytesRead;
            }
            parts.push(bytes);
          }
          return parts;
        },
        close: () => reader.close(),
      };
    },
  };
}

/** Attributes that describe more than one frame or the encapsulation: not in a one-frame view. */
const MULTI_FRAME_TAGS: readonly number[] = [Tag.NumberOfFrames, ...ENCAPSULATION_TAGS];

/**
 * One frame as a parsed file of its own: the header's bytes up to Pixel Data, then an empty
 * Basic Offset Table and the frame's codestream as one fragment. main/core/imaging decodes it
 * as it decodes any single-frame file (the same codecs, colour rules and checks).
 */
function oneFrameFile(
  source: EncapsulatedSource,
  parts: readonly Uint8Array[],
  framing: FrameFragments,
): ParsedDicom {
  const { parsed, element } = source;
  let length = parts.reduce((sum, part) => sum + part.length, 0);
  if (framing.length !== undefined) length = Math.min(length, framing.length);
  const padded = length + (length % 2);
  const start = element.valueOffset;
  const bytes = new Uint8Array(start + 8 + 8 + padded + 8);
  bytes.set(parsed.dataset.bytes.subarray(0, start));
  const view = new DataView(bytes.buffer);
  const item = (at: number, tag: number, itemLength: number): void => {
    view.setUint16(at, tag >>> 16, true);
    view.setUint16(at + 2, tag & 0xffff, true);
    view.setUint32(at + 4, itemLength, true);
  };
  item(start, ITEM, 0);
  item(start + 8, ITEM, padded);
  let offset = start + 16;
  for (const part of parts) {
    const take = Math.min(part.length, start + 16 + length - offset);
    if (take <= 0) break;
    bytes.set(take === part.length ? part : part.subarray(0, take), offset);
    offset += take;
  }
  item(start + 16 + padded, SEQUENCE_DELIMITER, 0);
  const elements = new Map(parsed.dataset.elements);
  for (const tag of MULTI_FRAME_TAGS) elements.delete(tag);
  const pixel: DicomElement = { ...element, length: bytes.length - start };
  elements.set(element.tag, pixel);
  return { ...parsed, dataset: { ...parsed.dataset, bytes, elements }, pixelData: pixel };
}

/**
 * Prepares masking an encapsulated instance: checks the image can be masked, finds every
 * frame's fragments, decodes the first frame (its colour space sets the header), and returns
 * the header changes, the native length and `frames()`, which decodes and masks frame by frame
 * (0 in every sample; black, Y 0 and Cb Cr at mid-range, for YBR_FULL; the maximum stored value
 * for MONOCHROME1, which shows black).
 */
export async function maskEncapsulated(
  source: EncapsulatedSource,
  rects: readonly MaskRect[],
): Promise<DecodedMask> {
  const parsed = source.parsed;
  const geometry = readGeometry(parsed);
  if ('kind' in geometry) throw refuse(geometry.reason);
  const { rows, columns, numberOfFrames, bitsAllocated } = geometry;
  checkRects(rects, rows, columns);
  if (
    geometry.floatPixels ||
    (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32)
  ) {
    throw refuse(`${bitsAllocated} bits per sample`);
  }
  const bytesPerSample = bitsAllocated / 8;
  const channels = geometry.samplesPerPixel === 3 ? 3 : 1;
  const frameLength = rows * columns * channels * bytesPerSample;
  const markerFramed = parsed.transferSyntaxUid !== '1.2.840.10008.1.2.5';
  // Every frame's fragments, found now (no decoding): a frame missing is refused before sending.
  const framing: FrameFragments[] = [];
  for (let frame = 0; frame < numberOfFrames; frame++) {
    const found = frameFragments(
      parsed.dataset,
      source.basicOffsetTable,
      source.fragments,
      frame,
      numberOfFrames,
      markerFramed,
    );
    if (typeof found === 'string') {
      throw refuse(`frame ${frame + 1} of ${numberOfFrames}: ${found}`);
    }
    framing.push(found);
  }

  const decodeFrame = async (reader: FragmentReader, frame: number): Promise<DecodedFrame> => {
    const found = framing[frame]!;
    const decoded = await decodeParsedFrame(
      oneFrameFile(source, await reader.read(found.indices), found),
      0,
    );
    if (decoded.kind === 'unrenderable') {
      throw refuse(`frame ${frame + 1} of ${numberOfFrames}: ${decoded.reason}`);
    }
    if (decoded.channels !== channels || decoded.samples.length !== rows * columns * channels) {
      throw refuse(`frame ${frame + 1} of ${numberOfFrames} decodes to another size`);
    }
    if (decoded.samples.BYTES_PER_ELEMENT > bytesPerSample) {
      throw refuse(`its samples are wider than its ${bitsAllocated} bits allocated`);
    }
    return decoded;
  };

  let first: DecodedFrame | undefined;
  const reader = await source.open();
  try {
    first = await decodeFrame(reader, 0);
  } finally {
    await reader.close();
  }
  const colorSpace = first.colorSpace;
  const fill =
    colorSpace === 'YBR_FULL'
      ? [0, 2 ** (geometry.bitsStored - 1), 2 ** (geometry.bitsStored - 1)]
      : colorSpace === 'MONOCHROME1'
        ? [blackStoredValue(geometry.bitsStored, geometry.pixelRepresentation)]
        : [0, 0, 0];

  async function* frames(): AsyncGenerator<Uint8Array> {
    const frameReader = await source.open();
    try {
      for (let frame = 0; frame < numberOfFrames; frame++) {
        // The first frame, decoded while preparing, is used once and let go.
        const decoded = frame === 0 && first ? first : await decodeFrame(frameReader, frame);
        if (frame === 0) first = undefined;
        if (decoded.colorSpace !== colorSpace) {
          throw refuse('its frames decode to different colour spaces');
        }
        const samples = decoded.samples;
        fillRects(samples, columns, channels, rects, fill);
        yield nativeBytes(samples, bytesPerSample, frameLength);
      }
    } finally {
      await frameReader.close();
    }
  }

  const sourcePhotometric = geometry.photometricInterpretation;
  const photometric =
    channels === 1 ? sourcePhotometric : colorSpace === 'YBR_FULL' ? 'YBR_FULL' : 'RGB';
  const dataset = parsed.dataset;
  const elements: OutputElement[] = [];
  const changes: AttributeChange[] = [];
  const set = (tag: number, vr: string, value: Uint8Array, after: string, rule: string): void => {
    elements.push({ kind: 'value', tag, vr, value });
    const before = !dataset.elements.has(tag)
      ? undefined
      : vr === 'US'
        ? String(getInteger(dataset, tag) ?? '')
        : (getText(dataset, tag) ?? '');
    if (before === after) return;
    const hex = tag.toString(16).toUpperCase().padStart(8, '0');
    changes.push({
      path: `(${hex.slice(0, 4)},${hex.slice(4)})`,
      tag: `(${hex.slice(0, 4)},${hex.slice(4)})`,
      name: NAMES[tag] ?? 'Image Pixel attribute',
      action: before === undefined ? 'added' : 'replaced',
      rule,
      ...(before !== undefined ? { before } : {}),
      after,
    });
  };
  const decodedRule = 'Ferry: pixels decoded to mask them, sent uncompressed';
  if (photometric !== sourcePhotometric) {
    set(Tag.PhotometricInterpretation, 'CS', asciiValue(photometric), photometric, decodedRule);
  }
  if (channels === 3) {
    const zero = new Uint8Array(2);
    elements.push({ kind: 'value', tag: PLANAR_CONFIGURATION, vr: 'US', value: zero });
    if (geometry.planarConfiguration !== 0) {
      changes.push({
        path: '(0028,0006)',
        tag: '(0028,0006)',
        name: 'Planar Configuration',
        action: 'replaced',
        rule: decodedRule,
        before: '1',
        after: '0',
      });
    }
  }
  if (geometry.highBit !== geometry.bitsStored - 1) {
    // The decoders give stored values in the low bits (PS3.5 8.1.1): say so.
    const highBit = geometry.bitsStored - 1;
    const value = new Uint8Array(2);
    new DataView(value.buffer).setUint16(0, highBit, true);
    set(Tag.HighBit, 'US', value, String(highBit), decodedRule);
  }
  const syntax = parsed.transferSyntaxUid;
  const lossy =
    ALWAYS_LOSSY[syntax] !== undefined ||
    (getText(dataset, LOSSY_IMAGE_COMPRESSION) ?? '').trim() === '01';
  if (lossy) {
    // PS3.3 C.7.6.1.1.5: once lossy, always marked lossy; ratio and method stay as they were.
    const lossyRule = 'PS3.3 C.7.6.1.1.5: the source was compressed with loss';
    set(LOSSY_IMAGE_COMPRESSION, 'CS', asciiValue('01'), '01', lossyRule);
    const method = METHOD_BY_SYNTAX[syntax];
    if (!dataset.elements.has(LOSSY_IMAGE_COMPRESSION_METHOD) && method !== undefined) {
      set(LOSSY_IMAGE_COMPRESSION_METHOD, 'CS', asciiValue(method), method, lossyRule);
    }
  }
  return {
    length: frameLength * numberOfFrames,
    vr: bitsAllocated === 8 ? 'OB' : 'OW',
    elements,
    removed: ENCAPSULATION_TAGS,
    changes,
    frames,
  };
}

const NAMES: Readonly<Record<number, string>> = {
  [Tag.PhotometricInterpretation]: 'Photometric Interpretation',
  [Tag.HighBit]: 'High Bit',
  [LOSSY_IMAGE_COMPRESSION]: 'Lossy Image Compression',
  [LOSSY_IMAGE_COMPRESSION_METHOD]: 'Lossy Image Compression Method',
};

/** Sets every sample inside the rectangles to `fill` (per channel); samples are interleaved. */
export function fillRects(
  samples: PixelSamples,
  columns: number,
  channels: 1 | 3,
  rects: readonly MaskRect[],
  fill: readonly number[],
): void {
  for (const rect of rects) {
    for (let row = rect.y; row < rect.y + rect.height; row++) {
      const start = (row * columns + rect.x) * channels;
      const end = (row * columns + rect.x + rect.width) * channels;
      if (channels === 1) {
        samples.fill(fill[0]!, start, end);
        continue;
      }
      for (let i = start; i < end; i += 3) {
        samples[i] = fill[0]!;
        samples[i + 1] = fill[1]!;
        samples[i + 2] = fill[2]!;
      }
    }
  }
}

const littleEndianHost = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * A decoded frame's stored values as native little-endian bytes: the samples' own memory when
 * they already are (same width, little-endian host: the frame is this code's to hand on),
 * otherwise a copy at `bytesPerSample`.
 */
function nativeBytes(
  samples: PixelSamples,
  bytesPerSample: number,
  frameLength: number,
): Uint8Array {
  if (littleEndianHost && samples.BYTES_PER_ELEMENT === bytesPerSample) {
    return new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength);
  }
  const out = new Uint8Array(frameLength);
  writeSamples(new DataView(out.buffer), 0, samples, bytesPerSample);
  return out;
}

/** Stored values to little-endian bytes at `bytesPerSample` (two's complement when negative). */
function writeSamples(
  view: DataView,
  offset: number,
  samples: PixelSamples,
  bytesPerSample: number,
): void {
  const count = samples.length;
  const buffer = view.buffer as ArrayBuffer;
  // Same width, aligned, little-endian host: one typed-array copy (sign bits kept as they are).
  if (
    littleEndianHost &&
    samples.BYTES_PER_ELEMENT === bytesPerSample &&
    offset % bytesPerSample === 0
  ) {
    const signed =
      samples instanceof Int8Array ||
      samples instanceof Int16Array ||
      samples instanceof Int32Array;
    const Target =
      bytesPerSample === 1
        ? signed
          ? Int8Array
          : Uint8Array
        : bytesPerSample === 2
          ? signed
            ? Int16Array
            : Uint16Array
          : signed
            ? Int32Array
            : Uint32Array;
    new Target(buffer, offset, count).set(samples as ArrayLike<number>);
    return;
  }
  if (bytesPerSample === 1) {
    for (let i = 0; i < count; i++) view.setUint8(offset + i, samples[i]! & 0xff);
  } else if (bytesPerSample === 2) {
    for (let i = 0; i < count; i++) view.setUint16(offset + i * 2, samples[i]! & 0xffff, true);
  } else {
    for (let i = 0; i < count; i++) view.setUint32(offset + i * 4, samples[i]! >>> 0, true);
  }
}
