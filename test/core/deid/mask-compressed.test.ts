/**
 * Masking compressed pixel data: pydicom's RLE, JPEG baseline, JPEG lossless, JPEG-LS and
 * JPEG 2000 files are decoded, masked and written as native Explicit VR Little Endian. dcmtk
 * (dcm2pnm) reads the output; inside the rectangle the pixels are black, outside they equal the
 * source (lossless: as dcmtk decodes the source too; lossy: as decoded, no further loss).
 * A frame that cannot be decoded refuses the instance.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseDicom } from '../../../main/core/dicom/parse.ts';
import { getInteger, getText } from '../../../main/core/dicom/values.ts';
import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import type { MaskRect } from '../../../main/core/deid/mask.ts';
import { decodeFrame } from '../../../main/core/imaging/decode.ts';
import { missingCommands, missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { dcmtkRender, referenceToolFor } from '../imaging/reference.ts';

const key = new Uint8Array(32).fill(5);
const policy: DeidentifyPolicy = { kind: 'deidentify', profile: 'basic', options: [], key };
const work = mkdtempSync(path.join(tmpdir(), 'ferry-mask-compressed-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const rect: MaskRect = { x: 5, y: 7, width: 20, height: 9 };
const inside = (row: number, column: number): boolean =>
  row >= rect.y && row < rect.y + rect.height && column >= rect.x && column < rect.x + rect.width;

interface Case {
  readonly name: string;
  readonly lossy: boolean;
  /** dcmtk decodes the source too (Debian's dcmtk has no JPEG 2000). */
  readonly dcmtkSource: boolean;
  readonly photometric: string;
}

const cases: readonly Case[] = [
  { name: 'SC_rgb_rle.dcm', lossy: false, dcmtkSource: true, photometric: 'RGB' },
  { name: 'SC_rgb_rle_2frame.dcm', lossy: false, dcmtkSource: true, photometric: 'RGB' },
  { name: 'SC_rgb_rle_16bit_2frame.dcm', lossy: false, dcmtkSource: true, photometric: 'RGB' },
  { name: 'MR_small_RLE.dcm', lossy: false, dcmtkSource: true, photometric: 'MONOCHROME2' },
  { name: 'SC_rgb_jpeg_dcmtk.dcm', lossy: true, dcmtkSource: false, photometric: 'RGB' },
  { name: 'SC_rgb_jpeg_lossy_gdcm.dcm', lossy: true, dcmtkSource: false, photometric: 'RGB' },
  { name: 'SC_rgb_jpeg_gdcm.dcm', lossy: false, dcmtkSource: true, photometric: 'RGB' },
  {
    name: 'MR_small_jpeg_ls_lossless.dcm',
    lossy: false,
    dcmtkSource: true,
    photometric: 'MONOCHROME2',
  },
  {
    name: 'MR_small_jp2klossless.dcm',
    lossy: false,
    dcmtkSource: false,
    photometric: 'MONOCHROME2',
  },
  { name: 'GDCMJ2K_TextGBR.dcm', lossy: false, dcmtkSource: false, photometric: 'RGB' },
  { name: 'JPEG2000.dcm', lossy: true, dcmtkSource: false, photometric: 'MONOCHROME2' },
];

describe('masking compressed pixel data', () => {
  for (const item of cases) {
    it(`${item.name}: native output, rectangle black, the rest unchanged`, async (context) => {
      if (skipFor(missingPydicom() ?? missingCommands({ dcm2pnm: 'dcmtk' }))) {
        return context.skip();
      }
      const file = path.join(pydicomTestFiles(), item.name);
      const preview = await previewInstance({ kind: 'file', path: file }, policy, {
        masks: [rect],
      });
      expect(preview.masked).toBe(true);
      expect(preview.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
      const parsed = parseDicom(preview.bytes);
      expect(parsed.transferSyntaxUid).toBe('1.2.840.10008.1.2.1');
      expect(parsed.pixelData?.undefinedLength).toBe(false);
      const ds = parsed.dataset;
      expect(getText(ds, 0x00280004)).toBe(item.photometric);
      if (getInteger(ds, 0x00280002) === 3) expect(getInteger(ds, 0x00280006)).toBe(0);
      expect(getText(ds, 0x00282110) === '01').toBe(item.lossy);
      expect(getText(ds, 0x00280301)).toBe('NO');
      expect(ds.elements.has(0x7fe00001)).toBe(false);

      const source = new Uint8Array(readFileSync(file));
      const frames = getInteger(ds, 0x00280008) ?? 1;
      const out = path.join(work, item.name);
      writeFileSync(out, preview.bytes);
      for (let frame = 0; frame < frames; frame++) {
        // Our own decoder: the output holds exactly the decoded source, black in the rectangle.
        const before = await decodeFrame(source, frame);
        const after = await decodeFrame(preview.bytes, frame);
        if (before.kind !== 'decoded' || after.kind !== 'decoded') throw new Error('undecodable');
        const channels = after.channels;
        let changedOutside = 0;
        let notBlack = 0;
        for (let row = 0; row < after.rows; row++) {
          for (let column = 0; column < after.columns; column++) {
            for (let c = 0; c < channels; c++) {
              const i = (row * after.columns + column) * channels + c;
              if (inside(row, column)) {
                if (after.samples[i] !== 0) notBlack++;
              } else if (after.samples[i] !== before.samples[i]) {
                changedOutside++;
              }
            }
          }
        }
        expect(notBlack).toBe(0);
        expect(changedOutside).toBe(0);

        // dcmtk reads the output; with the same display settings as the source.
        const voi = channels === 1 && ds.elements.has(0x00281050) ? 'header-window' : 'none';
        const rendered = dcmtkRender(out, frame, voi, 'dcm2pnm', work);
        expect([rendered.width, rendered.height]).toEqual([after.columns, after.rows]);
        const insideValues = new Set<number>();
        for (let row = rect.y; row < rect.y + rect.height; row++) {
          for (let column = rect.x; column < rect.x + rect.width; column++) {
            for (let c = 0; c < rendered.channels; c++) {
              insideValues.add(
                rendered.pixels[(row * after.columns + column) * rendered.channels + c]!,
              );
            }
          }
        }
        if (channels === 3 && after.geometry.bitsAllocated === 8) {
          expect([...insideValues]).toEqual([0]);
        } else {
          expect(insideValues.size).toBe(1);
        }
        if (item.dcmtkSource) {
          const reference = dcmtkRender(
            file,
            frame,
            voi,
            referenceToolFor(getText(parseDicom(source).meta!, 0x00020010) ?? ''),
            work,
          );
          let differ = 0;
          for (let row = 0; row < after.rows; row++) {
            for (let column = 0; column < after.columns; column++) {
              if (inside(row, column)) continue;
              for (let c = 0; c < rendered.channels; c++) {
                const i = (row * after.columns + column) * rendered.channels + c;
                if (rendered.pixels[i] !== reference.pixels[i]) differ++;
              }
            }
          }
          expect(differ).toBe(0);
        }
      }
    });
  }

  it('refuses a compressed image it cannot decode (12-bit lossy JPEG): never sent unmasked', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const file = path.join(pydicomTestFiles(), 'JPGExtended.dcm');
    await expect(
      previewInstance({ kind: 'file', path: file }, policy, { masks: [rect] }),
    ).rejects.toMatchObject({
      code: 'mask-compressed',
      message: expect.stringMatching(/cannot be decoded.*will not be sent unmasked/u),
    });
    // Unmasked, the same file still goes as it is (compressed, untouched).
    const plain = await previewInstance({ kind: 'file', path: file }, policy);
    expect(plain.transferSyntaxUid).toBe('1.2.840.10008.1.2.4.51');
  });

  it('masks under a link that sends identity, keeping every other attribute', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const file = path.join(pydicomTestFiles(), 'SC_rgb_rle.dcm');
    const source = parseDicom(new Uint8Array(readFileSync(file))).dataset;
    const preview = await previewInstance({ kind: 'file', path: file }, undefined, {
      masks: [rect],
    });
    const ds = parseDicom(preview.bytes).dataset;
    expect(preview.masked).toBe(true);
    for (const tag of [0x00100010, 0x00100020, 0x00080018, 0x0020000d]) {
      expect(getText(ds, tag)).toBe(getText(source, tag));
    }
  });

  it('leaves an instance of another size unmasked', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const file = path.join(pydicomTestFiles(), 'SC_rgb_rle.dcm');
    const preview = await previewInstance({ kind: 'file', path: file }, policy, {
      masks: [rect],
      maskSize: { rows: 512, columns: 512 },
    });
    expect(preview.masked).toBe(false);
    expect(preview.transferSyntaxUid).toBe('1.2.840.10008.1.2.5');
  });
});
