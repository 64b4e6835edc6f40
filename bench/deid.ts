/**
 * De-identification benchmark: generated CT media of at least 200 MB (no DICOMDIR, so Ferry
 * opens every file to find the images), de-identified on the same files by `ferry deidentify`
 * (bin/ferry.cjs: folder walk, each file read once, Basic Profile, header rewrite, pixel data
 * passed through, one file per instance) and by Debian's gdcmanon (libgdcm-tools) with its Basic
 * Profile (PS3.15 E.1.1; gdcmanon needs a certificate: a throw-away one made by openssl).
 * Target: Ferry no slower than gdcmanon (ratio Ferry / gdcmanon <= 1).
 *
 * Fair by construction: both are whole processes started the same way (process start-up,
 * module loading and the report are in Ferry's time, as they are in gdcmanon's), both read the
 * same files from a warm page cache and write one Part 10 file per instance to a new folder.
 * Ferry runs as users run it: bin/ferry.cjs with the prebuilt bundle (`npm run build:cli`,
 * dist/cli) and its code cache, which the unmeasured first run writes (as a user's first run
 * does). The bundle is built before the measurements and again before any run it would be
 * stale for (bin/ferry.cjs falls back to compiling the TypeScript when a source is newer).
 * Each is measured `runs` times (FERRY_BENCH_RUNS, default 15), in pairs run back to back,
 * alternating which goes first, after one unmeasured pass each. The target is judged on the
 * median of the pairs' ratios: a slow spell of the machine (runs of both tools here range from
 * 0.3 to 0.9 s) lengthens both runs of a pair and cancels out of its ratio, where a ratio of
 * the two medians can pair one tool's quiet runs with the other's slow ones. Medians of each
 * tool and that ratio are printed too. CPU time (user + system, from /usr/bin/time when
 * present) is reported beside wall time: on a machine busy with other work the wall time
 * follows the share of CPU each process gets, the CPU time does not.
 *
 * Two things of the machine, not of either tool, are kept out of the figures:
 * - NODE_EXTRA_CA_CERTS. Where it is set (a TLS-inspecting proxy's certificate, as on build
 *   machines), every Node.js 20 process parses the whole certificate file before running any
 *   code: 80 ms on the machine this was written on. `ferry deidentify` opens no connection.
 *   Both tools run without it, and the bench prints what it costs a process here.
 * - The file system's handling of deleted files. Files deleted within the last minute (five,
 *   while the inode table is unwritten) make ext4 without a journal skip their inodes, one by
 *   one, when the next files are created: writing 400 files right after deleting the previous
 *   run's 400 took up to twice as long, whichever tool ran. (Files deleted by anything else on
 *   the machine shortly before do the same: a run then takes up to 0.5 s more.)
 *   Deleting nothing is no better: 210 MB of new page cache per run is slow to allocate on a
 *   virtual machine. So each run's files are emptied (their pages freed, their inodes kept)
 *   and flushed, untimed, and deleted when the bench ends.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { makeMedia } from '../test/support/make-media.ts';
import { hasCommand } from '../test/support/tools.ts';
import { formatNumber, log, median, mib, runsFromEnv, type BenchResult } from './harness.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');
const ferryBin = path.join(repoRoot, 'bin/ferry.cjs');
const buildCli = path.join(repoRoot, 'scripts/build-cli.js');

/** True when dist/cli is missing or older than a file it was built from (as bin/ferry.cjs checks). */
function bundleIsStale(): boolean {
  try {
    const manifest = JSON.parse(
      readFileSync(path.join(repoRoot, 'dist/cli/sources.json'), 'utf8'),
    ) as { builtAt: number; sources: string[] };
    return manifest.sources.some(
      (source) =>
        (statSync(path.join(repoRoot, source), { throwIfNoEntry: false })?.mtimeMs ?? 0) >
        manifest.builtAt,
    );
  } catch {
    return true;
  }
}
const timeCommand = '/usr/bin/time';

interface ProcessTime {
  readonly wallMs: number;
  /** User + system CPU of the process and its threads; undefined without /usr/bin/time. */
  readonly cpuMs: number | undefined;
}

/** Runs `command args` as a whole process; its wall time, and its CPU time when measurable. */
async function timeProcess(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<ProcessTime> {
  const withTime = existsSync(timeCommand);
  const started = performance.now();
  const { stderr } = await execFileAsync(
    withTime ? timeCommand : command,
    withTime ? ['-f', 'ferry-bench-cpu %U %S', command, ...args] : args,
    { maxBuffer: 64 * 1024 * 1024, env },
  );
  const wallMs = performance.now() - started;
  const line = /ferry-bench-cpu ([\d.]+) ([\d.]+)/u.exec(stderr);
  return {
    wallMs,
    cpuMs: line ? (Number(line[1]) + Number(line[2])) * 1000 : undefined,
  };
}

/**
 * Frees a finished run's output, untimed: its files are emptied, not deleted (see above), and
 * the file system is flushed so that no writing of this run is left for the next.
 */
async function settleOutput(out: string): Promise<void> {
  const entries = await readdir(out, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    if (entry.isFile()) await truncate(path.join(entry.parentPath, entry.name), 0);
  }
  if (hasCommand('sync')) await execFileAsync('sync');
}

/** The environment both tools run in: this one without NODE_EXTRA_CA_CERTS (see above). */
function benchEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_EXTRA_CA_CERTS;
  return env;
}

/**
 * What NODE_EXTRA_CA_CERTS costs a Node.js process here: `node -e 0` with and without it,
 * alternating, medians of 7. Undefined when it is not set.
 */
async function extraCaCertsCost(): Promise<{ withMs: number; withoutMs: number } | undefined> {
  if (!process.env.NODE_EXTRA_CA_CERTS) return undefined;
  const withTimes: number[] = [];
  const withoutTimes: number[] = [];
  for (let i = 0; i < 7; i++) {
    for (const [env, times] of [
      [process.env, withTimes],
      [benchEnvironment(), withoutTimes],
    ] as const) {
      const started = performance.now();
      await execFileAsync(process.execPath, ['-e', '0'], { env });
      times.push(performance.now() - started);
    }
  }
  return { withMs: median(withTimes), withoutMs: median(withoutTimes) };
}

function loadText(): string {
  return os
    .loadavg()
    .map((load) => formatNumber(load))
    .join(' ');
}

export async function benchDeid(): Promise<BenchResult[]> {
  const runs = runsFromEnv(15);
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

    log('building the ferry CLI bundle (npm run build:cli): Ferry is timed as installed, prebuilt');
    const env = benchEnvironment();
    const ferryEnv = { ...env, FERRY_CODE_CACHE_DIR: path.join(work, 'code-cache') };
    await execFileAsync(process.execPath, [buildCli]);
    let rebuilds = 0;
    let outputs = 0;
    const ferry = async (): Promise<ProcessTime> => {
      if (bundleIsStale()) {
        // A source changed since the build (an edit elsewhere): bin/ferry.cjs would compile it.
        await execFileAsync(process.execPath, [buildCli]);
        rebuilds++;
      }
      const out = path.join(work, `ferry-out-${outputs++}`);
      const time = await timeProcess(
        process.execPath,
        [ferryBin, 'deidentify', media.root, '--out', out, '--key-file', keyFile],
        ferryEnv,
      );
      await settleOutput(out);
      return time;
    };

    const haveGdcm = hasCommand('gdcmanon') && hasCommand('openssl');
    let gdcm: (() => Promise<ProcessTime>) | undefined;
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
      gdcm = async (): Promise<ProcessTime> => {
        const out = path.join(work, `gdcm-out-${outputs++}`);
        await mkdir(out);
        const time = await timeProcess(
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
          env,
        );
        await settleOutput(out);
        return time;
      };
    } else {
      log('gdcmanon or openssl missing (Debian libgdcm-tools, openssl): Ferry measured alone');
    }

    const loadBefore = loadText();
    // One unmeasured pass each: warm page cache (and tsx's transform cache).
    await ferry();
    if (gdcm) await gdcm();
    const ferryTimes: ProcessTime[] = [];
    const gdcmTimes: ProcessTime[] = [];
    for (let round = 0; round < runs; round++) {
      if (round % 2 === 0 || !gdcm) {
        ferryTimes.push(await ferry());
        if (gdcm) gdcmTimes.push(await gdcm());
      } else {
        gdcmTimes.push(await gdcm());
        ferryTimes.push(await ferry());
      }
    }
    const load = `load average ${loadBefore} before, ${loadText()} after (${os.cpus().length} CPUs)`;
    log(load);
    const caCost = await extraCaCertsCost();
    if (caCost) {
      log(
        `NODE_EXTRA_CA_CERTS is set here and was left out of both tools' runs: it costs every ` +
          `Node.js process ${formatNumber(caCost.withMs - caCost.withoutMs)} ms at start-up ` +
          `(node -e 0: ${formatNumber(caCost.withMs)} ms with it, ${formatNumber(caCost.withoutMs)} ms without)`,
      );
    }
    if (rebuilds > 0) log(`sources changed during the runs: bundle rebuilt ${rebuilds} times`);
    const wall = (times: ProcessTime[]): number => median(times.map((time) => time.wallMs));
    const cpu = (times: ProcessTime[]): number | undefined =>
      times.every((time) => time.cpuMs !== undefined)
        ? median(times.map((time) => time.cpuMs!))
        : undefined;
    const ferryMs = wall(ferryTimes);
    const ferryCpu = cpu(ferryTimes);
    const megabytes = media.totalBytes / 1e6;
    log(
      `Ferry: ${formatNumber(ferryMs)} ms (${formatNumber(megabytes / (ferryMs / 1000))} MB/s)` +
        (ferryCpu !== undefined ? `, CPU ${formatNumber(ferryCpu)} ms` : '') +
        `; runs ${ferryTimes.map((time) => formatNumber(time.wallMs)).join(', ')} ms`,
    );
    const results: BenchResult[] = [
      {
        name: `ferry deidentify, ${media.totalInstances} CT instances (${formatNumber(megabytes)} MB)`,
        value: ferryMs / 1000,
        unit: 's',
        note: `${formatNumber(megabytes / (ferryMs / 1000))} MB/s; whole process (node bin/ferry.cjs, prebuilt bundle dist/cli): start-up, folder walk, Basic Profile, pixel data passed through, report; median of ${runs}`,
      },
    ];
    if (gdcm) {
      const gdcmMs = wall(gdcmTimes);
      const gdcmCpu = cpu(gdcmTimes);
      // Round i's two runs were back to back (see above).
      const pairRatios = ferryTimes.map((time, i) => time.wallMs / gdcmTimes[i]!.wallMs);
      const ratio = median(pairRatios);
      log(
        `gdcmanon: ${formatNumber(gdcmMs)} ms` +
          (gdcmCpu !== undefined ? `, CPU ${formatNumber(gdcmCpu)} ms` : '') +
          `; runs ${gdcmTimes.map((time) => formatNumber(time.wallMs)).join(', ')} ms`,
      );
      log(
        `Ferry/gdcmanon pair by pair: ${pairRatios.map((r) => formatNumber(r)).join(', ')}; ` +
          `median ${formatNumber(ratio)} (ratio of the medians ${formatNumber(ferryMs / gdcmMs)})`,
      );
      results.push({
        name: 'ferry deidentify vs gdcmanon (Basic Profile, same files)',
        value: ferryMs / 1000,
        unit: 's',
        baseline: gdcmMs / 1000,
        ratio,
        target: 'Ferry / gdcmanon <= 1.0x (median of pairs)',
        pass: ratio <= 1,
        note:
          `gdcmanon -e --certificate (throw-away) -r, whole process: ${formatNumber(gdcmMs / 1000)} s; ${load}` +
          (caCost
            ? `; both without NODE_EXTRA_CA_CERTS, which adds ${formatNumber(caCost.withMs - caCost.withoutMs)} ms to a Node.js process here`
            : ''),
      });
      if (ferryCpu !== undefined && gdcmCpu !== undefined) {
        results.push({
          name: 'CPU time, ferry deidentify vs gdcmanon',
          value: ferryCpu / 1000,
          unit: 's',
          baseline: gdcmCpu / 1000,
          ratio: ferryCpu / gdcmCpu,
          note: 'user + system of the whole process, all threads (/usr/bin/time); informational',
        });
      }
    }
    return results;
  } finally {
    await rm(work, { recursive: true, force: true });
    // Flushed: ext4 without a journal (as here) avoids reusing a deleted file's inode for 60 s,
    // or 300 s while its inode table is unwritten; each file created meanwhile in that block
    // group steps over every such inode, so the next bench would pay for these ~8,000.
    if (hasCommand('sync')) await execFileAsync('sync');
  }
}
