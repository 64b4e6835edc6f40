/**
 * MONOCHROME1 shows the minimum white: a masked rectangle holds the maximum stored value for
 * Bits Stored and Pixel Representation, so it shows black as it does for MONOCHROME2 — in our
 * renderer (the preview) and in dcmtk's. Native pixel data (masked while it streams) and RLE
 * (decoded, masked, sent native), from pydicom's MR_small made MONOCHROME1 with dcmodify.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseDicom } from '../../../main/core/dicom/parse.ts';
import { getText } from '../../../main/core/dicom/values.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import { blackStoredValue, type MaskRect } from '../../../main/core/deid/mask.ts';
import { decodeFrame } from '../../../main/core/imaging/decode.ts';
import { renderFrame } from '../../../main/core/imaging/render.ts';
import { missingCommands, missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { dcmtkRender } from '../imaging/reference.ts';

const work = mkdtempSync(path.join(tmpdir(), 'ferry-mask-mono1-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rect: MaskRect = { x: 12, y: 30, width: 25, height: 10 };
const inside = (row: number, column: number): boolean =>
  row >= rect.y && row < rect.y + rect.height && column >= rect.x && column < rect.x + rect.width;

describe('the value that shows black', () => {
  it('is the maximum stored value for the bits stored and the sign', () => {
    expect(blackStoredValue(8, 0)).toBe(255);
    expect(blackStoredValue(12, 0)).toBe(4095);
    expect(blackStoredValue(16, 0)).toBe(65535);
    expect(blackStoredValue(12, 1)).toBe(2047);
    expect(blackStoredValue(16, 1)).toBe(32767);
  });
});

describe('masking MONOCHROME1', () => {
  for (const name of ['MR_small.dcm', 'MR_small_RLE.dcm']) {
    it(`${name} as MONOCHROME1: the rectangle shows black`, async (context) => {
      if (skipFor(missingPydicom() ?? missingCommands({ dcmodify: 'dcmtk', dcm2pnm: 'dcmtk' }))) {
        return context.skip();
      }
      const file = path.join(work, `mono1-${name}`);
      copyFileSync(path.join(pydicomTestFiles(), name), file);
      execFileSync('dcmodify', ['-nb', '-m', '(0028,0004)=MONOCHROME1', file]);
      const source = new Uint8Array(readFileSync(file));
      const preview = await previewInstance({ kind: 'file', path: file }, undefined, {
        masks: [rect],
      });
      expect(preview.masked).toBe(true);
      expect(getText(parseDicom(preview.bytes).dataset, 0x00280004)).toBe('MONOCHROME1');

      // Stored values: MR_small is signed 16-bit, all 16 bits stored: 32767 inside.
      const before = await decodeFrame(source);
      const after = await decodeFrame(preview.bytes);
      if (before.kind !== 'decoded' || after.kind !== 'decoded') throw new Error('undecodable');
      const insideValues = new Set<number>();
      let changedOutside = 0;
      for (let row = 0; row < after.rows; row++) {
        for (let column = 0; column < after.columns; column++) {
          const i = row * after.columns + column;
          if (inside(row, column)) insideValues.add(after.samples[i]!);
          else if (after.samples[i] !== before.samples[i]) changedOutside++;
        }
      }
      expect([...insideValues]).toEqual([32767]);
      expect(changedOutside).toBe(0);

      // The preview's renderer: black inside; the source there was not black.
      const shown = await renderFrame(preview.bytes);
      const unmasked = await renderFrame(source);
      if (shown.kind !== 'rendered' || unmasked.kind !== 'rendered') throw new Error('unrendered');
      const shownInside = new Set<number>();
      let sourceBlack = 0;
      for (let row = rect.y; row < rect.y + rect.height; row++) {
        for (let column = rect.x; column < rect.x + rect.width; column++) {
          shownInside.add(shown.pixels[row * shown.width + column]!);
          if (unmasked.pixels[row * unmasked.width + column] === 0) sourceBlack++;
        }
      }
      expect([...shownInside]).toEqual([0]);
      expect(sourceBlack).toBeLessThan(rect.width * rect.height);

      // dcmtk, with the header's window, shows it black too.
      const out = path.join(work, `masked-${name}`);
      writeFileSync(out, preview.bytes);
      const rendered = dcmtkRender(out, 0, 'header-window', 'dcm2pnm', work);
      const dcmtkInside = new Set<number>();
      for (let row = rect.y; row < rect.y + rect.height; row++) {
        for (let column = rect.x; column < rect.x + rect.width; column++) {
          dcmtkInside.add(rendered.pixels[(row * rendered.width + column) * rendered.channels]!);
        }
      }
      expect([...dcmtkInside]).toEqual([0]);
    });
  }
});
