import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inflateSync } from 'node:zlib';

import { afterAll, describe, expect, it } from 'vitest';

import { main } from '../../../main/cli.ts';
import { frameBytes, type EncapsulatedPixelData } from '../../../main/core/imaging/fragments.ts';
import { applyVoi, expandSegmented } from '../../../main/core/imaging/luts.ts';
import { encodePng } from '../../../main/core/imaging/png.ts';
import { closeRenderPool, renderInWorker } from '../../../main/core/imaging/render-pool.ts';
import { renderFrame, renderThumbnail } from '../../../main/core/imaging/render.ts';
import { decodeRleFrame } from '../../../main/core/imaging/rle.ts';
import type { DicomDataset } from '../../../main/core/dicom/parse.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ferry-imaging-unit-'));
afterAll(async () => {
  await closeRenderPool();
  rmSync(tmp, { recursive: true, force: true });
});

describe('RLE (PS3.5 Annex G)', () => {
  it('decodes literal and replicate runs, most significant byte plane first', () => {
    // 2x2 pixels, 16-bit, 1 sample: segment 0 = high bytes, segment 1 = low bytes.
    const header = new Uint8Array(64);
    const view = new DataView(header.buffer);
    view.setUint32(0, 2, true);
    view.setUint32(4, 64, true);
    view.setUint32(8, 67, true);
    const high = [0xfd, 0x01]; // replicate 0x01 four times (257 - 0xfd = 4)
    const low = [0x03, 0x10, 0x20, 0x30, 0x40]; // 4 literal bytes
    const frame = Uint8Array.from([...header.subarray(0, 64), ...high, 0x80, ...low]);
    view.setUint32(8, 64 + high.length + 1, true);
    frame.set(header.subarray(0, 12), 0);
    const out = decodeRleFrame(frame, 2, 2, 1, 16);
    const values = new Uint16Array(out.buffer, out.byteOffset, 4);
    expect([...values]).toEqual([0x0110, 0x0120, 0x0130, 0x0140]);
  });
});

describe('encapsulated frames (PS3.5 A.4)', () => {
  const dataset = {
    elements: new Map(),
    bytes: new Uint8Array(0),
    littleEndian: true,
    offset: 0,
    characterSet: [],
  } as unknown as DicomDataset;
  const soi = (n: number): Uint8Array => Uint8Array.of(0xff, 0xd8, n);
  const tail = (n: number): Uint8Array => Uint8Array.of(n, n);
  it('uses the Basic Offset Table to join fragments of one frame', () => {
    const encapsulated: EncapsulatedPixelData = {
      basicOffsetTable: [0, 22],
      fragments: [
        { itemOffset: 0, bytes: soi(1) },
        { itemOffset: 11, bytes: tail(1) },
        { itemOffset: 22, bytes: soi(2) },
      ],
    };
    expect([...(frameBytes(dataset, encapsulated, 0, 2, true) as Uint8Array)]).toEqual([
      0xff, 0xd8, 1, 1, 1,
    ]);
    expect([...(frameBytes(dataset, encapsulated, 1, 2, true) as Uint8Array)]).toEqual([
      0xff, 0xd8, 2,
    ]);
  });
  it('without an offset table, splits frames at start-of-image markers', () => {
    const encapsulated: EncapsulatedPixelData = {
      basicOffsetTable: [],
      fragments: [
        { itemOffset: 0, bytes: soi(1) },
        { itemOffset: 11, bytes: tail(1) },
        { itemOffset: 22, bytes: soi(2) },
      ],
    };
    expect((frameBytes(dataset, encapsulated, 1, 2, true) as Uint8Array)[2]).toBe(2);
    expect(typeof frameBytes(dataset, encapsulated, 1, 2, false)).toBe('string');
  });
});

describe('VOI functions (PS3.3 C.11.2.1.2)', () => {
  it('LINEAR, LINEAR_EXACT and SIGMOID map the window to 0..1', () => {
    const linear = { kind: 'window', center: 100, width: 50, function: 'LINEAR' } as const;
    expect(applyVoi(linear, 0)).toBe(0);
    expect(applyVoi(linear, 200)).toBe(1);
    expect(applyVoi(linear, 100)).toBeCloseTo(0.5 + 0.5 / 49, 6);
    expect(applyVoi({ ...linear, function: 'LINEAR_EXACT' }, 100)).toBe(0.5);
    expect(applyVoi({ ...linear, function: 'SIGMOID' }, 100)).toBe(0.5);
  });
  it('expands segmented palette data (C.7.9.2)', () => {
    // discrete 2 entries, then linear to 40 over 2 entries
    expect([...expandSegmented(Uint16Array.of(0, 2, 0, 20, 1, 2, 40), 4)]).toEqual([0, 20, 30, 40]);
  });
});

describe('PNG', () => {
  it('writes a valid greyscale PNG whose rows inflate back to the pixels', () => {
    const pixels = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const png = encodePng({ width: 4, height: 3, channels: 1, pixels });
    expect([...png.subarray(1, 4)].map((c) => String.fromCharCode(c)).join('')).toBe('PNG');
    const idatAt = Buffer.from(png).indexOf('IDAT');
    const length = new DataView(png.buffer).getUint32(idatAt - 4);
    const raw = inflateSync(png.subarray(idatAt + 4, idatAt + 4 + length));
    expect(raw.length).toBe(3 * 5);
    expect([...raw.subarray(1, 5)]).toEqual([0, 20, 40, 60]); // first row unfiltered
  });
});

describe('rendering pydicom files', () => {
  it('renders in a worker the same as on the main thread; thumbnails fit 128 px', async () => {
    if (skipFor(missingPydicom())) return;
    const file = path.join(pydicomTestFiles(), 'MR_small_RLE.dcm');
    const direct = await renderFrame(readFileSync(file));
    const worker = await renderInWorker({ path: file });
    expect(worker.kind).toBe('rendered');
    expect(direct.kind).toBe('rendered');
    if (worker.kind === 'rendered' && direct.kind === 'rendered') {
      expect(Buffer.from(worker.pixels).equals(Buffer.from(direct.pixels))).toBe(true);
    }
    const thumbnail = await renderThumbnail(
      readFileSync(path.join(pydicomTestFiles(), 'JPEG2000.dcm')),
    );
    expect(thumbnail.kind === 'rendered' && [thumbnail.width, thumbnail.height]).toEqual([32, 128]);
  });

  it('a file that cannot render is a typed result, in a worker too', async () => {
    const missing = await renderInWorker({ path: path.join(tmp, 'nope.dcm') });
    expect(missing).toMatchObject({ kind: 'unrenderable', code: 'malformed' });
    const garbage = await renderFrame(Uint8Array.of(1, 2, 3));
    expect(garbage).toMatchObject({ kind: 'unrenderable', code: 'not-dicom' });
  });

  it('ferry preview writes a PNG and reports the window as JSON', async () => {
    if (skipFor(missingPydicom())) return;
    const out = path.join(tmp, 'rtdose.png');
    let stdout = '';
    const io = { stdout: (text: string) => void (stdout += text), stderr: () => {}, isTty: false };
    const file = path.join(pydicomTestFiles(), 'rtdose.dcm');
    expect(await main(['preview', file, '--png', out, '--frame', '15', '--json'], io)).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      frame: 15,
      numberOfFrames: 15,
      width: 10,
      voi: { source: 'min-max' },
    });
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
    const lossy = path.join(pydicomTestFiles(), 'JPGExtended.dcm');
    expect(await main(['preview', lossy, '--png', out], io)).toBe(1);
    expect(await main(['preview', file, '--png', out, '--window', 'x'], io)).toBe(2);
  });
});
