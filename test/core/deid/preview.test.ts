/**
 * The preview and the bytes sent come from one code path: the previewed bytes equal the bytes
 * the streaming path writes, for a native image (pixel data streamed from the file), a file
 * with elements after Pixel Data, a big-endian source (pixel data swapped while streaming) and
 * a compressed one (fragments streamed).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseDicom } from '../../../main/core/dicom/parse.ts';
import { getText } from '../../../main/core/dicom/values.ts';
import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import {
  deidentifyInstance,
  previewInstance,
  writeInstanceFile,
  type InstanceInput,
} from '../../../main/core/deid/instance.ts';
import { UidRemapper } from '../../../main/core/deid/uid.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { image, part10, plantedFile, text } from './planted.ts';

const key = new Uint8Array(32).fill(3);
const policy: DeidentifyPolicy = { kind: 'deidentify', profile: 'basic', options: [], key };
const work = mkdtempSync(path.join(tmpdir(), 'ferry-preview-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function previewEqualsWritten(file: string): Promise<Uint8Array> {
  const input: InstanceInput = { kind: 'file', path: file };
  const preview = await previewInstance(input, policy);
  const out = path.join(work, `${path.basename(file)}.out`);
  await writeInstanceFile(await deidentifyInstance(input, policy), out);
  const written = new Uint8Array(readFileSync(out));
  expect(written.length).toBe(preview.bytes.length);
  expect(Buffer.compare(Buffer.from(written), Buffer.from(preview.bytes))).toBe(0);
  return written;
}

describe('preview = bytes sent', () => {
  it('native image: previewed bytes equal the streamed file', async () => {
    const file = path.join(work, 'native.dcm');
    writeFileSync(file, part10(image(64, 64, 3)));
    const written = await previewEqualsWritten(file);
    const parsed = parseDicom(written);
    expect(parsed.pixelData?.length).toBe(64 * 64 * 3 * 2);
  });

  it('a file with elements after Pixel Data (the planted file)', async () => {
    const file = path.join(work, 'planted.dcm');
    writeFileSync(file, plantedFile().bytes);
    await previewEqualsWritten(file);
  });

  for (const name of [
    'MR_small_bigendian.dcm',
    'JPEG2000.dcm',
    'MR_small_implicit.dcm',
    'image_dfl.dcm',
  ]) {
    it(`pydicom ${name}`, async (context) => {
      if (skipFor(missingPydicom())) return context.skip();
      await previewEqualsWritten(path.join(pydicomTestFiles(), name));
    });
  }

  it('big endian source: pixel values survive the swap', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const dir = pydicomTestFiles();
    const little = await previewInstance(
      { kind: 'file', path: path.join(dir, 'MR_small.dcm') },
      policy,
    );
    const big = await previewInstance(
      { kind: 'file', path: path.join(dir, 'MR_small_bigendian.dcm') },
      policy,
    );
    const pixels = (bytes: Uint8Array): Buffer => {
      const element = parseDicom(bytes).pixelData!;
      return Buffer.from(bytes.subarray(element.valueOffset, element.valueOffset + element.length));
    };
    expect(pixels(big.bytes).equals(pixels(little.bytes))).toBe(true);
  });
});

describe('preview content', () => {
  it('lists every change with tag, name, before, after and action', async () => {
    const bytes = part10(image(4, 4, 1, [text(0x00081030, 'LO', 'HEAD CT')]));
    const preview = await previewInstance({ kind: 'bytes', bytes }, policy);
    const byTag = new Map(preview.changes.map((change) => [change.path, change]));
    expect(byTag.get('(0010,0010)')).toMatchObject({
      name: 'Patient Name',
      before: 'DOE^JANE',
      after: '',
      action: 'emptied',
      rule: 'Z',
    });
    expect(byTag.get('(0008,1030)')).toMatchObject({ action: 'removed', before: 'HEAD CT' });
    expect(byTag.get('(0008,0018)')?.after).toBe(
      new UidRemapper(key).remap('1.2.826.0.1.3680043.10.999.1'),
    );
    expect(byTag.get('(0012,0062)')).toMatchObject({ action: 'added', after: 'YES' });
    expect(preview.burnedIn.map((flag) => flag.reason)).toEqual([
      'secondary-capture',
      'other-modality',
    ]);
  });

  it('remaps references consistently: an SR or PR still points at its image', async () => {
    const target = '1.2.826.0.1.3680043.10.999.1';
    const reference = part10([
      text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.11.1'),
      text(0x00080018, 'UI', '1.2.826.0.1.3680043.10.999.77'),
      {
        kind: 'sequence',
        tag: 0x00081115,
        items: [
          {
            elements: [
              text(0x0020000e, 'UI', '1.2.826.0.1.3680043.10.999.3'),
              {
                kind: 'sequence',
                tag: 0x00081140,
                items: [
                  {
                    elements: [
                      text(0x00081150, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
                      text(0x00081155, 'UI', target),
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    ]);
    const pr = parseDicom(
      (await previewInstance({ kind: 'bytes', bytes: reference }, policy)).bytes,
    );
    const img = parseDicom(
      (await previewInstance({ kind: 'bytes', bytes: part10(image(2, 2)) }, policy)).bytes,
    );
    const series = pr.dataset.elements.get(0x00081115)!.items![0]!;
    const referenced = series.elements.get(0x00081140)!.items![0]!;
    expect(getText(referenced, 0x00081155)).toBe(getText(img.dataset, 0x00080018));
    expect(getText(series, 0x0020000e)).toBe(getText(img.dataset, 0x0020000e));
    expect(getText(referenced, 0x00081150)).toBe('1.2.840.10008.5.1.4.1.1.7');
  });

  it('same key, same UIDs across runs; another key, other UIDs', async () => {
    const bytes = part10(image(2, 2));
    const uid = async (k: Uint8Array): Promise<string | undefined> =>
      getText(
        parseDicom((await previewInstance({ kind: 'bytes', bytes }, { ...policy, key: k })).bytes)
          .dataset,
        0x0020000d,
      );
    expect(await uid(key)).toBe(await uid(Uint8Array.from(key)));
    expect(await uid(new Uint8Array(32).fill(4))).not.toBe(await uid(key));
  });
});
