/**
 * Decoded frames to 8-bit grey or RGB for display (PS3.4 N.2, the grayscale and colour
 * pipelines up to P-values): Modality LUT, VOI (the user's window, else the header's first
 * window or VOI LUT, else the frame's min-max), MONOCHROME1 inverted; palette colour through
 * its LUTs; YBR_FULL converted to RGB (PS3.3 C.7.6.3.1.2). Thumbnails are box-filtered.
 */
import type { ParsedDicom } from '../dicom/parse.ts';
import { decodeParsedFrame, parseForImage } from './decode.ts';
import {
  applyModality,
  applyVoi,
  headerVoi,
  lookup,
  minMaxWindow,
  modalityTransform,
  readPalette,
  type ModalityTransform,
  type VoiTransform,
} from './luts.ts';
import {
  unrenderable,
  type AppliedVoi,
  type DecodedFrame,
  type RenderedImage,
  type RenderOptions,
  type RenderResult,
} from './types.ts';

/** Thumbnails: the longer side at most this many pixels. */
export const THUMBNAIL_SIZE = 128;

/** Renders one frame of a DICOM file; never throws (an Unrenderable says why). */
export async function renderFrame(
  fileBytes: Uint8Array,
  options: RenderOptions = {},
): Promise<RenderResult> {
  const parsed = parseForImage(fileBytes);
  if ('kind' in parsed) return parsed;
  return renderParsed(parsed, options);
}

/** A thumbnail of the frame (default: the first), at most 128 pixels on its longer side. */
export function renderThumbnail(
  fileBytes: Uint8Array,
  options: RenderOptions = {},
): Promise<RenderResult> {
  return renderFrame(fileBytes, { maxSize: THUMBNAIL_SIZE, ...options });
}

export async function renderParsed(
  parsed: ParsedDicom,
  options: RenderOptions = {},
): Promise<RenderResult> {
  const decoded = await decodeParsedFrame(parsed, options.frame ?? 0);
  if (decoded.kind === 'unrenderable') return decoded;
  try {
    return renderDecoded(parsed, decoded, options);
  } catch (error) {
    return unrenderable(
      'unsupported-image',
      `the image cannot be displayed: ${(error as Error).message}`,
    );
  }
}

/** Renders an already decoded frame (e.g. after de-identification masked its samples). */
export function renderDecoded(
  parsed: ParsedDicom,
  decoded: DecodedFrame,
  options: RenderOptions = {},
): RenderedImage {
  let pixels: Uint8Array;
  let channels: 1 | 3;
  let voi: AppliedVoi = { source: 'none' };
  switch (decoded.colorSpace) {
    case 'MONOCHROME1':
    case 'MONOCHROME2': {
      const grey = renderGrey(parsed, decoded, options);
      pixels = grey.pixels;
      voi = grey.voi;
      channels = 1;
      break;
    }
    case 'PALETTE COLOR':
      pixels = renderPalette(parsed, decoded);
      channels = 3;
      break;
    case 'RGB':
    case 'YBR_FULL':
      pixels = renderColor(decoded);
      channels = 3;
      break;
  }
  let width = decoded.columns;
  let height = decoded.rows;
  if (options.maxSize !== undefined && Math.max(width, height) > options.maxSize) {
    const scaled = downscale(pixels, width, height, channels, options.maxSize);
    pixels = scaled.pixels;
    width = scaled.width;
    height = scaled.height;
  }
  return {
    kind: 'rendered',
    columns: decoded.columns,
    rows: decoded.rows,
    width,
    height,
    channels,
    pixels,
    frame: decoded.frame,
    numberOfFrames: decoded.geometry.numberOfFrames,
    voi,
    photometricInterpretation: decoded.geometry.photometricInterpretation,
    transferSyntaxUid: decoded.geometry.transferSyntaxUid,
  };
}

function isIntegerSamples(decoded: DecodedFrame): boolean {
  return !(decoded.samples instanceof Float32Array || decoded.samples instanceof Float64Array);
}

function minMax(samples: ArrayLike<number>): { min: number; max: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < samples.length; i++) {
    const value = samples[i]!;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min: Number.isFinite(min) ? min : 0, max: Number.isFinite(max) ? max : 0 };
}

function renderGrey(
  parsed: ParsedDicom,
  decoded: DecodedFrame,
  options: RenderOptions,
): { pixels: Uint8Array; voi: AppliedVoi } {
  const { samples } = decoded;
  const signed = decoded.geometry.pixelRepresentation === 1;
  const modality: ModalityTransform = modalityTransform(parsed.dataset, decoded.frame, signed);
  const stored = minMax(samples);
  const span = stored.max - stored.min;
  // Integer samples over a modest range: one table entry per stored value, then a lookup.
  const tabulate = isIntegerSamples(decoded) && span <= 1 << 20;

  let voi: VoiTransform | undefined;
  let applied: AppliedVoi;
  if (options.window) {
    voi = { kind: 'window', ...options.window, function: 'LINEAR' };
    applied = { source: 'user-window', ...options.window, function: 'LINEAR' };
  } else {
    voi = headerVoi(parsed.dataset, decoded.frame);
    if (voi?.kind === 'window') {
      applied = {
        source: 'header-window',
        center: voi.center,
        width: voi.width,
        function: voi.function,
      };
    } else if (voi?.kind === 'lut') {
      applied = { source: 'voi-lut' };
    } else {
      const range = modalityRange(samples, modality, stored, tabulate);
      const window = minMaxWindow(range.min, range.max);
      voi = window;
      applied = {
        source: 'min-max',
        center: window.center,
        width: window.width,
        function: 'LINEAR',
      };
    }
  }
  const invert = decoded.colorSpace === 'MONOCHROME1';
  const toByte = (value: number): number => {
    const y = applyVoi(voi!, applyModality(modality, value));
    const byte = Math.round(y * 255);
    return invert ? 255 - byte : byte;
  };
  const pixels = new Uint8Array(samples.length);
  if (tabulate) {
    const table = new Uint8Array(span + 1);
    for (let v = 0; v <= span; v++) table[v] = toByte(stored.min + v);
    const offset = stored.min;
    for (let i = 0; i < samples.length; i++) pixels[i] = table[samples[i]! - offset]!;
  } else {
    for (let i = 0; i < samples.length; i++) pixels[i] = toByte(samples[i]!);
  }
  return { pixels, voi: applied };
}

/** Min and max of the modality values present in the frame (the min-max window's input). */
function modalityRange(
  samples: ArrayLike<number>,
  modality: ModalityTransform,
  stored: { min: number; max: number },
  tabulate: boolean,
): { min: number; max: number } {
  if (modality.kind !== 'lut') {
    const a = applyModality(modality, stored.min);
    const b = applyModality(modality, stored.max);
    return { min: Math.min(a, b), max: Math.max(a, b) };
  }
  if (!tabulate) return minMax(Array.from(samples, (value) => applyModality(modality, value)));
  const present = new Uint8Array(stored.max - stored.min + 1);
  for (let i = 0; i < samples.length; i++) present[samples[i]! - stored.min] = 1;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let v = 0; v < present.length; v++) {
    if (!present[v]) continue;
    const value = applyModality(modality, stored.min + v);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  return { min, max };
}

function renderPalette(parsed: ParsedDicom, decoded: DecodedFrame): Uint8Array {
  const palette = readPalette(parsed.dataset, decoded.geometry.pixelRepresentation === 1);
  if (!palette) throw new Error('the palette colour lookup tables are missing');
  const { samples } = decoded;
  const out = new Uint8Array(samples.length * 3);
  const channels = [palette.red, palette.green, palette.blue];
  for (let c = 0; c < 3; c++) {
    const lut = channels[c]!;
    const scale = 255 / (2 ** lut.bits - 1);
    for (let i = 0; i < samples.length; i++) {
      out[i * 3 + c] = Math.round(lookup(lut, samples[i]!) * scale);
    }
  }
  return out;
}

/** RGB or YBR_FULL samples to 8-bit RGB; wider samples are scaled from Bits Stored. */
function renderColor(decoded: DecodedFrame): Uint8Array {
  const { samples } = decoded;
  const bits = Math.min(decoded.geometry.bitsStored, decoded.samples.BYTES_PER_ELEMENT * 8);
  const max = 2 ** bits - 1;
  const scale = 255 / max;
  const out = new Uint8Array(samples.length);
  if (decoded.colorSpace === 'RGB') {
    if (samples instanceof Uint8Array && bits === 8) return new Uint8Array(samples);
    for (let i = 0; i < samples.length; i++) out[i] = Math.round(samples[i]! * scale);
    return out;
  }
  // YBR_FULL (PS3.3 C.7.6.3.1.2), in the samples' own range.
  const half = (max + 1) / 2;
  const clamp = (value: number): number =>
    value <= 0 ? 0 : value >= 255 ? 255 : Math.round(value);
  for (let i = 0; i < samples.length; i += 3) {
    const y = samples[i]!;
    const cb = samples[i + 1]! - half;
    const cr = samples[i + 2]! - half;
    out[i] = clamp((y + 1.402 * cr) * scale);
    out[i + 1] = clamp((y - 0.344136 * cb - 0.714136 * cr) * scale);
    out[i + 2] = clamp((y + 1.772 * cb) * scale);
  }
  return out;
}

/** Box-filter downscale so the longer side is `maxSize` (area average per output pixel). */
export function downscale(
  pixels: Uint8Array,
  width: number,
  height: number,
  channels: number,
  maxSize: number,
): { pixels: Uint8Array; width: number; height: number } {
  const factor = Math.max(width, height) / maxSize;
  const outWidth = Math.max(1, Math.round(width / factor));
  const outHeight = Math.max(1, Math.round(height / factor));
  const out = new Uint8Array(outWidth * outHeight * channels);
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = Math.floor((oy * height) / outHeight);
    const y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * height) / outHeight));
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = Math.floor((ox * width) / outWidth);
      const x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * width) / outWidth));
      const count = (y1 - y0) * (x1 - x0);
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let y = y0; y < y1; y++) {
          let index = (y * width + x0) * channels + c;
          for (let x = x0; x < x1; x++, index += channels) sum += pixels[index]!;
        }
        out[(oy * outWidth + ox) * channels + c] = Math.round(sum / count);
      }
    }
  }
  return { pixels: out, width: outWidth, height: outHeight };
}
