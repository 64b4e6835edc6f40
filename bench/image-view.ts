/**
 * Image view benchmark: preview.image through the app service (real de-identification, the
 * shared render pool) on a generated CT series of 512 x 512 16-bit slices.
 *
 * - first view of a slice not seen before, under a link that sends files as they are and under
 *   one that de-identifies (the outgoing bytes are made first);
 * - a window change on a slice already open (its outgoing bytes kept in shared memory): what a
 *   drag costs per render; target < 100 ms;
 * - the main thread's worst stall while those renders run (event-loop delay, max and p99).
 *
 * Baseline in the same run: the least any view must do, in-process on the main thread: read
 * the file, decode and render the frame at the same size, encode the PNG. Warm page cache,
 * median of FERRY_BENCH_RUNS (default 7).
 */
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';

import type { ImageRenderView, PolicyView, ScanView } from '../main/core/api.ts';
import { IMAGE_VIEW_SIZE } from '../main/core/app-service/image.ts';
import { offlineLinkView, offlineService } from '../main/core/app-service/offline.ts';
import { encodePngAsync } from '../main/core/imaging/png.ts';
import { closeRenderPool } from '../main/core/imaging/render-pool.ts';
import { renderFrame } from '../main/core/imaging/render.ts';
import { scanMedia } from '../main/core/media/scan.ts';
import { makeMedia } from '../test/support/make-media.ts';
import {
  collectGarbage,
  formatNumber,
  log,
  median,
  runsFromEnv,
  type BenchResult,
} from './harness.ts';

const WINDOW_TARGET_MS = 100;
const SLICES = 24;
const WINDOWS_PER_RUN = 10;

async function viewer(root: string, policy: PolicyView) {
  const { call } = offlineService({
    link: offlineLinkView(policy, { who: 'Bench', limits: { maxBytes: 1e12, maxInstances: 1e6 } }),
    keyByte: 3,
    version: 'bench',
  });
  await call('link.open', { url: `https://portal.example/u/${'B'.repeat(43)}` });
  const scan = await call<ScanView>('media.scan', { path: root });
  const image = async (request: Record<string, unknown>): Promise<number> => {
    const started = performance.now();
    const view = await call<ImageRenderView>('preview.image', { scanId: scan.scanId, ...request });
    if (view.kind !== 'rendered') throw new Error(`image view benchmark: ${view.reason}`);
    return performance.now() - started;
  };
  return { scan, image };
}

export async function benchImageView(): Promise<BenchResult[]> {
  const runs = runsFromEnv(7);
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-image-view-'));
  try {
    log(`generating a CT series of ${SLICES} slices, 512x512 16-bit …`);
    const media = await makeMedia({
      outDir: path.join(tmp, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: SLICES,
      rows: 512,
      columns: 512,
      modalities: ['CT'],
      withDicomdir: false,
      extras: false,
      seed: 20_261_123,
    });
    const asIs = await viewer(media.root, { kind: 'none' });
    const deid = await viewer(media.root, { kind: 'basic', options: [] });
    const slices = (await scanMedia(media.root)).patients[0]!.studies[0]!.series[0]!.instances.map(
      (instance) => instance.path,
    );
    if (slices.length < 2 * runs + 2) throw new Error('image view benchmark: too few slices');

    // Unmeasured: workers, JIT, page cache.
    await asIs.image({ path: slices[0], frame: 0 });
    await deid.image({ path: slices[1], frame: 0 });
    for (const slice of slices) await readFile(path.join(media.root, slice));

    const firstAsIs: number[] = [];
    const firstDeid: number[] = [];
    const windowMs: number[] = [];
    const floorMs: number[] = [];
    const stallMax: number[] = [];
    const stallP99: number[] = [];
    for (let run = 0; run < runs; run++) {
      const mine = slices[2 + 2 * run]!;
      const other = slices[3 + 2 * run]!;
      collectGarbage();
      firstAsIs.push(await asIs.image({ path: mine, frame: 0 }));
      collectGarbage();
      firstDeid.push(await deid.image({ path: other, frame: 0 }));

      // A drag: successive windows on the open slice, one render at a time (as the view does).
      const delay = monitorEventLoopDelay({ resolution: 5 });
      delay.enable();
      const renders: number[] = [];
      for (let step = 0; step < WINDOWS_PER_RUN; step++) {
        renders.push(
          await deid.image({
            path: other,
            frame: 0,
            window: { center: 40 + step * 15, width: 400 + step * 40 },
          }),
        );
      }
      delay.disable();
      windowMs.push(median(renders));
      stallMax.push(delay.max / 1e6);
      stallP99.push(delay.percentile(99) / 1e6);

      // The floor: the same slice read, rendered and encoded on this thread.
      collectGarbage();
      const started = performance.now();
      const bytes = await readFile(path.join(media.root, other));
      const rendered = await renderFrame(bytes, {
        maxSize: IMAGE_VIEW_SIZE,
        window: { center: 40, width: 400 },
      });
      if (rendered.kind !== 'rendered') throw new Error('image view benchmark: floor failed');
      Buffer.from(await encodePngAsync(rendered, { level: 3 })).toString('base64');
      floorMs.push(performance.now() - started);
      log(
        `run ${run + 1}/${runs}: first view ${formatNumber(firstAsIs.at(-1)!)} ms as is, ${formatNumber(firstDeid.at(-1)!)} ms de-identified; window ${formatNumber(windowMs.at(-1)!)} ms; floor ${formatNumber(floorMs.at(-1)!)} ms; stall max ${formatNumber(stallMax.at(-1)!)} ms`,
      );
    }
    const floor = median(floorMs);
    const window = median(windowMs);
    const note = `512x512 16-bit CT, rendered at 512 px; floor = read + decode + render + PNG (same level) in-process, no worker, no service; median of ${runs}`;
    return [
      {
        name: 'window change on an open slice (per render)',
        value: window,
        unit: 'ms',
        baseline: floor,
        target: `< ${WINDOW_TARGET_MS} ms`,
        pass: window < WINDOW_TARGET_MS,
        note: `${WINDOWS_PER_RUN} successive windows per run, outgoing bytes kept; ${note}`,
      },
      {
        name: 'first view of a slice, sent as is',
        value: median(firstAsIs),
        unit: 'ms',
        baseline: floor,
        note,
      },
      {
        name: 'first view of a slice, de-identified',
        value: median(firstDeid),
        unit: 'ms',
        baseline: floor,
        note: `the outgoing bytes are made first (de-identification, as the upload does); ${note}`,
      },
      {
        name: 'main thread: longest stall during window renders',
        value: median(stallMax),
        unit: 'ms',
        note: `event-loop delay while renders run (p99 ${formatNumber(median(stallP99))} ms): PNG filtering and base64 run on the main thread, its compression on the thread pool`,
      },
    ];
  } finally {
    await closeRenderPool();
    await rm(tmp, { recursive: true, force: true });
  }
}
