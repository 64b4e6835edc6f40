/**
 * The shapes the imaging layer hands to the rest of Ferry: decoded frames (for rendering and
 * for pixel masking in main/core/deid), rendered 8-bit images (for the UI and PNGs), and the
 * typed "cannot render" result. Nothing here throws to the UI: a file that cannot be shown
 * is `{ kind: 'unrenderable' }` and stays uploadable.
 */

/** Stored pixel values, sign-extended to the array's type (PS3.5 8.1.1, PS3.3 C.7.6.3.1). */
export type PixelSamples =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;

/** Image Pixel module attributes (PS3.3 C.7.6.3) as read from the header. */
export interface ImageGeometry {
  readonly rows: number;
  readonly columns: number;
  readonly samplesPerPixel: number;
  readonly bitsAllocated: number;
  readonly bitsStored: number;
  readonly highBit: number;
  /** 0 unsigned, 1 two's complement. */
  readonly pixelRepresentation: 0 | 1;
  /** As written in the header, e.g. 'MONOCHROME2', 'YBR_FULL_422', 'PALETTE COLOR'. */
  readonly photometricInterpretation: string;
  /** 0 colour-by-pixel (R1G1B1…), 1 colour-by-plane (R…G…B…). */
  readonly planarConfiguration: 0 | 1;
  readonly numberOfFrames: number;
  readonly transferSyntaxUid: string;
  /** Float Pixel Data (7FE0,0008) or Double Float Pixel Data (7FE0,0009). */
  readonly floatPixels: boolean;
}

/**
 * How the samples of a decoded frame are to be read: codecs may already have converted
 * colour (JPEG baseline YCbCr -> RGB, JPEG 2000 RCT/ICT -> RGB), so this can differ from the
 * header's Photometric Interpretation.
 */
export type DecodedColorSpace =
  'MONOCHROME1' | 'MONOCHROME2' | 'RGB' | 'YBR_FULL' | 'PALETTE COLOR';

/** One decoded frame: the buffer de-identification masks and the renderer reads. */
export interface DecodedFrame {
  readonly kind: 'decoded';
  readonly geometry: ImageGeometry;
  /** 0-based. */
  readonly frame: number;
  readonly rows: number;
  readonly columns: number;
  /** 1 or 3, interleaved (colour-by-pixel) whatever the file's planar configuration. */
  readonly channels: 1 | 3;
  readonly colorSpace: DecodedColorSpace;
  /** rows * columns * channels stored values. */
  readonly samples: PixelSamples;
}

export type UnrenderableCode =
  | 'not-dicom'
  | 'malformed'
  | 'truncated'
  | 'no-pixel-data'
  | 'unsupported-transfer-syntax'
  | 'unsupported-image'
  | 'codec-failed'
  | 'frame-out-of-range';

/** Why a file has no preview, in words a support person can read (no pixel or patient data). */
export interface Unrenderable {
  readonly kind: 'unrenderable';
  readonly code: UnrenderableCode;
  readonly reason: string;
}

export function unrenderable(code: UnrenderableCode, reason: string): Unrenderable {
  return { kind: 'unrenderable', code, reason };
}

/** The window actually applied, for the UI's window/level readout. */
export interface AppliedVoi {
  /** 'window' (center/width), 'lut' (VOI LUT Sequence), 'min-max' (computed), 'none' (colour). */
  readonly source: 'header-window' | 'user-window' | 'voi-lut' | 'min-max' | 'none';
  readonly center?: number;
  readonly width?: number;
  readonly function?: VoiFunction;
}

export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

/** An 8-bit image ready for display or PNG: grey (1 channel) or RGB (3), row-major. */
export interface RenderedImage {
  readonly kind: 'rendered';
  /** The image's native size (Columns, Rows), before any downscale. */
  readonly columns: number;
  readonly rows: number;
  /** The rendered size (at most maxSize on the longer side). */
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly pixels: Uint8Array;
  readonly frame: number;
  readonly numberOfFrames: number;
  readonly voi: AppliedVoi;
  readonly photometricInterpretation: string;
  readonly transferSyntaxUid: string;
}

export type RenderResult = RenderedImage | Unrenderable;
export type DecodeResult = DecodedFrame | Unrenderable;

export interface RenderOptions {
  /** 0-based frame index (default 0). */
  readonly frame?: number;
  /** A user window overriding the header's (window/level by drag). */
  readonly window?: { readonly center: number; readonly width: number };
  /** Downscale so the longer side is at most this many pixels (thumbnails). */
  readonly maxSize?: number;
}
