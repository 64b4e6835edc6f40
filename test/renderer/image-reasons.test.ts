/**
 * Why the image view cannot show an image, in the chosen language: the core's image renderer
 * (main/core/app-service/image.ts, the real decoder) says why with a code, the renderer words it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ImageRenderView } from '../../main/core/api.ts';
import { createImageRenderer } from '../../main/core/app-service/image.ts';
import { renderFrame } from '../../main/core/imaging/render.ts';
import { imagingEs } from '../../renderer/i18n/imaging.es.ts';
import { setLocale, unrenderableReason } from '../../renderer/i18n/index.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'ferry-image-reasons-'));
  await writeFile(path.join(root, 'README.TXT'), 'Insert the disc and open the viewer.\n');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

afterEach(() => setLocale('en'));

const images = createImageRenderer({
  render: async (source, options) =>
    'bytes' in source
      ? renderFrame(source.bytes, options)
      : Promise.reject(new Error('paths are not used')),
  deid: () => undefined,
});

async function unrenderable(relPath: string) {
  const view: ImageRenderView = await images.render({
    scanId: 'scan_1',
    root,
    path: relPath,
    policy: { kind: 'none' },
    frame: 0,
  });
  if (view.kind !== 'unrenderable') throw new Error(`${relPath} was rendered`);
  return view;
}

describe('an image the view cannot show', () => {
  it('says why in Spanish from the decoder’s code, in English in its own words', async () => {
    const view = await unrenderable('README.TXT');
    expect(view.why).toEqual({ kind: 'imaging', code: 'not-dicom' });
    expect(unrenderableReason(view)).toBe(view.reason);
    setLocale('es');
    expect(unrenderableReason(view)).toBe(imagingEs['not-dicom']);
  });

  it('says why a file cannot be read, with the system’s code', async () => {
    const view = await unrenderable('GONE.DCM');
    expect(view.why).toMatchObject({ kind: 'error', error: { messageId: 'file-unreadable' } });
    setLocale('es');
    expect(unrenderableReason(view)).toBe('Este archivo no se puede leer (ENOENT).');
  });

  it('every phrase is non-empty', () => {
    for (const [code, phrase] of Object.entries(imagingEs))
      expect(phrase.trim(), code).not.toBe('');
  });
});
