/**
 * Encapsulated Pixel Data (PS3.5 A.4): the item list after (7FE0,0010) of undefined length is
 * a Basic Offset Table item followed by fragments; one frame may span several fragments.
 * Frame boundaries come from, in order: the Extended Offset Table (7FE0,0001/0002), the Basic
 * Offset Table, one fragment per frame when the counts agree, a single frame made of every
 * fragment, or (several frames, no table) the codec's start-of-image marker.
 */
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import { dataView, ImageTag } from './attributes.ts';

const ITEM = 0xfffee000;
const SEQUENCE_DELIMITER = 0xfffee0dd;

export interface Fragment {
  /** Offset of the fragment's Item tag, relative to the first fragment's Item tag (PS3.5 A.4). */
  readonly itemOffset: number;
  readonly bytes: Uint8Array;
}

export interface EncapsulatedPixelData {
  readonly basicOffsetTable: readonly number[];
  readonly fragments: readonly Fragment[];
}

/** Splits the encapsulated value into its offset table and fragments; throws on a bad item. */
export function readEncapsulated(
  dataset: DicomDataset,
  element: DicomElement,
): EncapsulatedPixelData {
  const bytes = dataset.bytes;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = element.valueOffset + element.length;
  let pos = element.valueOffset;
  let basicOffsetTable: number[] | undefined;
  const fragments: Fragment[] = [];
  let firstFragmentItem = -1;
  while (pos + 8 <= end) {
    const group = view.getUint16(pos, true);
    const elementNumber = view.getUint16(pos + 2, true);
    const tag = ((group << 16) | elementNumber) >>> 0;
    const length = view.getUint32(pos + 4, true);
    if (tag === SEQUENCE_DELIMITER) break;
    if (tag !== ITEM) throw new Error(`no fragment item at byte ${pos}`);
    const valueStart = pos + 8;
    const valueEnd = Math.min(valueStart + length, bytes.length);
    if (basicOffsetTable === undefined) {
      basicOffsetTable = [];
      for (let offset = valueStart; offset + 4 <= valueEnd; offset += 4) {
        basicOffsetTable.push(view.getUint32(offset, true));
      }
    } else {
      if (firstFragmentItem < 0) firstFragmentItem = pos;
      fragments.push({
        itemOffset: pos - firstFragmentItem,
        bytes: bytes.subarray(valueStart, valueEnd),
      });
    }
    pos = valueStart + length;
  }
  return { basicOffsetTable: basicOffsetTable ?? [], fragments };
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Does this fragment begin a codestream (JPEG/JPEG-LS SOI, J2K SOC, JP2 signature box)? */
function startsFrame(bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  if (bytes[0] === 0xff && (bytes[1] === 0xd8 || bytes[1] === 0x4f)) return true;
  // JP2 file format: a 12-byte signature box "jP  ".
  return bytes.length >= 8 && bytes[4] === 0x6a && bytes[5] === 0x50 && bytes[6] === 0x20;
}

/** What framing needs of a fragment: where its item starts, its length, its first bytes. */
export interface FragmentHead {
  /** Offset of the fragment's Item tag, relative to the first fragment's Item tag. */
  readonly itemOffset: number;
  readonly length: number;
  /** At least its first 8 bytes (fewer when the fragment is shorter). */
  readonly head: Uint8Array;
}

/** Which fragments make frame `frame`: their indices, and the frame's length when a table says. */
export interface FrameFragments {
  readonly indices: readonly number[];
  /** From the Extended Offset Table Lengths: the frame ends there (padding follows). */
  readonly length?: number;
}

/**
 * The fragments of frame `frame` (0-based) of `numberOfFrames`, or a reason they cannot be
 * found. `markerFramed`: false for RLE, whose fragments carry no start marker (one per frame,
 * A.4.2). Needs only the fragments' heads, so a caller may read the fragments themselves later.
 */
export function frameFragments(
  dataset: DicomDataset,
  basicOffsetTable: readonly number[],
  fragments: readonly FragmentHead[],
  frame: number,
  numberOfFrames: number,
  markerFramed: boolean,
): FrameFragments | string {
  if (fragments.length === 0) return 'the encapsulated pixel data has no fragments';

  const extended = dataset.elements.get(ImageTag.ExtendedOffsetTable);
  const extendedLengths = dataset.elements.get(ImageTag.ExtendedOffsetTableLengths);
  if (extended && extendedLengths && extended.length >= (frame + 1) * 8) {
    // Offsets of each frame's first fragment Item tag, 64-bit (PS3.3 C.7.6.3.1.8).
    const offsets = dataView(dataset, extended);
    const lengths = dataView(dataset, extendedLengths);
    const start = Number(offsets.getBigUint64(frame * 8, dataset.littleEndian));
    const length = Number(lengths.getBigUint64(frame * 8, dataset.littleEndian));
    const first = fragments.findIndex((fragment) => fragment.itemOffset === start);
    if (first >= 0) {
      const indices: number[] = [];
      let taken = 0;
      for (let i = first; i < fragments.length && taken < length; i++) {
        indices.push(i);
        taken += fragments[i]!.length;
      }
      return { indices, length };
    }
  }

  if (basicOffsetTable.length > 0 && basicOffsetTable.length >= numberOfFrames) {
    const start = basicOffsetTable[frame];
    if (start === undefined) return `the offset table has no entry for frame ${frame + 1}`;
    const next = basicOffsetTable[frame + 1] ?? Number.POSITIVE_INFINITY;
    const indices: number[] = [];
    for (const [i, fragment] of fragments.entries()) {
      if (fragment.itemOffset >= start && fragment.itemOffset < next) indices.push(i);
    }
    if (indices.length > 0) return { indices };
    // An offset table that points nowhere: fall through to the other rules.
  }

  if (numberOfFrames === 1) return { indices: fragments.map((_, i) => i) };
  if (fragments.length === numberOfFrames) return { indices: [frame] };
  if (!markerFramed) {
    return `${fragments.length} fragments for ${numberOfFrames} frames and no offset table`;
  }
  let found = -1;
  const indices: number[] = [];
  for (const [i, fragment] of fragments.entries()) {
    if (i === 0 || startsFrame(fragment.head)) found++;
    if (found === frame) indices.push(i);
    else if (found > frame) break;
  }
  if (indices.length === 0) {
    return `found ${found + 1} frames in the fragments, not ${numberOfFrames}`;
  }
  return { indices };
}

/**
 * The bytes of frame `frame` (0-based) of `numberOfFrames`, or a reason it cannot be found.
 * `markerFramed`: false for RLE, whose fragments carry no start marker (one per frame, A.4.2).
 */
export function frameBytes(
  dataset: DicomDataset,
  encapsulated: EncapsulatedPixelData,
  frame: number,
  numberOfFrames: number,
  markerFramed: boolean,
): Uint8Array | string {
  const { fragments, basicOffsetTable } = encapsulated;
  const heads = fragments.map((fragment) => ({
    itemOffset: fragment.itemOffset,
    length: fragment.bytes.length,
    head: fragment.bytes,
  }));
  const found = frameFragments(
    dataset,
    basicOffsetTable,
    heads,
    frame,
    numberOfFrames,
    markerFramed,
  );
  if (typeof found === 'string') return found;
  const bytes = concat(found.indices.map((i) => fragments[i]!.bytes));
  return found.length !== undefined ? bytes.subarray(0, found.length) : bytes;
}
