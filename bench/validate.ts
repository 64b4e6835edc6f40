/**
 * Validation's cost over the scan (issue 6: scan + validate takes at most 1.20 times the scan).
 * Generates a realistic disc of 2,000 instances, then times `scanMedia` and `scanAndValidate`
 * on it, alternating runs so that both see the same warm page cache, and compares the medians.
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
}

export async function measureValidate(runs = runsFromEnv(7)): Promise<ValidateBenchFigures> {
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
    // Warm-up: the page cache and the JIT, for both paths.
    await scanMedia(media.root);
    await scanAndValidate(media.root);
    const scans: number[] = [];
    const validations: number[] = [];
    for (let run = 0; run < runs; run++) {
      let started = performance.now();
      await scanMedia(media.root);
      scans.push(performance.now() - started);
      started = performance.now();
      await scanAndValidate(media.root);
      validations.push(performance.now() - started);
    }
    const scanMs = median(scans);
    const scanValidateMs = median(validations);
    return {
      instances: media.totalInstances,
      scanMs,
      scanValidateMs,
      ratio: scanValidateMs / scanMs,
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
}

if (import.meta.url === `file://${process.argv[1]}`) await benchValidate();
