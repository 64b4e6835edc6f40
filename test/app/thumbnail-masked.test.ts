/**
 * A masked series' thumbnail shows the masked pixels that will be sent (rendered from the
 * outgoing bytes, as the image view is), and a new mask or a cleared one renders it again: on a
 * generated CT series, under a de-identifying policy and under `none`, through the app service.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { PolicyView, ThumbnailView } from '../../main/core/api.ts';
import { SeriesMasks } from '../../main/core/deid/series-masks.ts';
import { closeRenderPool } from '../../main/core/imaging/render-pool.ts';
import { makeMedia } from '../support/make-media.ts';
import { openOfflineScan, pngPixels } from '../support/offline-app.ts';

const LINK = `https://portal.example/u/${'T'.repeat(43)}`;
const COLUMNS = 40;
const ROWS = 48;
let work: string;
let disc: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'ferry-thumbnail-masked-'));
  disc = (
    await makeMedia({
      outDir: path.join(work, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 3,
      rows: ROWS,
      columns: COLUMNS,
      modalities: ['CT'],
      withDicomdir: false,
      extras: false,
      seed: 31,
    })
  ).root;
});

afterAll(async () => {
  await closeRenderPool();
  await rm(work, { recursive: true, force: true });
});

async function setup(policy: PolicyView) {
  const opened = await openOfflineScan(disc, { policy, masks: new SeriesMasks(), linkUrl: LINK });
  const { call, scan } = opened;
  const series = opened.series[0]!;
  const thumbnail = async (): Promise<Uint8Array> => {
    const view = await call<ThumbnailView>('preview.thumbnail', {
      scanId: scan.scanId,
      seriesInstanceUid: series.seriesInstanceUid,
    });
    if (view.kind !== 'rendered') throw new Error(`thumbnail not rendered: ${view.reason}`);
    expect([view.width, view.height]).toEqual([COLUMNS, ROWS]);
    return greyPixels(view.dataUrl);
  };
  return { call, scan, series, thumbnail };
}

/** Grey samples of a PNG from encodePng. */
function greyPixels(dataUrl: string): Uint8Array {
  const png = pngPixels(dataUrl);
  expect(png.colorType).toBe(0);
  return png.pixels;
}

const rect = { x: 15, y: 19, width: 10, height: 10 };
const inRect = (i: number): boolean => {
  const x = i % COLUMNS;
  const y = Math.floor(i / COLUMNS);
  return x >= rect.x && x < rect.x + rect.width && y >= rect.y && y < rect.y + rect.height;
};

describe('a masked series thumbnail', () => {
  for (const policy of [{ kind: 'basic', options: [] }, { kind: 'none' }] as const) {
    it(`shows the pixels that are sent, and follows the mask (policy ${policy.kind})`, async () => {
      const { call, scan, series, thumbnail } = await setup(policy);
      const disc = await thumbnail();
      // The middle of the phantom: bright on the disc.
      expect(Math.max(...disc.filter((_, i) => inRect(i)))).toBeGreaterThan(50);

      await call('masks.set', {
        scanId: scan.scanId,
        seriesInstanceUid: series.seriesInstanceUid,
        rectangles: [rect],
      });
      const masked = await thumbnail();
      expect([...new Set(masked.filter((_, i) => inRect(i)))]).toEqual([0]);
      expect(masked.filter((_, i) => !inRect(i))).toEqual(disc.filter((_, i) => !inRect(i)));

      // Another rectangle: the thumbnail is rendered again, not kept from the first mask.
      const wider = { ...rect, x: 5, width: 30 };
      await call('masks.set', {
        scanId: scan.scanId,
        seriesInstanceUid: series.seriesInstanceUid,
        rectangles: [wider],
      });
      const again = await thumbnail();
      let black = 0;
      for (let y = wider.y; y < wider.y + wider.height; y++) {
        for (let x = wider.x; x < wider.x + wider.width; x++) {
          if (again[y * COLUMNS + x] === 0) black++;
        }
      }
      expect(black).toBe(wider.width * wider.height);

      // Cleared: the disc's image again.
      await call('masks.clear', {
        scanId: scan.scanId,
        seriesInstanceUid: series.seriesInstanceUid,
      });
      expect(await thumbnail()).toEqual(disc);
    });
  }
});
