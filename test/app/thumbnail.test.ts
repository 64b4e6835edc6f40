/** preview.thumbnail: the series' middle image rendered in a worker, on a generated disc. */
import { mkdtemp, rm, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ScanView, ThumbnailView } from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { memorySecretStore } from '../../main/core/app-service/engines.ts';
import { memoryHistory } from '../../main/core/app-service/history.ts';
import { createAppService } from '../../main/core/app-service/service.ts';
import { closeRenderPool } from '../../main/core/imaging/render-pool.ts';
import { scanMedia } from '../../main/core/media/scan.ts';
import { makeMedia } from '../support/make-media.ts';

let work: string;
let root: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ferry-thumbnail-'));
  const media = await makeMedia({
    outDir: path.join(work, 'disc'),
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 2,
    instancesPerSeries: 3,
    rows: 32,
    columns: 24,
    withDicomdir: false,
    extras: false,
    seed: 8,
  });
  root = media.root;
});

afterAll(async () => {
  await closeRenderPool();
  await rm(work, { recursive: true, force: true });
});

function setup() {
  const service = createAppService({
    host: 'browser-host',
    version: '0.1.0',
    engines: {},
    platformServices: {
      secrets: memorySecretStore(),
      keepAwake: { start: vi.fn(), stop: vi.fn() },
    },
    history: memoryHistory(),
    emit: () => {},
  });
  return createDispatch(service.handlers);
}

/** Width and height from a PNG's IHDR. */
function pngSize(dataUrl: string): { width: number; height: number } {
  const bytes = Buffer.from(dataUrl.replace(/^data:image\/png;base64,/u, ''), 'base64');
  expect(bytes.subarray(1, 4).toString('latin1')).toBe('PNG');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

describe('preview.thumbnail', () => {
  it('renders the middle instance of each series as a PNG data URL', async () => {
    const dispatch = setup();
    const scanned = await dispatch('media.scan', { path: root });
    if (!scanned.ok) throw new Error(scanned.error.message);
    const scan = scanned.value as ScanView;
    const onDisc = await scanMedia(root);
    const allSeries = scan.patients.flatMap((p) => p.studies).flatMap((s) => s.series);
    expect(allSeries).toHaveLength(2);
    for (const series of allSeries) {
      const answer = await dispatch('preview.thumbnail', {
        scanId: scan.scanId,
        seriesInstanceUid: series.seriesInstanceUid,
      });
      expect(answer.ok).toBe(true);
      const view = (answer as { value: ThumbnailView }).value;
      expect(view.kind).toBe('rendered');
      if (view.kind !== 'rendered') continue;
      expect(view.dataUrl).toMatch(/^data:image\/png;base64,/u);
      expect(pngSize(view.dataUrl)).toEqual({ width: view.width, height: view.height });
      expect(Math.max(view.width, view.height)).toBeLessThanOrEqual(128);
      const instances = onDisc.patients
        .flatMap((p) => p.studies)
        .flatMap((s) => s.series)
        .find((s) => s.seriesInstanceUid === series.seriesInstanceUid)!.instances;
      const middle = [...instances].sort(
        (a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0),
      )[1]!;
      expect(view.path).toBe(middle.path);
    }
  });

  it('says plainly when an image cannot be rendered, and refuses series not on the disc', async () => {
    const dispatch = setup();
    const scanned = await dispatch('media.scan', { path: root });
    if (!scanned.ok) throw new Error(scanned.error.message);
    const scan = scanned.value as ScanView;
    expect(
      await dispatch('preview.thumbnail', { scanId: scan.scanId, seriesInstanceUid: '1.2.3.4' }),
    ).toMatchObject({ ok: false, error: { code: 'not-found' } });
    const series = scan.patients[0]!.studies[0]!.series[1]!;
    const instances = (await scanMedia(root)).patients
      .flatMap((p) => p.studies)
      .flatMap((s) => s.series)
      .find((s) => s.seriesInstanceUid === series.seriesInstanceUid)!.instances;
    const middle = [...instances].sort(
      (a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0),
    )[1]!;
    // The file is cut short after the scan read its header: no pixels left to show.
    await truncate(path.join(root, ...middle.path.split('/')), 400);
    const answer = await dispatch('preview.thumbnail', {
      scanId: scan.scanId,
      seriesInstanceUid: series.seriesInstanceUid,
    });
    expect(answer).toMatchObject({
      ok: true,
      value: { kind: 'unrenderable', path: middle.path },
    });
    const reason = (answer as { value: { reason: string } }).value.reason;
    expect(reason).not.toBe('');
  });
});
