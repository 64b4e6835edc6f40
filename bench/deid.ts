/**
 * De-identification benchmark (issue 5): generated CT media of at least 200 MB, de-identified
 * by `ferry deidentify` (scan, Basic Profile, header rewrite, pixel data streamed to new files)
 * and, in the same run and on the same files, by Debian's gdcmanon (libgdcm-tools) with its
 * Basic Profile (PS3.15 E.1.1, which needs a certificate: a throw-away one made by openssl).
 * Target: Ferry no slower than gdcmanon (ratio Ferry / gdcmanon <= 1).
 *
 * Warm page cache for both (the media was just written and one unmeasured pass of each runs
 * first); each is measured `runs` times (FERRY_BENCH_RUNS, default 3), alternating, and the
 * median reported. Outputs go to fresh temporary folders, removed afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { runDeidentify } from '../main/commands/deidentify.ts';
import type { Io } from '../main/commands/io.ts';
import { makeMedia } from '../test/support/make-media.ts';
import { hasCommand } from '../test/support/tools.ts';
import {
  collectGarbage,
  formatNumber,
  log,
  median,
  mib,
  runsFromEnv,
  type BenchResult,
} from './harness.ts';

const execFileAsync = promisify(execFile);

const silent: Io = { stdout: () => undefined, stderr: () => undefined, isTty: false };

export async function benchDeid(): Promise<BenchResult[]> {
  const runs = runsFromEnv(3);
  const work = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-deid-'));
  try {
    log('making CT media: 4 series x 100 instances of 512 x 512 x 16 bit…');
    const media = await makeMedia({
      outDir: path.join(work, 'media'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 4,
      instancesPerSeries: 100,
      rows: 512,
      columns: 512,
      modalities: ['CT'],
      withDicomdir: false,
      extras: false,
      seed: 5,
    });
    log(`${media.totalInstances} instances, ${formatNumber(mib(media.totalBytes))} MiB`);
    if (media.totalBytes < 200 * 1000 * 1000) throw new Error('bench media under 200 MB');
    const keyFile = path.join(work, 'ferry.key');
    await writeFile(keyFile, Buffer.alloc(32, 7), { mode: 0o600 });

    let outputs = 0;
    const ferry = async (): Promise<number> => {
      const out = path.join(work, `ferry-out-${outputs++}`);
      collectGarbage();
      const started = performance.now();
      const status = await runDeidentify(
        [media.root, '--out', out, '--key-file', keyFile, '--concurrency', '4'],
        silent,
      );
      const ms = performance.now() - started;
      if (status !== 0) throw new Error(`ferry deidentify exited ${status}`);
      await rm(out, { recursive: true, force: true });
      return ms;
    };

    const haveGdcm = hasCommand('gdcmanon') && hasCommand('openssl');
    let gdcm: (() => Promise<number>) | undefined;
    if (haveGdcm) {
      await execFileAsync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=ferry-bench',
        '-keyout',
        path.join(work, 'bench-key.pem'),
        '-out',
        path.join(work, 'bench-cert.pem'),
      ]);
      gdcm = async (): Promise<number> => {
        const out = path.join(work, `gdcm-out-${outputs++}`);
        await mkdir(out);
        const started = performance.now();
        await execFileAsync(
          'gdcmanon',
          [
            '-e',
            '--certificate',
            path.join(work, 'bench-cert.pem'),
            '-r',
            '--continue',
            '-i',
            media.root,
            '-o',
            out,
          ],
          { maxBuffer: 64 * 1024 * 1024 },
        );
        const ms = performance.now() - started;
        await rm(out, { recursive: true, force: true });
        return ms;
      };
    } else {
      log('gdcmanon or openssl missing (Debian libgdcm-tools, openssl): Ferry measured alone');
    }

    // One unmeasured pass each: warm cache, JIT.
    await ferry();
    if (gdcm) await gdcm();
    const ferryTimes: number[] = [];
    const gdcmTimes: number[] = [];
    for (let round = 0; round < runs; round++) {
      if (round % 2 === 0 || !gdcm) {
        ferryTimes.push(await ferry());
        if (gdcm) gdcmTimes.push(await gdcm());
      } else {
        gdcmTimes.push(await gdcm());
        ferryTimes.push(await ferry());
      }
    }
    const ferryMs = median(ferryTimes);
    const megabytes = media.totalBytes / 1e6;
    log(`Ferry: ${formatNumber(ferryMs)} ms (${formatNumber(megabytes / (ferryMs / 1000))} MB/s)`);
    const results: BenchResult[] = [
      {
        name: `ferry deidentify, ${media.totalInstances} CT instances (${formatNumber(megabytes)} MB)`,
        value: ferryMs / 1000,
        unit: 's',
        note: `${formatNumber(megabytes / (ferryMs / 1000))} MB/s; scan + Basic Profile + streamed pixel data, concurrency 4`,
      },
    ];
    if (gdcm) {
      const gdcmMs = median(gdcmTimes);
      const ratio = ferryMs / gdcmMs;
      log(`gdcmanon: ${formatNumber(gdcmMs)} ms; ratio Ferry/gdcmanon ${formatNumber(ratio)}`);
      results.push({
        name: 'ferry deidentify vs gdcmanon (Basic Profile, same files)',
        value: ferryMs / 1000,
        unit: 's',
        baseline: gdcmMs / 1000,
        ratio,
        target: 'Ferry / gdcmanon <= 1.0x',
        pass: ratio <= 1,
        note: `gdcmanon -e --certificate (throw-away) -r: ${formatNumber(gdcmMs / 1000)} s`,
      });
    }
    return results;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
