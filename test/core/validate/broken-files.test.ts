/**
 * Issue 6 proof: a corpus of broken files (truncated at many offsets, header bytes flipped,
 * lengths that lie, deep and endless sequences, huge declared lengths) gives no crash, no hang,
 * bounded memory, and exactly one clear finding per file.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findingCatalog } from '../../../main/core/findings.ts';
import { scanAndValidate } from '../../../main/core/validate/index.ts';
import {
  brokenCorpus,
  randomFlips,
  validCtInstance,
  type BrokenFile,
} from '../../support/broken-files.ts';

/** Per file: generous for a loaded CI machine, tiny next to a hang. */
const perFileBudgetMs = 2_000;

let dir: string;
let base: Uint8Array;
let cases: BrokenFile[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-broken-'));
  base = await validCtInstance(path.join(dir, 'base'));
  cases = brokenCorpus(base);
  await mkdir(path.join(dir, 'corpus'));
  await mkdir(path.join(dir, 'random'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function validateOne(folder: string, file: BrokenFile) {
  const filePath = path.join(dir, folder, file.name);
  await writeFile(filePath, file.bytes);
  const started = performance.now();
  const result = await scanAndValidate(filePath);
  const ms = performance.now() - started;
  return { ms, findings: result.findings.filter((finding) => finding.paths.includes(file.name)) };
}

describe('broken files', () => {
  it('the base file is valid: no finding at all', async () => {
    const result = await scanAndValidate(path.join(dir, 'base'));
    expect(result.findings).toEqual([]);
  });

  it('covers every kind of damage the issue names', () => {
    const kinds = new Set(cases.map((file) => file.kind));
    expect([...kinds].sort()).toEqual(['flipped', 'huge', 'length', 'sequence', 'truncated']);
    expect(cases.filter((file) => file.kind === 'truncated').length).toBeGreaterThan(100);
  });

  it('gives exactly one clear finding per file, quickly, in bounded memory', async () => {
    const heapBefore = process.memoryUsage().heapUsed;
    let peakRss = process.memoryUsage.rss();
    const failures: string[] = [];
    for (const file of cases) {
      const { ms, findings } = await validateOne('corpus', file);
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const codes = findings.map((finding) => finding.code);
      if (findings.length !== 1 || !file.expect.includes(findings[0]!.code)) {
        failures.push(
          `${file.name}: got [${codes.join(', ')}], expected one of [${file.expect.join(', ')}]`,
        );
      }
      if (ms > perFileBudgetMs) failures.push(`${file.name}: took ${ms.toFixed(0)} ms`);
      for (const finding of findings) {
        // Clear: the catalogue's sentence, and a technical detail for every error.
        expect(finding.message).toBe(findingCatalog[finding.code].message);
        if (finding.severity === 'error' && finding.code !== 'empty-file')
          expect(finding.detail).toBeTruthy();
      }
    }
    expect(failures).toEqual([]);
    // Files of ~10 kB declaring lengths of 4 GiB: nothing may allocate what a length claims.
    expect(peakRss).toBeLessThan(1024 * 1024 * 1024);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(256 * 1024 * 1024);
  });

  it('survives random single-bit flips anywhere in the header (no crash, no hang)', async () => {
    for (const file of randomFlips(base, 60, 20_260_101)) {
      const { ms } = await validateOne('random', file);
      expect(ms, file.name).toBeLessThan(perFileBudgetMs);
    }
  });
});
