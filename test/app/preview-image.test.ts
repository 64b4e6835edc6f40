/**
 * preview.image (the image view) and previews of instances inside a zip on the media: rendered
 * in the worker pool from the bytes that will be sent, on a generated CT disc, pydicom's
 * multi-frame RT Dose and files that cannot be shown.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ImageRenderView,
  PolicyView,
  PreviewView,
  ThumbnailView,
} from '../../main/core/api.ts';
import { SeriesMasks } from '../../main/core/deid/series-masks.ts';
import { closeRenderPool } from '../../main/core/imaging/render-pool.ts';
import { makeMedia } from '../support/make-media.ts';
import { openOfflineScan, pngPixels } from '../support/offline-app.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../support/tools.ts';

const token = 'I'.repeat(43);
const LINK = `https://portal.example/u/${token}`;
const BASIC: PolicyView = { kind: 'basic', options: [] };

let work: string;
/** A generated CT series, pydicom's RT Dose (15 frames), a 12-bit lossy JPEG, an ECG. */
let disc: string;
/** The same kind of CT series, but only inside STUDIES.ZIP. */
let zipDisc: string;

const skip = skipFor(missingPydicom());

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ferry-image-view-'));
  const media = await makeMedia({
    outDir: path.join(work, 'disc'),
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 3,
    rows: 48,
    columns: 40,
    modalities: ['CT'],
    withDicomdir: false,
    extras: false,
    seed: 21,
  });
  disc = media.root;
  if (!skip) {
    const pydicom = pydicomTestFiles();
    await mkdir(path.join(disc, 'OTHER'));
    for (const [from, to] of [
      ['rtdose.dcm', 'RTDOSE'],
      ['JPEG-lossy.dcm', 'LOSSY'],
      ['waveform_ecg.dcm', 'ECG'],
    ]) {
      await copyFile(path.join(pydicom, from!), path.join(disc, 'OTHER', to!));
    }
  }
  const zipped = await makeMedia({
    outDir: path.join(work, 'zipdisc'),
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 3,
    rows: 32,
    columns: 32,
    modalities: ['CT'],
    withDicomdir: false,
    extras: false,
    zip: true,
    seed: 22,
  });
  // Only the archive stays: every instance is a zip entry, read in place.
  await rm(path.join(zipped.root, 'DICOM'), { recursive: true });
  zipDisc = zipped.root;
});

afterAll(async () => {
  await closeRenderPool();
  await rm(work, { recursive: true, force: true });
});

async function setup(root: string, policy: PolicyView) {
  // One set of the user's masks for the service, the preview and the image view, as in the app.
  const opened = await openOfflineScan(root, { policy, masks: new SeriesMasks(), linkUrl: LINK });
  const image = (request: Record<string, unknown>) =>
    opened.call<ImageRenderView>('preview.image', { scanId: opened.scan.scanId, ...request });
  return { ...opened, image };
}

const mean = (pixels: Uint8Array): number => pixels.reduce((sum, v) => sum + v, 0) / pixels.length;

describe.skipIf(skip)('preview.image', () => {
  it('renders a generated CT slice large, with its default window, and a window changes the pixels', async () => {
    const { series, image } = await setup(disc, BASIC);
    const ct = series.find((s) => s.modality === 'CT')!;
    const first = await image({ path: ct.firstPath, frame: 0 });
    expect(first).toMatchObject({
      kind: 'rendered',
      path: ct.firstPath,
      frame: 0,
      frames: 1,
      columns: 40,
      rows: 48,
      width: 40,
      height: 48,
      masked: false,
    });
    if (first.kind !== 'rendered') return;
    expect(first.defaultWindow).not.toBeNull();
    expect(first.window).toEqual(first.defaultWindow);
    const before = pngPixels(first.dataUrl);
    expect(before).toMatchObject({ width: 40, height: 48 });

    // A window far above every value: all black; far below: all white.
    const dark = await image({
      path: ct.firstPath,
      frame: 0,
      window: { center: first.defaultWindow!.center + 1e6, width: 10 },
    });
    const light = await image({
      path: ct.firstPath,
      frame: 0,
      window: { center: first.defaultWindow!.center - 1e6, width: 10 },
    });
    if (dark.kind !== 'rendered' || light.kind !== 'rendered') throw new Error('not rendered');
    expect(mean(pngPixels(dark.dataUrl).pixels)).toBe(0);
    expect(mean(pngPixels(light.dataUrl).pixels)).toBe(255);
    expect(mean(before.pixels)).toBeGreaterThan(0);
    expect(mean(before.pixels)).toBeLessThan(255);
    // The window used is reported; the default stays the header's (or min-max) one.
    expect(dark.window).toEqual({ center: first.defaultWindow!.center + 1e6, width: 10 });
    expect(dark.defaultWindow).toEqual(first.defaultWindow);
  });

  it('pages through the frames of pydicom rtdose.dcm and downscales to maxSize', async () => {
    const { image } = await setup(disc, { kind: 'none' });
    const frames: string[] = [];
    for (const frame of [0, 7, 14]) {
      const view = await image({ path: 'OTHER/RTDOSE', frame, maxSize: 64 });
      expect(view).toMatchObject({ kind: 'rendered', frame, frames: 15, columns: 10, rows: 10 });
      if (view.kind === 'rendered') frames.push(view.dataUrl);
    }
    // The dose differs from slice to slice.
    expect(new Set(frames).size).toBe(3);
    const outside = await image({ path: 'OTHER/RTDOSE', frame: 15 });
    expect(outside).toMatchObject({ kind: 'unrenderable', path: 'OTHER/RTDOSE' });
    expect((outside as { reason: string }).reason).toMatch(/frame/u);

    // A CT of 48 x 40 asked at most 64 is not enlarged; a bigger image is downscaled.
    const generated = await makeMedia({
      outDir: path.join(work, 'big'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 1,
      rows: 300,
      columns: 200,
      modalities: ['CT'],
      withDicomdir: false,
      extras: false,
      seed: 23,
    });
    const big = await setup(generated.root, BASIC);
    const view = await big.image({ path: big.series[0]!.firstPath, frame: 0, maxSize: 150 });
    expect(view).toMatchObject({
      kind: 'rendered',
      columns: 200,
      rows: 300,
      width: 100,
      height: 150,
    });
  });

  it('shows the masked pixels and says so once the user masks the series, under either policy', async () => {
    for (const policy of [BASIC, { kind: 'none' } as const]) {
      const { call, scan, series, image } = await setup(disc, policy);
      const ct = series.find((s) => s.modality === 'CT')!;
      // The middle of the phantom: bright before masking.
      const rect = { x: 15, y: 19, width: 10, height: 10 };
      const region = (dataUrl: string): number => {
        const { width, pixels } = pngPixels(dataUrl);
        let sum = 0;
        for (let y = rect.y; y < rect.y + rect.height; y++) {
          for (let x = rect.x; x < rect.x + rect.width; x++) sum += pixels[y * width + x]!;
        }
        return sum / (rect.width * rect.height);
      };
      const before = await image({ path: ct.firstPath, frame: 0 });
      if (before.kind !== 'rendered') throw new Error('not rendered');
      expect(before.masked).toBe(false);
      expect(region(before.dataUrl)).toBeGreaterThan(50);

      await call('masks.set', {
        scanId: scan.scanId,
        seriesInstanceUid: ct.seriesInstanceUid,
        rectangles: [rect],
      });
      const after = await image({ path: ct.firstPath, frame: 0 });
      if (after.kind !== 'rendered') throw new Error('not rendered');
      expect(after.masked, policy.kind).toBe(true);
      expect(region(after.dataUrl), policy.kind).toBe(0);
      // Outside the rectangle nothing changed.
      const outside = pngPixels(before.dataUrl).pixels.filter((_, i) => {
        const x = i % 40;
        const y = Math.floor(i / 40);
        return x < rect.x || x >= rect.x + rect.width || y < rect.y || y >= rect.y + rect.height;
      });
      const outsideAfter = pngPixels(after.dataUrl).pixels.filter((_, i) => {
        const x = i % 40;
        const y = Math.floor(i / 40);
        return x < rect.x || x >= rect.x + rect.width || y < rect.y || y >= rect.y + rect.height;
      });
      expect(outsideAfter).toEqual(outside);
    }
  });

  it('says why a file cannot be shown, and refuses files the scan did not find', async () => {
    const { image, dispatch, scan } = await setup(disc, BASIC);
    const lossy = await image({ path: 'OTHER/LOSSY', frame: 0 });
    expect(lossy).toMatchObject({ kind: 'unrenderable', path: 'OTHER/LOSSY' });
    expect((lossy as { reason: string }).reason).toMatch(/JPEG|transfer syntax|decode/iu);
    const ecg = await image({ path: 'OTHER/ECG', frame: 0 });
    expect(ecg).toMatchObject({ kind: 'unrenderable', path: 'OTHER/ECG' });
    expect((ecg as { reason: string }).reason).toMatch(/pixel/iu);

    expect(
      await dispatch('preview.image', { scanId: scan.scanId, path: '../etc/passwd', frame: 0 }),
    ).toMatchObject({ ok: false, error: { code: 'not-found' } });
    expect(
      await dispatch('preview.image', { scanId: scan.scanId, path: 'OTHER/ECG', frame: -1 }),
    ).toMatchObject({ ok: false, error: { code: 'bad-request' } });
    expect(
      await dispatch('preview.image', {
        scanId: scan.scanId,
        path: 'OTHER/ECG',
        frame: 0,
        maxSize: 4096,
      }),
    ).toMatchObject({ ok: false, error: { code: 'bad-request' } });
  });
});

describe('instances inside a zip on the media', () => {
  it('thumbnail, before-and-after preview and image view work like loose files', async () => {
    const { call, scan, series, image } = await setup(zipDisc, BASIC);
    expect(scan.summary.instances).toBe(3);
    const ct = series[0]!;
    expect(ct.firstPath).toMatch(/^STUDIES\.ZIP!\//u);

    const thumbnail = await call<ThumbnailView>('preview.thumbnail', {
      scanId: scan.scanId,
      seriesInstanceUid: ct.seriesInstanceUid,
    });
    expect(thumbnail).toMatchObject({ kind: 'rendered' });
    expect(thumbnail.path).toMatch(/^STUDIES\.ZIP!\//u);

    const preview = await call<PreviewView>('preview.instance', {
      scanId: scan.scanId,
      path: ct.firstPath,
    });
    const name = preview.attributes.find((row) => row.tag === '(0010,0010)');
    expect(name?.action).not.toBe('kept');
    expect(name?.before).not.toBe(name?.after);

    const view = await image({ path: ct.firstPath, frame: 0 });
    expect(view).toMatchObject({
      kind: 'rendered',
      frames: 1,
      columns: 32,
      rows: 32,
      masked: false,
    });
    // As sent and as on the disc: de-identification leaves these pixels alone.
    const asIs = await (
      await setup(zipDisc, { kind: 'none' })
    ).image({ path: ct.firstPath, frame: 0 });
    if (view.kind !== 'rendered' || asIs.kind !== 'rendered') throw new Error('not rendered');
    expect(asIs.dataUrl).toBe(view.dataUrl);
  });
});
