/**
 * Independent reference renderings: dcmtk (dcm2pnm for native/deflate/RLE, dcmj2pnm for the
 * JPEG processes, dcml2pnm for JPEG-LS) and, for JPEG 2000 which Debian's dcmtk cannot
 * decode, GDCM's `gdcmconv --raw` to native pixel data rendered by dcm2pnm.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Bitmap {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

/** Binary PGM (P5) / PPM (P6), maxval 255, as dcm2pnm +op writes. */
export function readPnm(bytes: Uint8Array): Bitmap {
  const fields: string[] = [];
  let pos = 0;
  while (fields.length < 4) {
    while (pos < bytes.length && /\s/u.test(String.fromCharCode(bytes[pos]!))) pos++;
    if (bytes[pos] === 0x23) {
      while (pos < bytes.length && bytes[pos] !== 0x0a) pos++;
      continue;
    }
    let field = '';
    while (pos < bytes.length && !/\s/u.test(String.fromCharCode(bytes[pos]!))) {
      field += String.fromCharCode(bytes[pos++]!);
    }
    fields.push(field);
  }
  pos++; // the single whitespace after maxval
  const [magic, width, height, maxval] = fields;
  if ((magic !== 'P5' && magic !== 'P6') || maxval !== '255')
    throw new Error(`unexpected PNM ${fields.join(' ')}`);
  const channels = magic === 'P6' ? 3 : 1;
  const w = Number(width);
  const h = Number(height);
  return { width: w, height: h, channels, pixels: bytes.subarray(pos, pos + w * h * channels) };
}

export type ReferenceTool =
  | 'dcm2pnm'
  | 'dcmj2pnm'
  | 'dcml2pnm'
  | 'gdcmconv+dcm2pnm'
  /** dcmtk's JPEG decoder converting YCbCr wherever libjpeg guesses it (+cg). */
  | 'dcmdjpeg+cg+dcm2pnm';

export function referenceToolFor(transferSyntaxUid: string): ReferenceTool {
  if (/^1\.2\.840\.10008\.1\.2\.4\.(50|51|57|70)$/u.test(transferSyntaxUid)) return 'dcmj2pnm';
  if (/^1\.2\.840\.10008\.1\.2\.4\.8[01]$/u.test(transferSyntaxUid)) return 'dcml2pnm';
  if (/^1\.2\.840\.10008\.1\.2\.4\.(9\d|20\d)$/u.test(transferSyntaxUid)) return 'gdcmconv+dcm2pnm';
  return 'dcm2pnm';
}

/** GDCM's decompression of a file to native Explicit VR Little Endian. */
export function gdcmRaw(file: string, outDir: string): string {
  const out = path.join(outDir, `${path.basename(file)}.raw.dcm`);
  execFileSync('gdcmconv', ['--raw', file, out], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/**
 * dcmtk's rendering of a frame (1-based for the tool) with the VOI the caller names: the n-th
 * window of the file (+Wi), the min-max window (+Wm) or none (colour). Overlays off (-O).
 */
export function dcmtkRender(
  file: string,
  frame: number,
  voi: 'header-window' | 'min-max' | 'voi-lut' | 'none',
  tool: ReferenceTool,
  outDir: string,
): Bitmap {
  let input = file;
  let program: string = tool;
  if (tool === 'gdcmconv+dcm2pnm') {
    input = gdcmRaw(file, outDir);
    program = 'dcm2pnm';
  } else if (tool === 'dcmdjpeg+cg+dcm2pnm') {
    input = path.join(outDir, `${path.basename(file)}.djpeg.dcm`);
    execFileSync('dcmdjpeg', ['-q', '+cg', file, input], { stdio: ['ignore', 'ignore', 'pipe'] });
    program = 'dcm2pnm';
  }
  const voiArgs =
    voi === 'header-window'
      ? ['+Wi', '1']
      : voi === 'min-max'
        ? ['+Wm']
        : voi === 'voi-lut'
          ? ['+Wl', '1']
          : [];
  const out = path.join(outDir, `${path.basename(file)}.${frame}.pnm`);
  execFileSync(program, ['-q', '+F', String(frame + 1), ...voiArgs, '-O', '+op', input, out], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return readPnm(readFileSync(out));
}

export interface Difference {
  mean: number;
  p99: number;
  max: number;
}

export function compareBitmaps(ours: Bitmap, reference: Bitmap): Difference {
  if (
    ours.width !== reference.width ||
    ours.height !== reference.height ||
    ours.channels !== reference.channels
  ) {
    throw new Error(
      `size differs: ours ${ours.width}x${ours.height}x${ours.channels}, reference ${reference.width}x${reference.height}x${reference.channels}`,
    );
  }
  return differences(ours.pixels, reference.pixels);
}

export function differences(a: ArrayLike<number>, b: ArrayLike<number>): Difference {
  if (a.length !== b.length) throw new Error(`length differs: ${a.length} vs ${b.length}`);
  const diffs = new Float64Array(a.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) {
    diffs[i] = Math.abs(a[i]! - b[i]!);
    sum += diffs[i]!;
  }
  diffs.sort();
  return {
    mean: a.length ? sum / a.length : 0,
    p99: diffs[Math.min(diffs.length - 1, Math.floor(diffs.length * 0.99))] ?? 0,
    max: diffs[diffs.length - 1] ?? 0,
  };
}
