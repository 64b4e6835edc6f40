/**
 * Validation's cost over the scan (issue 6: scan + validate takes at most 1.20 times the scan).
 * Generates a realistic disc of 2,000 instances, then times `scanMedia` and `scanAndValidate`
 * on it, alternating runs so that both see the same warm page cache, and compares the medians
 * of 15 pairs (with 7, the median moved by 0.1 from one run of the bench to the next on a 2-core
 * machine). The target is on elapsed time; the process's CPU time is measured beside
 * it, because on a machine shared with other work the elapsed time of a 200 ms run swings by
 * more than validation costs, while the CPU time the run itself spends moves much less.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { scanMedia } from '../main/core/media/scan.ts';
import { scanAndValidate } from '../main/core/validate/index.ts';
import { makeMedia, missingDicomTools } from '../test/support/make-media.ts';
import { log, median, runsFromEnv } from './harness.ts';

/** The budget: scan + validate takes at most 1.20 times the scan alone. */
export const validateRatioTarget = 1.2;

export interface ValidateBenchFigures {
  readonly instances: number;
  readonly scanMs: number;
  readonly scanValidateMs: number;
  readonly ratio: number;
  /** CPU time (user + system) of the same runs, medians. */
  readonly scanCpuMs: number;
  readonly scanValidateCpuMs: number;
  readonly cpuRatio: number;
  /**
   * Medians of the ratio of each scan + validate run to the scan run just before it: on a
   * machine whose load drifts, adjacent runs see the same load, so these move less than the
   * ratio of the two medians (printed beside it, not a replacement for it).
   */
  readonly pairedRatio: number;
  readonly pairedCpuRatio: number;
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

export async function measureValidate(runs = runsFromEnv(15)): Promise<ValidateBenchFigures> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-validate-'));
  try {
    log('generating 2,000 instances (CT, MR, CR, secondary capture) …');
    const media = await makeMedia({
      outDir: path.join(dir, 'disc'),
      patients: 2,
      studiesPerPatient: 2,
      seriesPerStudy: 5,
      instancesPerSeries: 100,
      modalities: ['CT', 'MR', 'CR', 'OT'],
      withDicomdir: missingDicomTools(['dcmmkdir']) === undefined,
      seed: 6,
    });
    // Warm-up: the page cache and the JIT, for both paths. One pass left validation's code still
    // tiering up through the first measured pairs (its rules run once per series, not per file).
    for (let pass = 0; pass < 3; pass++) {
      await scanMedia(media.root);
      await scanAndValidate(media.root);
    }
    const scans: number[] = [];
    const validations: number[] = [];
    const scanCpu: number[] = [];
    const validationCpu: number[] = [];
    for (let run = 0; run < runs; run++) {
      let cpu = cpuMs();
      let started = performance.now();
      await scanMedia(media.root);
      scans.push(performance.now() - started);
      scanCpu.push(cpuMs() - cpu);
      cpu = cpuMs();
      started = performance.now();
      await scanAndValidate(media.root);
      validations.push(performance.now() - started);
      validationCpu.push(cpuMs() - cpu);
    }
    const scanMs = median(scans);
    const scanValidateMs = median(validations);
    const scanCpuMs = median(scanCpu);
    const scanValidateCpuMs = median(validationCpu);
    const pairedRatio = median(validations.map((ms, run) => ms / scans[run]!));
    const pairedCpuRatio = median(validationCpu.map((ms, run) => ms / scanCpu[run]!));
    log(
      `CPU time, medians: scan ${scanCpuMs.toFixed(0)} ms, scan + validate ${scanValidateCpuMs.toFixed(0)} ms (${(scanValidateCpuMs / scanCpuMs).toFixed(3)}x)`,
    );
    log(
      `paired runs, median ratio: elapsed ${pairedRatio.toFixed(3)}x, CPU ${pairedCpuRatio.toFixed(3)}x (${runs} pairs)`,
    );
    return {
      instances: media.totalInstances,
      scanMs,
      scanValidateMs,
      ratio: scanValidateMs / scanMs,
      scanCpuMs,
      scanValidateCpuMs,
      cpuRatio: scanValidateCpuMs / scanCpuMs,
      pairedRatio,
      pairedCpuRatio,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Prints the figures (standalone: `node --import tsx bench/validate.ts`). */
export async function benchValidate(): Promise<void> {
  const figures = await measureValidate();
  const verdict = figures.ratio <= validateRatioTarget ? 'ok' : 'OVER BUDGET';
  console.log('validate: scan vs scan + validate on the same generated disc');
  console.log(`  instances             ${figures.instances}`);
  console.log(`  scan (median)         ${figures.scanMs.toFixed(0)} ms`);
  console.log(`  scan + validate       ${figures.scanValidateMs.toFixed(0)} ms`);
  console.log(
    `  ratio                 ${figures.ratio.toFixed(3)} (target <= ${validateRatioTarget.toFixed(2)}: ${verdict})`,
  );
  console.log(`  scan CPU time         ${figures.scanCpuMs.toFixed(0)} ms`);
  console.log(`  scan + validate CPU   ${figures.scanValidateCpuMs.toFixed(0)} ms`);
  console.log(`  CPU ratio             ${figures.cpuRatio.toFixed(3)}`);
  console.log(
    `  paired ratio          ${figures.pairedRatio.toFixed(3)} (CPU ${figures.pairedCpuRatio.toFixed(3)})`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchValidate();
