/**
 * Rectangle masking of native (uncompressed) pixel data (PS3.15 E.3.1 Clean Pixel Data).
 * Masked samples become the value that shows black: 0, or for MONOCHROME1 (where the minimum
 * shows white, PS3.3 C.7.6.3.1.2) the maximum stored value. Works while the pixel value
 * streams: the rectangles become sorted byte ranges of the pixel value, applied to each chunk
 * at its offset.
 */
import { Tag } from '../dicom/dictionary.ts';
import type { DicomDataset } from '../dicom/parse.ts';
import { getInteger, getText } from '../dicom/values.ts';
import { DeidError } from './engine.ts';

export interface MaskRect {
  /** Column of the left edge, row of the top edge, in pixels from the top left (0-based). */
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * The user's rectangles for one series, drawn on images of `rows` x `columns`: they apply to
 * every instance of the series with that size (an instance of another size is not masked).
 */
export interface SeriesMask {
  readonly rows: number;
  readonly columns: number;
  readonly rects: readonly MaskRect[];
}

/** Throws `mask-outside` unless every rectangle is whole pixels inside rows x columns. */
export function checkRects(rects: readonly MaskRect[], rows: number, columns: number): void {
  for (const rect of rects) {
    const ok =
      [rect.x, rect.y, rect.width, rect.height].every(Number.isInteger) &&
      rect.x >= 0 &&
      rect.y >= 0 &&
      rect.width > 0 &&
      rect.height > 0 &&
      rect.x + rect.width <= columns &&
      rect.y + rect.height <= rows;
    if (!ok) throw new DeidError('mask-outside', 'a mask rectangle lies outside the image');
  }
}

/** A mask template: rectangles for a manufacturer's model at an image size. */
export interface MaskTemplate {
  readonly manufacturer: string;
  readonly model?: string;
  readonly rows: number;
  readonly columns: number;
  readonly rects: readonly MaskRect[];
}

export interface PixelGeometry {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bytesPerSample: number;
  readonly frames: number;
  readonly planar: boolean;
  /** The masked sample's bytes, little endian: what shows black (see blackStoredValue). */
  readonly fill: Uint8Array;
}

/**
 * The stored value that shows black in MONOCHROME1: the largest for Bits Stored and Pixel
 * Representation (2^bits - 1 unsigned, 2^(bits-1) - 1 two's complement).
 */
export function blackStoredValue(bitsStored: number, pixelRepresentation: number): number {
  return pixelRepresentation === 1 ? 2 ** (bitsStored - 1) - 1 : 2 ** bitsStored - 1;
}

export function pixelGeometry(dataset: DicomDataset): PixelGeometry {
  const rows = getInteger(dataset, Tag.Rows) ?? 0;
  const columns = getInteger(dataset, Tag.Columns) ?? 0;
  const samplesPerPixel = getInteger(dataset, Tag.SamplesPerPixel) ?? 1;
  const bitsAllocated = getInteger(dataset, Tag.BitsAllocated) ?? 0;
  const frames = getInteger(dataset, Tag.NumberOfFrames) ?? 1;
  const photometric = (getText(dataset, Tag.PhotometricInterpretation) ?? '').toUpperCase();
  if (rows <= 0 || columns <= 0 || frames <= 0) {
    throw new DeidError(
      'mask-unsupported',
      'the image has no size (Rows, Columns): it cannot be masked',
    );
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new DeidError(
      'mask-unsupported',
      `images with ${bitsAllocated} bits per sample cannot be masked yet; it will not be sent unmasked`,
    );
  }
  if (photometric.endsWith('_422') || photometric.endsWith('_420')) {
    throw new DeidError(
      'mask-unsupported',
      'subsampled colour (YBR 4:2:2) cannot be masked yet; it will not be sent unmasked',
    );
  }
  const bytesPerSample = bitsAllocated / 8;
  const fill = new Uint8Array(bytesPerSample);
  if (photometric === 'MONOCHROME1') {
    const bitsStored = Math.min(
      getInteger(dataset, Tag.BitsStored) ?? bitsAllocated,
      bitsAllocated,
    );
    const highBit = Math.min(getInteger(dataset, Tag.HighBit) ?? bitsStored - 1, bitsAllocated - 1);
    const signed = getInteger(dataset, Tag.PixelRepresentation) === 1 ? 1 : 0;
    // The stored value sits with its top bit at High Bit (PS3.5 8.1.1); the bits above are 0.
    const shift = Math.max(0, highBit + 1 - bitsStored);
    const value = BigInt(blackStoredValue(bitsStored, signed)) << BigInt(shift);
    for (let i = 0; i < bytesPerSample; i++) fill[i] = Number((value >> BigInt(8 * i)) & 0xffn);
  }
  return {
    rows,
    columns,
    samplesPerPixel,
    bytesPerSample,
    frames,
    planar: samplesPerPixel > 1 && getInteger(dataset, 0x00280006) === 1,
    fill,
  };
}

/** The templates that fit an instance: same manufacturer (and model, when given) and size. */
export function templateRects(
  dataset: DicomDataset,
  templates: readonly MaskTemplate[],
): MaskRect[] {
  const manufacturer = (getText(dataset, Tag.Manufacturer) ?? '').toUpperCase();
  const model = (getText(dataset, Tag.ManufacturerModelName) ?? '').toUpperCase();
  const rows = getInteger(dataset, Tag.Rows);
  const columns = getInteger(dataset, Tag.Columns);
  return templates
    .filter(
      (template) =>
        template.manufacturer.toUpperCase() === manufacturer &&
        (template.model === undefined || template.model.toUpperCase() === model) &&
        template.rows === rows &&
        template.columns === columns,
    )
    .flatMap((template) => template.rects);
}

/** Sorted, merged [start, end) byte ranges of the pixel value covered by the rectangles. */
export function maskRanges(
  geometry: PixelGeometry,
  rects: readonly MaskRect[],
): Array<[number, number]> {
  const { rows, columns, samplesPerPixel, bytesPerSample, frames, planar } = geometry;
  checkRects(rects, rows, columns);
  const ranges: Array<[number, number]> = [];
  const pixelBytes = samplesPerPixel * bytesPerSample;
  const planeBytes = rows * columns * bytesPerSample;
  const frameBytes = rows * columns * pixelBytes;
  for (let frame = 0; frame < frames; frame++) {
    const planes = planar ? samplesPerPixel : 1;
    for (let plane = 0; plane < planes; plane++) {
      const base = frame * frameBytes + plane * planeBytes;
      const unit = planar ? bytesPerSample : pixelBytes;
      for (let row = 0; row < rows; row++) {
        const spans: Array<[number, number]> = [];
        for (const rect of rects) {
          if (row < rect.y || row >= rect.y + rect.height) continue;
          spans.push([rect.x, rect.x + rect.width]);
        }
        spans.sort((a, b) => a[0] - b[0]);
        for (const [from, to] of spans) {
          const start = base + (row * columns + from) * unit;
          const end = base + (row * columns + to) * unit;
          const last = ranges[ranges.length - 1];
          if (last && start <= last[1]) last[1] = Math.max(last[1], end);
          else ranges.push([start, end]);
        }
      }
    }
  }
  return ranges;
}

/**
 * Fills the parts of `chunk` (at `offset` of the pixel value) that the ranges cover with the
 * masked sample's bytes (`fill`, one sample; zeros when it is all zero or not given).
 */
export class MaskApplier {
  private next = 0;
  private readonly fill: Uint8Array | undefined;
  constructor(
    private readonly ranges: ReadonlyArray<readonly [number, number]>,
    fill?: Uint8Array,
  ) {
    this.fill = fill?.some((byte) => byte !== 0) ? fill : undefined;
  }

  apply(chunk: Uint8Array, offset: number): void {
    const end = offset + chunk.length;
    while (this.next < this.ranges.length && this.ranges[this.next]![1] <= offset) this.next++;
    for (let i = this.next; i < this.ranges.length; i++) {
      const [start, stop] = this.ranges[i]!;
      if (start >= end) break;
      const from = Math.max(start, offset);
      const to = Math.min(stop, end);
      const fill = this.fill;
      if (!fill) {
        chunk.fill(0, from - offset, to - offset);
        continue;
      }
      // Ranges start on a sample: the byte at `p` is byte (p - start) % width of the sample.
      const width = fill.length;
      for (let p = from; p < to; p++) chunk[p - offset] = fill[(p - start) % width]!;
    }
  }
}
