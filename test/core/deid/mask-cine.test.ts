/**
 * A long compressed cine is masked frame by frame: a generated 200-frame RLE ultrasound of
 * 640 x 480 RGB (184 MB decoded) is prepared and sent (to a file) in a child process whose peak
 * RSS grows by a fraction of that; every frame of the output is the source with the rectangle
 * black; the prepared length is the sent length; dcmtk reads the output.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';

import { parseDicom } from '../../../main/core/dicom/parse.ts';
import { getInteger, getText } from '../../../main/core/dicom/values.ts';
import { DeidError } from '../../../main/core/deid/engine.ts';
import { collectBytes, deidentifyInstance } from '../../../main/core/deid/instance.ts';
import { readEncapsulated } from '../../../main/core/imaging/fragments.ts';
import { missingCommands, missingPydicom, skipFor } from '../../support/tools.ts';
import { dcmtkRender } from '../imaging/reference.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(path.join(tmpdir(), 'ferry-mask-cine-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FRAMES = 200;
const ROWS = 480;
const COLUMNS = 640;
const FRAME_BYTES = ROWS * COLUMNS * 3;
const DECODED = FRAMES * FRAME_BYTES;
const rect = { x: 10, y: 20, width: 200, height: 40 };

/** Where a native file's pixel value starts (the header parsed up to Pixel Data). */
async function pixelStart(file: string): Promise<{ start: number; length: number }> {
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(64 * 1024);
    await handle.read(head, 0, head.length, 0);
    const parsed = parseDicom(head, { untilPixelData: true, fileSize: (await handle.stat()).size });
    const element = parsed.pixelData!;
    return { start: element.valueOffset, length: element.length };
  } finally {
    await handle.close();
  }
}

describe('masking a long compressed cine', () => {
  it('decodes, masks and writes one frame at a time: bounded memory, exact pixels', async (context) => {
    if (skipFor(missingPydicom() ?? missingCommands({ dcmcrle: 'dcmtk', dcm2pnm: 'dcmtk' }))) {
      return context.skip();
    }
    const native = path.join(work, 'cine-native.dcm');
    const rle = path.join(work, 'cine-rle.dcm');
    const out = path.join(work, 'cine-masked.dcm');
    execFileSync('/usr/bin/python3', [
      path.join(here, 'make-cine.py'),
      native,
      String(FRAMES),
      String(ROWS),
      String(COLUMNS),
    ]);
    execFileSync('dcmcrle', [native, rle]);

    const report = JSON.parse(
      execFileSync(
        process.execPath,
        [
          '--import',
          'tsx',
          path.join(here, 'mask-cine-child.ts'),
          rle,
          out,
          `${rect.x},${rect.y},${rect.width},${rect.height}`,
        ],
        { encoding: 'utf8', maxBuffer: 1024 * 1024 },
      ),
    ) as {
      peakGrowth: number;
      preparedLength: number;
      sentLength: number;
      fileLength: number;
    };
    console.log(
      `cine ${FRAMES} frames, ${(DECODED / 1e6).toFixed(0)} MB decoded: peak RSS grew ${(report.peakGrowth / 1e6).toFixed(1)} MB`,
    );
    // Decoded whole (twice, as before) it would grow by the decoded size or more.
    expect(report.peakGrowth).toBeLessThan(DECODED / 3);
    expect(report.preparedLength).toBe(report.sentLength);
    expect(report.fileLength).toBe(report.sentLength);

    const outHead = await pixelStart(out);
    const sourceHead = await pixelStart(native);
    expect(outHead.length).toBe(DECODED);
    const outFile = await open(out, 'r');
    const sourceFile = await open(native, 'r');
    try {
      const header = parseDicom(
        (await outFile.read(new Uint8Array(outHead.start), 0, outHead.start, 0)).buffer,
        { untilPixelData: true, fileSize: report.fileLength },
      );
      expect(header.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
      expect(getInteger(header.dataset, 0x00280008)).toBe(FRAMES);
      expect(getText(header.dataset, 0x00280004)).toBe('RGB');
      const masked = new Uint8Array(FRAME_BYTES);
      const original = new Uint8Array(FRAME_BYTES);
      for (let frame = 0; frame < FRAMES; frame++) {
        await outFile.read(masked, 0, FRAME_BYTES, outHead.start + frame * FRAME_BYTES);
        await sourceFile.read(original, 0, FRAME_BYTES, sourceHead.start + frame * FRAME_BYTES);
        let notBlack = 0;
        let changedOutside = 0;
        for (let row = 0; row < ROWS; row++) {
          const inRows = row >= rect.y && row < rect.y + rect.height;
          for (let column = 0; column < COLUMNS; column++) {
            const inside = inRows && column >= rect.x && column < rect.x + rect.width;
            const i = (row * COLUMNS + column) * 3;
            for (let c = i; c < i + 3; c++) {
              if (inside) {
                if (masked[c] !== 0) notBlack++;
              } else if (masked[c] !== original[c]) {
                changedOutside++;
              }
            }
          }
        }
        expect({ frame, notBlack, changedOutside }).toEqual({
          frame,
          notBlack: 0,
          changedOutside: 0,
        });
      }
    } finally {
      await outFile.close();
      await sourceFile.close();
    }

    // dcmtk reads the output: a frame from the middle, black in the rectangle, the rest as sent.
    const frame = 137;
    const rendered = dcmtkRender(out, frame, 'none', 'dcm2pnm', work);
    expect([rendered.width, rendered.height, rendered.channels]).toEqual([COLUMNS, ROWS, 3]);
    const reference = dcmtkRender(rle, frame, 'none', 'dcm2pnm', work);
    let differ = 0;
    for (let row = 0; row < ROWS; row++) {
      for (let column = 0; column < COLUMNS; column++) {
        const inside =
          row >= rect.y &&
          row < rect.y + rect.height &&
          column >= rect.x &&
          column < rect.x + rect.width;
        for (let c = 0; c < 3; c++) {
          const i = (row * COLUMNS + column) * 3 + c;
          if (rendered.pixels[i] !== (inside ? 0 : reference.pixels[i])) differ++;
        }
      }
    }
    expect(differ).toBe(0);
  }, 120_000);

  it('refuses a frame that does not decode: the stream fails, nothing unmasked is sent', async (context) => {
    if (skipFor(missingPydicom() ?? missingCommands({ dcmcrle: 'dcmtk', dcmodify: 'dcmtk' }))) {
      return context.skip();
    }
    const native = path.join(work, 'short-native.dcm');
    const rle = path.join(work, 'short-rle.dcm');
    execFileSync('/usr/bin/python3', [path.join(here, 'make-cine.py'), native, '12', '48', '64']);
    execFileSync('dcmcrle', [native, rle]);
    // Frame 8's RLE header says 200 segments (at most 15 exist, PS3.5 G.3.1).
    const bytes = new Uint8Array(readFileSync(rle));
    const parsed = parseDicom(bytes);
    const fragment = readEncapsulated(parsed.dataset, parsed.pixelData!).fragments[7]!;
    bytes[fragment.bytes.byteOffset - bytes.byteOffset] = 200;
    const damaged = path.join(work, 'short-damaged.dcm');
    writeFileSync(damaged, bytes);
    const request = { masks: [{ x: 4, y: 6, width: 20, height: 10 }] };

    // Preparing finds every frame's fragments and decodes the first: the length is known.
    const instance = await deidentifyInstance({ kind: 'file', path: damaged }, undefined, request);
    expect(instance.byteLength).toBeGreaterThan(12 * 48 * 64 * 3);
    const failure = await collectBytes(instance).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(DeidError);
    expect((failure as DeidError).code).toBe('mask-compressed');
    expect((failure as DeidError).message).toMatch(/frame 8 of 12/u);

    // A frame with no fragments at all is refused while preparing.
    const missing = path.join(work, 'short-missing.dcm');
    writeFileSync(missing, readFileSync(rle));
    execFileSync('dcmodify', ['-nb', '-m', '(0028,0008)=13', missing]);
    const refused = await deidentifyInstance({ kind: 'file', path: missing }, undefined, request)
      .then(() => undefined)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DeidError);
    expect((refused as DeidError).code).toBe('mask-compressed');
  });
});
