/**
 * A PNG encoder for 8-bit grey or RGB (PNG spec, ISO/IEC 15948): signature, IHDR, one zlib
 * IDAT from node:zlib, IEND. Each row uses the Up filter except the first (None), which
 * compresses medical images well at no cost in code.
 */
import { promisify } from 'node:util';
import { constants, crc32, deflate, deflateSync } from 'node:zlib';

const deflateAsync = promisify(deflate);

const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)) >>> 0);
  return out;
}

export interface PngImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly pixels: Uint8Array;
}

/** The IHDR data and the filtered scanlines (what IDAT compresses). */
function prepare(image: PngImage): { header: Uint8Array; raw: Uint8Array } {
  const { width, height, channels, pixels } = image;
  if (pixels.length !== width * height * channels)
    throw new Error('pixel count does not match the size');
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = channels === 3 ? 2 : 0; // colour type: truecolour or greyscale
  // compression 0, filter method 0, no interlace
  const stride = width * channels;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = pixels.subarray(y * stride, (y + 1) * stride);
    const target = y * (stride + 1);
    if (y === 0) {
      raw[target] = 0;
      raw.set(row, target + 1);
      continue;
    }
    raw[target] = 2; // Up
    const above = y * stride - stride;
    for (let x = 0; x < stride; x++) raw[target + 1 + x] = (row[x]! - pixels[above + x]!) & 0xff;
  }
  return { header, raw };
}

function assemble(header: Uint8Array, idat: Uint8Array): Uint8Array {
  const parts = [
    signature,
    chunk('IHDR', header),
    chunk('IDAT', idat),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function encodePng(image: PngImage): Uint8Array {
  const { header, raw } = prepare(image);
  return assemble(header, deflateSync(raw));
}

/**
 * The same PNG with the compression on libuv's thread pool, so a large image does not hold the
 * event loop (the image view encodes up to 2048 x 2048 per window change); `level` trades size
 * for time (zlib 1-9).
 */
export async function encodePngAsync(
  image: PngImage,
  options: { level?: number } = {},
): Promise<Uint8Array> {
  const { header, raw } = prepare(image);
  const idat = await deflateAsync(raw, { level: options.level ?? constants.Z_DEFAULT_COMPRESSION });
  return assemble(header, idat);
}
