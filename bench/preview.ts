/**
 * Preview benchmark (issue 8): series thumbnails on a generated CT disc (1 study, 10 series of
 * 50 slices, 512 x 512, 16-bit), from the study list (scanMedia with the DICOMDIR) to every
 * series' middle-slice thumbnail rendered in the worker pool. Target < 300 ms.
 *
 * Baseline in the same run: plain reads (fs/promises readFile) of the same middle-slice
 * files, the least any preview must do. Warm page cache (the disc was just written and an
 * unmeasured pass runs first); the pool is started with the app, before the study list, so
 * its start-up is reported apart ("cold"). Median of `runs`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { RenderPool } from '../main/core/imaging/render-pool.ts';
import type { MediaSeries, ScanResult } from '../main/core/media/model.ts';
import { scanMedia } from '../main/core/media/scan.ts';
import { makeMedia } from '../test/support/make-media.ts';
import { collectGarbage, formatNumber, log, median, type BenchResult } from './harness.ts';

const TARGET_MS = 300;

export interface PreviewBenchOptions {
  seriesPerStudy: number;
  instancesPerSeries: number;
  rows: number;
  columns: number;
  runs: number;
}

const defaults: PreviewBenchOptions = {
  seriesPerStudy: 10,
  instancesPerSeries: 50,
  rows: 512,
  columns: 512,
  runs: 5,
};

/** The slice a series thumbnail shows: the middle one by Instance Number. */
function middleSlice(series: MediaSeries): string {
  const sorted = [...series.instances].sort(
    (a, b) => (a.instanceNumber ?? 0) - (b.instanceNumber ?? 0),
  );
  return sorted[Math.floor(sorted.length / 2)]!.path;
}

function seriesOf(result: ScanResult): MediaSeries[] {
  return result.patients.flatMap((patient) => patient.studies.flatMap((study) => study.series));
}

async function thumbnails(pool: RenderPool, files: readonly string[]): Promise<number> {
  const started = performance.now();
  const results = await Promise.all(
    files.map((file) => pool.render({ path: file }, { maxSize: 128 })),
  );
  const ms = performance.now() - started;
  const failed = results.filter((result) => result.kind !== 'rendered');
  if (failed.length > 0) throw new Error(`preview benchmark: ${failed.length} thumbnails failed`);
  return ms;
}

async function plainReads(files: readonly string[]): Promise<number> {
  const started = performance.now();
  await Promise.all(files.map((file) => readFile(file)));
  return performance.now() - started;
}

export async function benchPreview(
  overrides: Partial<PreviewBenchOptions> = {},
): Promise<BenchResult[]> {
  const options = { ...defaults, ...overrides };
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-preview-'));
  try {
    log(
      `generating ${options.seriesPerStudy} CT series of ${options.instancesPerSeries} slices, ${options.rows}x${options.columns} …`,
    );
    const media = await makeMedia({
      outDir: path.join(tmp, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: options.seriesPerStudy,
      instancesPerSeries: options.instancesPerSeries,
      rows: options.rows,
      columns: options.columns,
      modalities: ['CT'],
      extras: false,
      seed: 20_240_808,
    });

    // Cold: the pool's start-up (workers, tsx, WASM-free native decode) on its own.
    const coldStarted = performance.now();
    const coldPool = new RenderPool();
    const scanForCold = await scanMedia(media.root, { verify: false });
    const coldFiles = seriesOf(scanForCold).map((series) =>
      path.join(media.root, middleSlice(series)),
    );
    await thumbnails(coldPool, coldFiles);
    const coldMs = performance.now() - coldStarted;
    await coldPool.close();

    const pool = new RenderPool();
    const listMs: number[] = [];
    const thumbMs: number[] = [];
    const readMs: number[] = [];
    let files: string[] = [];
    // Unmeasured pass: page cache, JIT and worker start-up.
    {
      const result = await scanMedia(media.root, { verify: false });
      files = seriesOf(result).map((series) => path.join(media.root, middleSlice(series)));
      await plainReads(files);
      await thumbnails(pool, files);
    }
    for (let run = 0; run < options.runs; run++) {
      collectGarbage();
      const started = performance.now();
      const result = await scanMedia(media.root, { verify: false });
      listMs.push(performance.now() - started);
      const runFiles = seriesOf(result).map((series) => path.join(media.root, middleSlice(series)));
      if (runFiles.length !== options.seriesPerStudy)
        throw new Error(`preview benchmark: ${runFiles.length} series listed`);
      thumbMs.push(await thumbnails(pool, runFiles));
      collectGarbage();
      readMs.push(await plainReads(runFiles));
      log(
        `run ${run + 1}/${options.runs}: thumbnails ${formatNumber(thumbMs.at(-1)!)} ms, plain reads ${formatNumber(readMs.at(-1)!)} ms`,
      );
    }
    await pool.close();
    const thumbs = median(thumbMs);
    const reads = median(readMs);
    return [
      {
        name: 'study list to all series thumbnails',
        value: thumbs,
        unit: 'ms',
        baseline: reads,
        target: `< ${TARGET_MS} ms`,
        pass: thumbs < TARGET_MS,
        note: `${files.length} series, middle slice each, ${options.rows}x${options.columns} 16-bit -> 128 px, ${pool.size} render worker(s) started with the app; baseline = plain reads of the same ${files.length} files; warm cache, median of ${options.runs}`,
      },
      {
        name: 'study list (DICOMDIR)',
        value: median(listMs),
        unit: 'ms',
        note: 'scanMedia without verification, for context: the thumbnails start when it appears',
      },
      {
        name: 'cold: pool start + list + thumbnails',
        value: coldMs,
        unit: 'ms',
        note: 'first use after launch: workers spawned (tsx in source runs), then the same work',
      },
    ];
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
