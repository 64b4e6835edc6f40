/**
 * The compressed transfer syntaxes, decoded by maintained codecs from npm (WASM builds of
 * libjpeg-turbo, CharLS, OpenJPEG and OpenJPH from the Cornerstone project, and
 * jpeg-lossless-decoder-js for JPEG lossless), never by decoders written here. Each codec is
 * loaded once, on first use, from node_modules (the .wasm sits beside its loader).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** A decoded codestream: raw samples, colour-by-pixel, in the codec's bit depth. */
export interface CodecOutput {
  readonly width: number;
  readonly height: number;
  readonly components: number;
  readonly bitsPerSample: number;
  readonly signed: boolean;
  /** Little-endian bytes: 1 byte per sample up to 8 bits, 2 bytes above. */
  readonly bytes: Uint8Array;
}

interface EmscriptenDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  getDecodedBuffer(): Uint8Array;
  decode(): void;
  getFrameInfo(): {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned?: boolean;
  };
  delete(): void;
}
type DecoderClass = new () => EmscriptenDecoder;
type EmscriptenFactory = (options: Record<string, unknown>) => Promise<Record<string, unknown>>;

const quiet = { print: (): void => {}, printErr: (): void => {} };
const modules = new Map<string, Promise<Record<string, unknown>>>();

function loadModule(specifier: string): Promise<Record<string, unknown>> {
  let loading = modules.get(specifier);
  if (!loading) {
    const factory = require(specifier) as EmscriptenFactory;
    loading = factory({ ...quiet });
    modules.set(specifier, loading);
  }
  return loading;
}

async function runEmscripten(
  specifier: string,
  className: string,
  codestream: Uint8Array,
): Promise<CodecOutput> {
  const module = await loadModule(specifier);
  const Decoder = module[className] as DecoderClass;
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(codestream.length).set(codestream);
    decoder.decode();
    const info = decoder.getFrameInfo();
    // The decoded buffer is a view into WASM memory: copy it out before delete().
    const bytes = new Uint8Array(decoder.getDecodedBuffer());
    return {
      width: info.width,
      height: info.height,
      components: info.componentCount,
      bitsPerSample: info.bitsPerSample,
      signed: info.isSigned ?? false,
      bytes,
    };
  } catch (error) {
    // Emscripten throws a bare pointer (a number) for C++ exceptions.
    throw error instanceof Error ? error : new Error(`the codec rejected the codestream`);
  } finally {
    decoder.delete();
  }
}

/** JPEG Baseline (Process 1) and 8-bit Extended: libjpeg-turbo, YCbCr converted to RGB. */
export function decodeJpegBaseline(codestream: Uint8Array): Promise<CodecOutput> {
  return runEmscripten(
    '@cornerstonejs/codec-libjpeg-turbo-8bit/decodewasmjs',
    'JPEGDecoder',
    codestream,
  );
}

/** JPEG-LS lossless and near-lossless: CharLS. */
export function decodeJpegLs(codestream: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-charls/decodewasmjs', 'JpegLSDecoder', codestream);
}

/** JPEG 2000 (Part 1): OpenJPEG; applies the inverse RCT/ICT when the codestream says so. */
export function decodeJpeg2000(codestream: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-openjpeg/decodewasmjs', 'J2KDecoder', codestream);
}

/** High-Throughput JPEG 2000 (Part 15): OpenJPH. */
export function decodeHtj2k(codestream: Uint8Array): Promise<CodecOutput> {
  return runEmscripten('@cornerstonejs/codec-openjph/wasmjs', 'HTJ2KDecoder', codestream);
}

interface LosslessDecoder {
  decode(buffer: ArrayBuffer, offset: number, length: number): Uint8Array | Uint16Array;
  numComp: number;
  xDim: number;
  yDim: number;
  precision?: number;
}

/** JPEG Lossless (Processes 14, and 14 SV1): jpeg-lossless-decoder-js. */
export function decodeJpegLossless(codestream: Uint8Array): Promise<CodecOutput> {
  // Lossless is Start Of Frame 3 (0xFFC3) or 7/11/15 (hierarchical/arithmetic, unsupported).
  if (!hasLosslessFrame(codestream)) {
    return Promise.reject(new Error('not a lossless (SOF3) JPEG codestream'));
  }
  const { Decoder } = require('jpeg-lossless-decoder-js') as {
    Decoder: new () => LosslessDecoder;
  };
  const decoder = new Decoder();
  // A copy with its own ArrayBuffer (a Buffer's slice() would share the file's).
  const copy = new Uint8Array(codestream);
  const decoded = decoder.decode(copy.buffer, 0, copy.length);
  const bitsPerSample = decoded instanceof Uint16Array ? 16 : 8;
  const bytes = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
  return Promise.resolve({
    width: decoder.xDim,
    height: decoder.yDim,
    components: decoder.numComp,
    bitsPerSample,
    signed: false,
    bytes,
  });
}

/** Which Start Of Frame marker a JPEG codestream carries (0xC0..0xCF), or undefined. */
export function jpegFrameMarker(codestream: Uint8Array): number | undefined {
  let pos = 2;
  while (pos + 4 <= codestream.length) {
    if (codestream[pos] !== 0xff) return undefined;
    const marker = codestream[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return marker;
    }
    const length = (codestream[pos + 2]! << 8) | codestream[pos + 3]!;
    pos += 2 + length;
  }
  return undefined;
}

/** The sample precision from the Start Of Frame segment (8 or 12 for DCT processes). */
export function jpegPrecision(codestream: Uint8Array): number | undefined {
  let pos = 2;
  while (pos + 5 <= codestream.length) {
    if (codestream[pos] !== 0xff) return undefined;
    const marker = codestream[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return codestream[pos + 4];
    }
    pos += 2 + ((codestream[pos + 2]! << 8) | codestream[pos + 3]!);
  }
  return undefined;
}

/** What a JPEG codestream says about its colour before the scan (JFIF, Adobe, component IDs). */
export function jpegColorMarkers(codestream: Uint8Array): {
  jfif: boolean;
  adobe: boolean;
  componentIds: number[];
} {
  const found = { jfif: false, adobe: false, componentIds: [] as number[] };
  let pos = 2;
  while (pos + 4 <= codestream.length && codestream[pos] === 0xff) {
    const marker = codestream[pos + 1]!;
    if (marker === 0xff) {
      pos++;
      continue;
    }
    if (marker === 0xda || marker === 0xd9) break;
    const length = (codestream[pos + 2]! << 8) | codestream[pos + 3]!;
    const tag = String.fromCharCode(...codestream.subarray(pos + 4, pos + 9));
    if (marker === 0xe0 && tag === 'JFIF\0') found.jfif = true;
    // libjpeg ignores an Adobe segment shorter than its 12 data bytes.
    if (marker === 0xee && tag === 'Adobe' && length >= 14) found.adobe = true;
    if (marker >= 0xc0 && marker <= 0xc3) {
      const count = codestream[pos + 9] ?? 0;
      for (let k = 0; k < count; k++) found.componentIds.push(codestream[pos + 10 + 3 * k] ?? 0);
    }
    pos += 2 + length;
  }
  return found;
}

/**
 * The codestream with an Adobe APP14 segment (transform 0: no colour transform) after SOI,
 * so libjpeg keeps RGB components as they are. libjpeg assumes YCbCr for a 3-component
 * image without JFIF/Adobe markers unless the component IDs spell 'R','G','B'.
 */
export function withAdobeNoTransform(codestream: Uint8Array): Uint8Array {
  const app14 = Uint8Array.of(
    0xff,
    0xee,
    0x00,
    0x0e,
    0x41,
    0x64,
    0x6f,
    0x62,
    0x65,
    0x00,
    0x64,
    0,
    0,
    0,
    0,
    0,
  );
  const out = new Uint8Array(codestream.length + app14.length);
  out.set(codestream.subarray(0, 2));
  out.set(app14, 2);
  out.set(codestream.subarray(2), 2 + app14.length);
  return out;
}

function hasLosslessFrame(codestream: Uint8Array): boolean {
  return jpegFrameMarker(codestream) === 0xc3;
}
