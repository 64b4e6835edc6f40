/**
 * Scan benchmark (issue 2, Proof): a generated 10,000-instance disc, scanned by the real
 * scanner, against the I/O floor measured in the same run.
 *
 * - time to the study list with the DICOMDIR: from calling scanMedia to its first
 *   `study-list` event (target < 1 s), and the full scan time with verification on;
 * - files per second of a full scan without the DICOMDIR (the same disc, its DICOMDIR moved
 *   aside), against the floor: list the files, then open, read the first 64 KiB and close every
 *   one, with the same concurrency (target >= 0.7x the floor). The floor uses node:fs callbacks,
 *   the cheapest plain reads Node has; the same reads through fs/promises FileHandles (what the
 *   scanner uses) are reported beside it, since on a warm cache that API alone costs ~2x;
 * - peak RSS while scanning.
 *
 * Page cache: caches cannot be dropped here, so everything is a warm-cache figure (the disc
 * was just written, and an unmeasured read pass runs first). Each measurement runs `runs`
 * times (FERRY_BENCH_RUNS, default 3), the order alternating between rounds, and the median is
 * reported.
 */
import fs from 'node:fs';
import { mkdir, mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { scanMedia, type ScanEvent } from '../main/core/media/scan.ts';
import type { ScanResult } from '../main/core/media/model.ts';
import { forEachLimit } from '../main/core/util/pool.ts';
import { makeMedia } from '../test/support/make-media.ts';
import {
  collectGarbage,
  formatNumber,
  log,
  median,
  runsFromEnv,
  mib,
  RssSampler,
  type BenchResult,
} from './harness.ts';

export interface ScanBenchOptions {
  patients: number;
  studiesPerPatient: number;
  seriesPerStudy: number;
  instancesPerSeries: number;
  /** Image size: small, so the disc is mostly headers and file count dominates. */
  rows: number;
  columns: number;
  /** Files read at once, by the scanner and by the floor alike (the scanner's default). */
  concurrency: number;
  /** Measured repetitions of each figure; the median is reported. */
  runs: number;
}

const defaults: ScanBenchOptions = {
  patients: 2,
  studiesPerPatient: 5,
  seriesPerStudy: 10,
  instancesPerSeries: 100,
  rows: 64,
  columns: 64,
  concurrency: 8,
  runs: 3,
};

const HEAD_BYTES = 64 * 1024;
const STUDY_LIST_TARGET_MS = 1000;
const FLOOR_RATIO_TARGET = 0.7;

/** The floor's file listing: a plain recursive readdir, the least any scanner must do. */
async function listFiles(root: string): Promise<string[]> {
  const files: string[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop()!;
    for (const dirent of await readdir(dir, { withFileTypes: true })) {
      const child = path.join(dir, dirent.name);
      if (dirent.isDirectory()) pending.push(child);
      else if (dirent.isFile()) files.push(child);
    }
  }
  return files;
}

type FloorApi = 'fs' | 'fs/promises';

function fsCall<T>(call: (done: (error: NodeJS.ErrnoException | null, value: T) => void) => void) {
  return new Promise<T>((resolve, reject) => {
    call((error, value) => (error ? reject(error) : resolve(value)));
  });
}

/** Opens, reads the first 64 KiB into `buffer` and closes, with node:fs callbacks. */
async function headWithCallbacks(file: string, buffer: Buffer): Promise<void> {
  const fd = await fsCall<number>((done) => fs.open(file, 'r', done));
  try {
    await fsCall<number>((done) => fs.read(fd, buffer, 0, HEAD_BYTES, 0, done));
  } finally {
    await fsCall<void>((done) => fs.close(fd, (error) => done(error, undefined)));
  }
}

/** The same with a node:fs/promises FileHandle (what read-head.ts uses). */
async function headWithFileHandle(file: string, buffer: Buffer): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.read(buffer, 0, HEAD_BYTES, 0);
  } finally {
    await handle.close();
  }
}

/**
 * The floor: list the files, then open, read the first 64 KiB and close every one, `concurrency`
 * at a time through the scanner's own pool. 'fs' (callbacks) is the cheapest plain way Node
 * offers and is the baseline; 'fs/promises' is reported beside it.
 */
async function floorRead(
  root: string,
  concurrency: number,
  api: FloorApi,
): Promise<{ ms: number; files: number }> {
  const started = performance.now();
  const files = await listFiles(root);
  // One buffer per read in flight, reused: the floor allocates nothing per file.
  const free = Array.from({ length: concurrency }, () => Buffer.allocUnsafe(HEAD_BYTES));
  const readHead = api === 'fs' ? headWithCallbacks : headWithFileHandle;
  await forEachLimit(files, concurrency, async (file) => {
    const buffer = free.pop()!;
    try {
      await readHead(file, buffer);
    } finally {
      free.push(buffer);
    }
  });
  return { ms: performance.now() - started, files: files.length };
}

interface ScanRun {
  ms: number;
  studyListMs?: number;
  studyListStudies?: number;
  peakRss: number;
  result: ScanResult;
}

async function timedScan(root: string, concurrency: number): Promise<ScanRun> {
  const sampler = new RssSampler().start();
  let studyList: { ms: number; studies: number } | undefined;
  const started = performance.now();
  const onEvent = (event: ScanEvent): void => {
    if (event.kind === 'study-list' && !studyList) {
      studyList = { ms: performance.now() - started, studies: event.result.summary.studies };
    }
    sampler.sample();
  };
  const result = await scanMedia(root, { onEvent, verify: true, concurrency });
  const ms = performance.now() - started;
  const peakRss = sampler.stop();
  return {
    ms,
    peakRss,
    result,
    ...(studyList ? { studyListMs: studyList.ms, studyListStudies: studyList.studies } : {}),
  };
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(`scan benchmark: ${message}`);
}

export async function benchScan(overrides: Partial<ScanBenchOptions> = {}): Promise<BenchResult[]> {
  const options = { ...defaults, runs: runsFromEnv(defaults.runs), ...overrides };
  const expectedInstances =
    options.patients *
    options.studiesPerPatient *
    options.seriesPerStudy *
    options.instancesPerSeries;
  const expectedStudies = options.patients * options.studiesPerPatient;

  const tmp = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-scan-'));
  const onSignal = (): void => {
    // Synchronous-enough cleanup on Ctrl-C: the temp disc is ~100 MB.
    void rm(tmp, { recursive: true, force: true, maxRetries: 3 }).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  try {
    const disc = path.join(tmp, 'disc');
    const aside = path.join(tmp, 'aside');
    await mkdir(aside);

    log(`generating ${formatNumber(expectedInstances)} instances in ${disc} …`);
    const media = await makeMedia({
      outDir: disc,
      patients: options.patients,
      studiesPerPatient: options.studiesPerPatient,
      seriesPerStudy: options.seriesPerStudy,
      instancesPerSeries: options.instancesPerSeries,
      rows: options.rows,
      columns: options.columns,
      withDicomdir: true,
      seed: 20_240_601,
    });
    check(media.totalInstances === expectedInstances, 'generator made a different count');
    check(media.dicomdirPath !== undefined, 'generator made no DICOMDIR');
    const dicomdir = media.dicomdirPath!;
    const dicomdirAside = path.join(aside, path.basename(dicomdir));
    log(
      `generated in ${formatNumber(media.timings.writeMs / 1000)} s (+ dcmmkdir ${formatNumber(
        media.timings.dicomdirMs / 1000,
      )} s): ${formatNumber(media.totalInstances)} instances, ${formatNumber(
        mib(media.totalBytes),
      )} MiB, ${media.extraFiles.length} non-DICOM extras`,
    );

    // The same disc minus its DICOMDIR: moved aside for the walk scan and the floor.
    const withoutDicomdir = async <T>(work: () => Promise<T>): Promise<T> => {
      await rename(dicomdir, dicomdirAside);
      try {
        return await work();
      } finally {
        await rename(dicomdirAside, dicomdir);
      }
    };

    // Unmeasured passes: page cache and JIT warm for every measurement alike.
    const warm = await withoutDicomdir(() => floorRead(disc, options.concurrency, 'fs'));
    await withoutDicomdir(() => floorRead(disc, options.concurrency, 'fs/promises'));
    const files = warm.files;
    check(files === expectedInstances + media.extraFiles.length, `floor listed ${files} files`);
    collectGarbage();
    const idleRss = process.memoryUsage.rss();
    // The first scan of this process, as an app's first disc: its study list is reported apart.
    const firstScan = await timedScan(disc, options.concurrency);
    const firstWalk = await withoutDicomdir(() => timedScan(disc, options.concurrency));

    const floorMs: Record<FloorApi, number[]> = { fs: [], 'fs/promises': [] };
    const walkMs: number[] = [];
    const walkRss: number[] = [firstWalk.peakRss];
    const studyListMs: number[] = [];
    const dicomdirMs: number[] = [];
    const dicomdirRss: number[] = [firstScan.peakRss];

    const measureFloor = (api: FloorApi) => async (): Promise<void> => {
      collectGarbage();
      // The same RSS timer as the scans, so both carry its (tiny) cost.
      const sampler = new RssSampler().start();
      const run = await withoutDicomdir(() => floorRead(disc, options.concurrency, api));
      sampler.stop();
      check(run.files === files, 'floor saw a different file count');
      floorMs[api].push(run.ms);
    };
    const measureWalk = async (): Promise<void> => {
      collectGarbage();
      const run = await withoutDicomdir(() => timedScan(disc, options.concurrency));
      check(run.result.source === 'walk', `walk scan used ${run.result.source}`);
      check(
        run.result.summary.instances === expectedInstances,
        `walk scan found ${run.result.summary.instances} instances`,
      );
      walkMs.push(run.ms);
      walkRss.push(run.peakRss);
    };
    const measureDicomdir = async (): Promise<void> => {
      collectGarbage();
      const run = await timedScan(disc, options.concurrency);
      check(run.studyListMs !== undefined, 'no study-list event with the DICOMDIR');
      check(
        run.studyListStudies === expectedStudies,
        `study list had ${run.studyListStudies} studies`,
      );
      check(run.result.source === 'dicomdir', `DICOMDIR scan used ${run.result.source}`);
      check(
        run.result.summary.instances === expectedInstances,
        `DICOMDIR scan found ${run.result.summary.instances} instances`,
      );
      const disagreeing = run.result.findings.filter((finding) =>
        finding.code.startsWith('dicomdir-'),
      );
      check(disagreeing.length === 0, `DICOMDIR findings: ${disagreeing[0]?.code}`);
      studyListMs.push(run.studyListMs!);
      dicomdirMs.push(run.ms);
      dicomdirRss.push(run.peakRss);
    };

    // Alternating order (A B C D, D C B A, …): no measurement always follows the same one.
    const steps = [measureFloor('fs'), measureWalk, measureFloor('fs/promises'), measureDicomdir];
    for (let round = 0; round < options.runs; round++) {
      const order = round % 2 === 0 ? steps : [...steps].reverse();
      for (const step of order) await step();
      log(
        `round ${round + 1}/${options.runs}: floor ${formatNumber(floorMs.fs.at(-1)!)} ms ` +
          `(fs/promises ${formatNumber(floorMs['fs/promises'].at(-1)!)} ms), ` +
          `scan without DICOMDIR ${formatNumber(walkMs.at(-1)!)} ms, ` +
          `study list ${formatNumber(studyListMs.at(-1)!)} ms, ` +
          `scan with DICOMDIR ${formatNumber(dicomdirMs.at(-1)!)} ms`,
      );
    }

    const rate = (ms: number[]): number => files / (median(ms) / 1000);
    const floorRate = rate(floorMs.fs);
    const promisesFloorRate = rate(floorMs['fs/promises']);
    const walkRate = rate(walkMs);
    const ratio = walkRate / floorRate;
    const studyList = median(studyListMs);
    const how = `warm page cache, median of ${options.runs}, concurrency ${options.concurrency}`;
    const runsOf = (ms: number[]): string =>
      `runs ${ms.map((value) => formatNumber(value)).join(' / ')} ms`;
    return [
      {
        name: 'time to study list (DICOMDIR)',
        value: studyList,
        unit: 'ms',
        target: `< ${STUDY_LIST_TARGET_MS / 1000} s`,
        pass: studyList < STUDY_LIST_TARGET_MS,
        note: `from calling scanMedia to its first study-list event (${expectedStudies} studies, ${formatNumber(expectedInstances)} records); ${how}; ${runsOf(studyListMs)}`,
      },
      {
        name: 'study list, first scan',
        value: firstScan.studyListMs ?? Number.NaN,
        unit: 'ms',
        note: `the same, in the first scan of this process (cold JIT, warm page cache)`,
      },
      {
        name: 'full scan, DICOMDIR + verify',
        value: median(dicomdirMs),
        unit: 'ms',
        note: `every referenced file's header read and checked against its record; ${formatNumber(
          rate(dicomdirMs),
        )} files/s; ${how}`,
      },
      {
        name: 'full scan, no DICOMDIR',
        value: walkRate,
        unit: 'files/s',
        baseline: floorRate,
        ratio,
        target: `>= ${FLOOR_RATIO_TARGET}x floor`,
        pass: ratio >= FLOOR_RATIO_TARGET,
        note: `${formatNumber(files)} files (the disc minus its DICOMDIR) in ${formatNumber(
          median(walkMs),
        )} ms; baseline = the floor below; ${how}; ${runsOf(walkMs)}`,
      },
      {
        name: 'floor: list + open/read/close',
        value: floorRate,
        unit: 'files/s',
        note: `readdir walk, then open, read 64 KiB, close each file with node:fs callbacks, same pool and concurrency; ${formatNumber(
          files,
        )} files in ${formatNumber(median(floorMs.fs))} ms; ${runsOf(floorMs.fs)}`,
      },
      {
        name: 'floor via fs/promises',
        value: promisesFloorRate,
        unit: 'files/s',
        note: `the same reads through a FileHandle (the API read-head.ts uses): ${formatNumber(
          median(floorMs['fs/promises']),
        )} ms; the scan is ${(walkRate / promisesFloorRate).toFixed(2)}x of it`,
      },
      {
        name: 'peak RSS, scan without DICOMDIR',
        value: mib(Math.max(...walkRss)),
        unit: 'MiB',
        note: `whole-process RSS, max over all scans (first ones included), sampled every 5 ms and on each scan event; ${formatNumber(
          mib(idleRss),
        )} MiB before the first scan (node + tsx + the generator's leftovers, after a GC)`,
      },
      {
        name: 'peak RSS, scan with DICOMDIR',
        value: mib(Math.max(...dicomdirRss)),
        unit: 'MiB',
      },
    ];
  } finally {
    process.off('SIGINT', onSignal);
    await rm(tmp, { recursive: true, force: true });
  }
}
