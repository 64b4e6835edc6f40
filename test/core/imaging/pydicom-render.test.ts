/**
 * Issue 8, Proof: every pydicom test file with pixel data is rendered and compared with an
 * independent decoder's rendering (reference.ts). Method:
 *
 * - Both sides apply the same VOI, each read from the file by itself: the file's first window
 *   (ours: header; dcmtk: +Wi 1), else the min-max window of the frame (ours; dcmtk +Wm);
 *   colour images with no VOI. Overlays off in dcmtk (-O). Output 8-bit grey or RGB.
 * - Tolerance per frame in 8-bit levels: mean |diff| <= 1 and 99th percentile <= 2, except
 *   lossy codestreams (JPEG baseline, lossy JPEG 2000) where two decoders' IDCT/upsampling and
 *   wavelet arithmetic differ: mean <= 2, 99th percentile <= 10.
 * - JPEG 2000 also compares the raw stored values with GDCM's `gdcmconv --raw` decoding:
 *   identical for lossless codestreams, within the same lossy bounds in stored-value units
 *   scaled to the image's range otherwise.
 * - Multi-frame files: the first and the last frame.
 *
 * Files that cannot render are listed in cannot-render.ts, with the reason.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { decodeFrame } from '../../../main/core/imaging/decode.ts';
import { renderFrame } from '../../../main/core/imaging/render.ts';
import { missingCommands, missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { cannotRender } from './cannot-render.ts';
import {
  compareBitmaps,
  dcmtkRender,
  differences,
  gdcmRaw,
  referenceToolFor,
  type ReferenceTool,
} from './reference.ts';

const missing =
  missingPydicom() ??
  missingCommands({
    dcm2pnm: 'dcmtk',
    dcmj2pnm: 'dcmtk',
    dcml2pnm: 'dcmtk',
    gdcmconv: 'libgdcm-tools',
  });
const lossySyntaxes = new Set([
  '1.2.840.10008.1.2.4.50',
  '1.2.840.10008.1.2.4.51',
  '1.2.840.10008.1.2.4.91',
]);
/**
 * Where dcmtk 3.6.7 is the wrong reference, and what stands in for it:
 * - big endian 32-bit OW pixel data: dcmtk swaps the two words of each value; the little
 *   endian twin of the same file is the reference (pydicom reads both the same);
 * - files dcmtk cannot read or misreads: GDCM's decoding (gdcmconv --raw) rendered by dcm2pnm.
 */
const referenceTwin: Record<string, string> = {
  'rtdose_expb.dcm': 'rtdose.dcm',
  'rtdose_expb_1frame.dcm': 'rtdose_1frame.dcm',
};
const referenceTool: Record<string, ReferenceTool> = {
  // A trailing element whose length runs past the end of the file: dcmtk stops reading.
  'SC_rgb_jpeg.dcm': 'gdcmconv+dcm2pnm',
  // GDCM wrote YCbCr components (IDs 1,2,3, JFIF's convention) under an RGB header: dcmtk
  // and GDCM trust the header and show false colours (magenta for red). dcmtk's decoder told
  // to convert where libjpeg recognises YCbCr (+cg) shows the true stripes, as we do.
  'SC_rgb_jpeg_lossy_gdcm.dcm': 'dcmdjpeg+cg+dcm2pnm',
};
const isJ2k = (uid: string): boolean => /^1\.2\.840\.10008\.1\.2\.4\.9[01]$/u.test(uid);

describe('rendering every pydicom test file with pixel data (issue 8)', () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ferry-imaging-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('renders each within tolerance of dcmtk/GDCM, or is on the cannot-render list', async () => {
    if (skipFor(missing)) return;
    const dir = pydicomTestFiles();
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.dcm'))
      .sort();
    const failures: string[] = [];
    const rendered: string[] = [];
    const unrenderable: string[] = [];
    for (const name of files) {
      const file = path.join(dir, name);
      const bytes = readFileSync(file);
      const first = await renderFrame(bytes);
      if (first.kind === 'unrenderable') {
        // Not an image at all: no Pixel Data, or not DICOM (no_meta.dcm, a raw header-only set).
        if (first.code === 'no-pixel-data' || first.code === 'not-dicom') continue;
        if (first.code === 'truncated' && !hasPixelDataTag(bytes)) continue;
        const expected = cannotRender[name];
        if (!expected) failures.push(`${name}: cannot render (${first.code}: ${first.reason})`);
        else if (expected.code !== first.code)
          failures.push(`${name}: ${first.code}, listed as ${expected.code}`);
        unrenderable.push(name);
        continue;
      }
      if (cannotRender[name])
        failures.push(`${name}: renders now; take it off the cannot-render list`);
      rendered.push(name);
      const lossy = lossySyntaxes.has(first.transferSyntaxUid);
      const frames = first.numberOfFrames > 1 ? [0, first.numberOfFrames - 1] : [0];
      for (const frame of frames) {
        const ours = frame === 0 ? first : await renderFrame(bytes, { frame });
        if (ours.kind === 'unrenderable') {
          failures.push(`${name} frame ${frame + 1}: ${ours.reason}`);
          continue;
        }
        const tool = referenceTool[name] ?? referenceToolFor(ours.transferSyntaxUid);
        const referenceFile = path.join(dir, referenceTwin[name] ?? name);
        try {
          const voi = ours.voi.source === 'user-window' ? 'none' : ours.voi.source;
          const reference = dcmtkRender(referenceFile, frame, voi, tool, tmp);
          const diff = compareBitmaps(ours, reference);
          const [meanLimit, p99Limit] = lossy ? [2, 10] : [1, 2];
          const line = `${name} frame ${frame + 1} vs ${tool} (${ours.voi.source}): mean ${diff.mean.toFixed(3)}, p99 ${diff.p99}, max ${diff.max}`;
          console.log(line);
          if (diff.mean > meanLimit || diff.p99 > p99Limit) failures.push(line);
        } catch (error) {
          failures.push(
            `${name} frame ${frame + 1}: reference failed: ${(error as Error).message.split('\n')[0]}`,
          );
        }
      }
      if (isJ2k(first.transferSyntaxUid)) {
        const failure = await compareRawWithGdcm(file, bytes, lossy, tmp);
        if (failure) failures.push(`${name}: ${failure}`);
      }
    }
    console.log(
      `pydicom pixel data files: ${rendered.length} rendered, ${unrenderable.length} cannot render (${unrenderable.join(', ')})`,
    );
    expect(failures).toEqual([]);
    expect(unrenderable.sort()).toEqual(Object.keys(cannotRender).sort());
    expect(rendered.length).toBeGreaterThanOrEqual(45);
  }, 90_000);
});

/** A Pixel Data tag with an explicit VR (OB/OW) anywhere: for files cut short before we know. */
function hasPixelDataTag(bytes: Uint8Array): boolean {
  for (let i = 0; i + 6 <= bytes.length; i++) {
    if (
      bytes[i] !== 0xe0 ||
      bytes[i + 1] !== 0x7f ||
      bytes[i + 2] !== 0x10 ||
      bytes[i + 3] !== 0x00
    )
      continue;
    if (bytes[i + 4] === 0x4f && (bytes[i + 5] === 0x42 || bytes[i + 5] === 0x57)) return true;
  }
  return false;
}

async function compareRawWithGdcm(
  file: string,
  bytes: Uint8Array,
  lossy: boolean,
  tmp: string,
): Promise<string | undefined> {
  const ours = await decodeFrame(bytes, 0);
  const gdcm = await decodeFrame(readFileSync(gdcmRaw(file, tmp)), 0);
  if (ours.kind !== 'decoded' || gdcm.kind !== 'decoded') return 'raw decode failed';
  const diff = differences(ours.samples, gdcm.samples);
  let range = 1;
  for (const value of gdcm.samples) range = Math.max(range, Math.abs(value));
  const scale = 255 / range;
  console.log(
    `${path.basename(file)} raw vs gdcmconv --raw: mean ${diff.mean.toFixed(3)}, max ${diff.max}`,
  );
  if (!lossy && diff.max !== 0) return `raw values differ from GDCM (max ${diff.max})`;
  if (lossy && (diff.mean * scale > 2 || diff.p99 * scale > 10))
    return `raw values differ from GDCM (mean ${diff.mean})`;
  return undefined;
}
