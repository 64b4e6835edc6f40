/**
 * Pixel masking cost: generated ultrasound-sized media (512 x 512 x 16 bit), once native and
 * once RLE Lossless (dcmcrle), de-identified in memory with one rectangle masked, against the
 * same de-identification without a mask in the same run. Native masking works while the pixel
 * data streams (ratio near 1); compressed masking decodes every frame and writes native pixels
 * (its ratio is the price of decoding). dcmtk's dcmdrle on the same RLE files (one process per
 * file) is printed as an outside reference for the decode alone.
 *
 * Each figure is the median of `runs` passes (FERRY_BENCH_RUNS, default 3), warm page cache.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import type { DeidentifyPolicy } from '../main/core/deid/engine.ts';
import {
  collectBytes,
  deidentifyInstance,
  type InstanceRequest,
} from '../main/core/deid/instance.ts';
import { makeMedia } from '../test/support/make-media.ts';
import { hasCommand } from '../test/support/tools.ts';
import {
  collectGarbage,
  formatNumber,
  log,
  median,
  runsFromEnv,
  type BenchResult,
} from './harness.ts';

const execFileAsync = promisify(execFile);
const policy: DeidentifyPolicy = {
  kind: 'deidentify',
  profile: 'basic',
  options: [],
  key: new Uint8Array(32).fill(7),
};
const masked: InstanceRequest = { masks: [{ x: 0, y: 0, width: 512, height: 48 }] };

async function pass(files: readonly string[], request: InstanceRequest): Promise<number> {
  collectGarbage();
  const started = performance.now();
  for (const file of files) {
    const instance = await deidentifyInstance({ kind: 'file', path: file }, policy, request);
    await collectBytes(instance);
  }
  return performance.now() - started;
}

export async function benchMask(): Promise<BenchResult[]> {
  const runs = runsFromEnv(3);
  const work = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-mask-'));
  try {
    const media = await makeMedia({
      outDir: path.join(work, 'media'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 40,
      rows: 512,
      columns: 512,
      modalities: ['US'],
      withDicomdir: false,
      extras: false,
      seed: 9,
    });
    const native = media.patients[0]!.studies[0]!.series[0]!.files.map((file) =>
      path.join(media.root, ...file.split('/')),
    );
    const rleDir = path.join(work, 'rle');
    await mkdir(rleDir);
    const rle: string[] = [];
    const haveDcmtk = hasCommand('dcmcrle') && hasCommand('dcmdrle');
    for (const [index, file] of native.entries()) {
      const out = path.join(rleDir, `IM${index}`);
      if (haveDcmtk) await execFileAsync('dcmcrle', [file, out]);
      else await copyFile(file, out);
      rle.push(out);
    }
    log(`${native.length} instances of 512 x 512 x 16 bit${haveDcmtk ? ', and RLE copies' : ''}`);
    // One unmeasured pass of each warms the page cache and the codecs.
    await pass(native, masked);
    await pass(rle, masked);
    const times = {
      native: [] as number[],
      nativeMasked: [] as number[],
      rle: [] as number[],
      rleMasked: [] as number[],
      dcmdrle: [] as number[],
    };
    for (let run = 0; run < runs; run++) {
      times.native.push(await pass(native, {}));
      times.nativeMasked.push(await pass(native, masked));
      if (!haveDcmtk) continue;
      times.rle.push(await pass(rle, {}));
      times.rleMasked.push(await pass(rle, masked));
      const outDir = await mkdtemp(path.join(work, 'dcmdrle-'));
      const started = performance.now();
      for (const file of rle) {
        await execFileAsync('dcmdrle', [file, path.join(outDir, path.basename(file))]);
      }
      times.dcmdrle.push(performance.now() - started);
      await rm(outDir, { recursive: true, force: true });
    }
    const perInstance = (ms: readonly number[]): number => median(ms) / native.length;
    log(`runs: ${runs}; per-instance medians in ms`);
    const results: BenchResult[] = [
      {
        name: 'native, masked (per instance)',
        value: perInstance(times.nativeMasked),
        unit: 'ms',
        baseline: perInstance(times.native),
        note: 'baseline: the same de-identification without a mask; the mask applies while streaming',
      },
    ];
    if (haveDcmtk) {
      results.push(
        {
          name: 'RLE, masked: decode + native (per instance)',
          value: perInstance(times.rleMasked),
          unit: 'ms',
          baseline: perInstance(times.rle),
          note: 'baseline: the same de-identification without a mask (fragments passed through)',
        },
        {
          name: 'RLE, masked vs dcmdrle (per instance)',
          value: perInstance(times.rleMasked),
          unit: 'ms',
          baseline: perInstance(times.dcmdrle),
          note: `dcmdrle: one process per file (${formatNumber(perInstance(times.dcmdrle))} ms incl. start-up)`,
        },
      );
    }
    return results;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
