/**
 * De-identification benchmark: generated CT media of at least 200 MB (no DICOMDIR, so Ferry
 * opens every file to find the images), de-identified on the same files by `ferry deidentify`
 * (bin/ferry.js: folder walk, each file read once, Basic Profile, header rewrite, pixel data
 * passed through, one file per instance) and by Debian's gdcmanon (libgdcm-tools) with its Basic
 * Profile (PS3.15 E.1.1; gdcmanon needs a certificate: a throw-away one made by openssl).
 * Target: Ferry no slower than gdcmanon (ratio Ferry / gdcmanon <= 1).
 *
 * Fair by construction: both are whole processes started the same way (process start-up,
 * module loading and the report are in Ferry's time, as they are in gdcmanon's), both read the
 * same files from a warm page cache and write one Part 10 file per instance to a new folder.
 * Ferry runs as users run it: bin/ferry.js with the prebuilt bundle (`npm run build:cli`,
 * dist/cli), built before the measurements and again before any run it would be stale for
 * (bin/ferry.js falls back to compiling the TypeScript when a source is newer than the build).
 * Each is measured `runs` times (FERRY_BENCH_RUNS, default 5), alternating which goes first,
 * after one unmeasured pass each; medians are reported. CPU time (user + system, from
 * /usr/bin/time when present) is reported beside wall time: on a machine busy with other work
 * the wall time follows the share of CPU each process gets, the CPU time does not.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { makeMedia } from '../test/support/make-media.ts';
import { hasCommand } from '../test/support/tools.ts';
import { formatNumber, log, median, mib, runsFromEnv, type BenchResult } from './harness.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..');
const ferryBin = path.join(repoRoot, 'bin/ferry.js');
const buildCli = path.join(repoRoot, 'scripts/build-cli.js');

/** True when dist/cli is missing or older than a file it was built from (as bin/ferry.js checks). */
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
async function timeProcess(command: string, args: string[]): Promise<ProcessTime> {
  const withTime = existsSync(timeCommand);
  const started = performance.now();
  const { stderr } = await execFileAsync(
    withTime ? timeCommand : command,
    withTime ? ['-f', 'ferry-bench-cpu %U %S', command, ...args] : args,
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const wallMs = performance.now() - started;
  const line = /ferry-bench-cpu ([\d.]+) ([\d.]+)/u.exec(stderr);
  return {
    wallMs,
    cpuMs: line ? (Number(line[1]) + Number(line[2])) * 1000 : undefined,
  };
}

/**
 * Removes a run's output, then flushes the file system (untimed): writing the next run's 210 MB
 * right after deleting the last run's made that run pay for the deletion (ext4 frees and
 * discards the blocks at its next commit), by up to twice its time, whichever tool ran next.
 */
async function clearOutput(out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
  if (hasCommand('sync')) await execFileAsync('sync');
}

function loadText(): string {
  return os
    .loadavg()
    .map((load) => formatNumber(load))
    .join(' ');
}

export async function benchDeid(): Promise<BenchResult[]> {
  const runs = runsFromEnv(5);
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
    await execFileAsync(process.execPath, [buildCli]);
    let rebuilds = 0;
    let outputs = 0;
    const ferry = async (): Promise<ProcessTime> => {
      if (bundleIsStale()) {
        // A source changed since the build (an edit elsewhere): bin/ferry.js would compile it.
        await execFileAsync(process.execPath, [buildCli]);
        rebuilds++;
      }
      const out = path.join(work, `ferry-out-${outputs++}`);
      const time = await timeProcess(process.execPath, [
        ferryBin,
        'deidentify',
        media.root,
        '--out',
        out,
        '--key-file',
        keyFile,
        '--concurrency',
        '4',
      ]);
      await clearOutput(out);
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
        const time = await timeProcess('gdcmanon', [
          '-e',
          '--certificate',
          path.join(work, 'bench-cert.pem'),
          '-r',
          '--continue',
          '-i',
          media.root,
          '-o',
          out,
        ]);
        await clearOutput(out);
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
        note: `${formatNumber(megabytes / (ferryMs / 1000))} MB/s; whole process (node bin/ferry.js, prebuilt bundle dist/cli): start-up, folder walk, Basic Profile, pixel data passed through, concurrency 4; median of ${runs}`,
      },
    ];
    if (gdcm) {
      const gdcmMs = wall(gdcmTimes);
      const gdcmCpu = cpu(gdcmTimes);
      const ratio = ferryMs / gdcmMs;
      log(
        `gdcmanon: ${formatNumber(gdcmMs)} ms` +
          (gdcmCpu !== undefined ? `, CPU ${formatNumber(gdcmCpu)} ms` : '') +
          `; runs ${gdcmTimes.map((time) => formatNumber(time.wallMs)).join(', ')} ms; ratio Ferry/gdcmanon ${formatNumber(ratio)}`,
      );
      results.push({
        name: 'ferry deidentify vs gdcmanon (Basic Profile, same files)',
        value: ferryMs / 1000,
        unit: 's',
        baseline: gdcmMs / 1000,
        ratio,
        target: 'Ferry / gdcmanon <= 1.0x',
        pass: ratio <= 1,
        note: `gdcmanon -e --certificate (throw-away) -r, whole process: ${formatNumber(gdcmMs / 1000)} s; ${load}`,
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
  }
}
