/**
 * Upload benchmark (issue 4, Proof): a generated study of 1 GiB (and 4 GiB) sent by Ferry's upload
 * engine (journal, hashing, per-instance answers, retries armed) against a minimal Node streaming
 * STOW-RS sender of the same files with the same batching and concurrency (no journal, no hash,
 * no de-identification), measured in the same run, alternating:
 *
 * - to a null STOW-RS sink (a child process that reads every part's header and answers with a
 *   full ReferencedSOPSequence, storing nothing): the client's own throughput;
 * - to a real Orthanc over DICOMweb (a fresh storage per run): what a PACS takes;
 * - Ferry's peak RSS while sending (target < 250 MB for 1 GiB and for 4 GiB).
 *
 * Targets: Ferry >= 0.9x the baseline's throughput; peak RSS < 250 MB at both sizes.
 * Everything is warm-cache (the study was just written). Media are deleted afterwards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import { readInstanceHeader } from '../main/core/dicom/instance.ts';
import { createHttp } from '../main/core/link/http.ts';
import { scanMedia } from '../main/core/media/scan.ts';
import { runStow } from '../main/core/upload/engine.ts';
import { UploadJournal } from '../main/core/upload/journal.ts';
import { fileSource, itemsFromScan, type UploadItem } from '../main/core/upload/source.ts';
import { MultipartParser, parseMediaType } from '../portal/multipart.ts';
import { makeMedia } from '../test/support/make-media.ts';
import { missingOrthanc, startOrthanc } from '../test/support/orthanc.ts';
import {
  collectGarbage,
  formatNumber,
  log,
  median,
  mib,
  RssSampler,
  type BenchResult,
} from './harness.ts';

const SETTINGS = { concurrency: 3, batchCount: 50, batchBytes: 64 * 1024 * 1024 };
const RSS_TARGET_MB = 250;
const RATIO_TARGET = 0.9;

// ---------------------------------------------------------------------------------------------
// The null sink (runs in its own process so its work does not land on the sender's CPU or RSS)

function runNullSink(): void {
  const server = http.createServer((req, res) => {
    const boundary = parseMediaType(req.headers['content-type'])?.params.boundary;
    if (req.method !== 'POST' || boundary === undefined) {
      res.writeHead(415).end();
      return;
    }
    const parser = new MultipartParser(boundary);
    const referenced: unknown[] = [];
    let head: Buffer[] = [];
    let headBytes = 0;
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      for (const event of parser.write(chunk)) {
        if (event.kind === 'part-start') {
          head = [];
          headBytes = 0;
          size = 0;
        } else if (event.kind === 'part-data') {
          size += event.data.length;
          if (headBytes < 65536) {
            const slice = Buffer.from(event.data.subarray(0, 65536 - headBytes));
            head.push(slice);
            headBytes += slice.length;
          }
        } else {
          const read = readInstanceHeader(Buffer.concat(head), { fileSize: size });
          if (read.kind === 'dicom') {
            referenced.push({
              '00081150': { vr: 'UI', Value: [read.header.sopClassUid] },
              '00081155': { vr: 'UI', Value: [read.header.sopInstanceUid] },
            });
          }
        }
      }
    });
    req.on('end', () => {
      const body = JSON.stringify({ '00081199': { vr: 'SQ', Value: referenced } });
      res.writeHead(200, {
        'content-type': 'application/dicom+json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(`${(server.address() as AddressInfo).port}\n`);
  });
}

async function startNullSink(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(import.meta.url), '--null-stow-sink'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`null sink exited with ${code}`)));
  });
  return { url: `http://127.0.0.1:${line.trim()}/studies`, child };
}

// ---------------------------------------------------------------------------------------------
// The baseline: the least a streaming STOW-RS sender must do

async function baselineSend(
  url: string,
  root: string,
  items: readonly UploadItem[],
): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: SETTINGS.concurrency });
  const batches: UploadItem[][] = [];
  let current: UploadItem[] = [];
  let bytes = 0;
  for (const item of items) {
    if (
      current.length > 0 &&
      (current.length >= SETTINGS.batchCount || bytes + item.bytes > SETTINGS.batchBytes)
    ) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) batches.push(current);
  let next = 0;
  const send = async (batch: UploadItem[]): Promise<void> => {
    const boundary = randomBytes(12).toString('hex');
    const head = `--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`;
    const length =
      batch.reduce((n, i) => n + head.length + i.bytes + 2, 0) + `--${boundary}--\r\n`.length;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(url, {
        method: 'POST',
        agent,
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          'content-length': length,
          accept: 'application/dicom+json',
        },
      });
      req.on('error', reject);
      req.on('response', (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`)),
        );
      });
      void (async () => {
        for (const item of batch) {
          req.write(head);
          for await (const chunk of createReadStream(path.join(root, item.path), {
            highWaterMark: 1024 * 1024,
          })) {
            if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
          }
          req.write('\r\n');
        }
        req.end(`--${boundary}--\r\n`);
      })().catch(reject);
    });
  };
  await Promise.all(
    Array.from({ length: SETTINGS.concurrency }, async () => {
      while (next < batches.length) await send(batches[next++]!);
    }),
  );
  agent.destroy();
}

// ---------------------------------------------------------------------------------------------
// Ferry's engine, as the session drives it (journal on disk, hashing, per-instance answers)

async function ferrySend(
  url: string,
  root: string,
  items: readonly UploadItem[],
  rss?: RssSampler,
): Promise<void> {
  const journalDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-journal-'));
  const key = randomBytes(32);
  const journal = await UploadJournal.open(path.join(journalDir, 'bench.journal'), key);
  const files = fileSource(root, { pooled: true }); // as the session reads the media
  try {
    const result = await runStow({
      http: createHttp({ maxSockets: SETTINGS.concurrency + 2 }),
      stowUrl: url,
      items,
      source: files.source,
      exactLengths: true,
      journal,
      ...SETTINGS,
      onEvent: () => rss?.sample(),
    });
    if (result.failures.length > 0 || result.confirmed.length !== items.length) {
      throw new Error(
        `ferry: ${result.confirmed.length} of ${items.length} confirmed, ${result.failures.length} failed`,
      );
    }
  } finally {
    files.close();
    await journal.close();
    await rm(journalDir, { recursive: true, force: true });
  }
}

async function timed(run: () => Promise<void>): Promise<number> {
  collectGarbage();
  const started = performance.now();
  await run();
  return (performance.now() - started) / 1000;
}

interface Measured {
  readonly seconds: number;
  /** Process CPU time (user + system, every thread) during the send. */
  readonly cpuSeconds: number;
  readonly peakRss: number;
}

/**
 * One timed send. Both senders are measured the same way: the same 5 ms RSS sampling timer and
 * the same CPU accounting, so neither pays for a measurement the other does not.
 */
async function measured(send: (rss: RssSampler) => Promise<void>): Promise<Measured> {
  collectGarbage();
  const rss = new RssSampler().start();
  const cpu = process.cpuUsage();
  const started = performance.now();
  await send(rss);
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6, peakRss: rss.stop() };
}

/** Alternating runs of each sender to the null sink; medians, since the machine is shared. */
async function nullSinkRounds(
  label: string,
  url: string,
  study: { root: string; items: UploadItem[]; bytes: number },
  runs: number,
): Promise<BenchResult[]> {
  const mibs = mib(study.bytes);
  const gib = study.bytes / 1024 ** 3;
  const by: Record<'ferry' | 'baseline', Measured[]> = { ferry: [], baseline: [] };
  for (let round = 0; round < runs; round++) {
    const order =
      round % 2 === 0 ? (['baseline', 'ferry'] as const) : (['ferry', 'baseline'] as const);
    for (const who of order) {
      by[who].push(
        await measured((rss) =>
          who === 'ferry'
            ? ferrySend(url, study.root, study.items, rss)
            : baselineSend(url, study.root, study.items),
        ),
      );
    }
    const last = (who: 'ferry' | 'baseline'): string => {
      const run = by[who].at(-1)!;
      return `${who} ${formatNumber(mibs / run.seconds)} MiB/s (CPU ${formatNumber(run.cpuSeconds)} s)`;
    };
    log(
      `${label} round ${round + 1}: ${last('baseline')}, ${last('ferry')}, load ${formatNumber(os.loadavg()[0]!)}`,
    );
  }
  const time = (who: 'ferry' | 'baseline'): number => median(by[who].map((r) => r.seconds));
  const cpu = (who: 'ferry' | 'baseline'): number => median(by[who].map((r) => r.cpuSeconds));
  const peak = (who: 'ferry' | 'baseline'): number => Math.max(...by[who].map((r) => r.peakRss));
  return [
    {
      name: `throughput to a null STOW-RS sink, ${label}`,
      value: mibs / time('ferry'),
      unit: 'MiB/s',
      baseline: mibs / time('baseline'),
      target: `>= ${RATIO_TARGET}x baseline`,
      pass: time('baseline') / time('ferry') >= RATIO_TARGET,
      note: `${study.items.length} instances, batches of ${SETTINGS.batchCount} / ${mib(SETTINGS.batchBytes)} MiB, ${SETTINGS.concurrency} in flight, median of ${runs}, alternating`,
    },
    {
      name: `CPU time per GiB sent, ${label}`,
      value: cpu('ferry') / gib,
      unit: 's',
      baseline: cpu('baseline') / gib,
      note: 'process CPU (user + system, all threads: Ferry hashes on its own thread), medians; the sink runs apart',
    },
    {
      name: `peak RSS while sending ${label}`,
      value: mib(peak('ferry')),
      unit: 'MiB',
      baseline: mib(peak('baseline')),
      target: `< ${RSS_TARGET_MB} MB`,
      pass: peak('ferry') < RSS_TARGET_MB * 1e6,
      note: 'the whole bench process (the sink runs apart); baseline = the minimal sender, same sampling',
    },
  ];
}

async function makeStudy(
  gib: number,
): Promise<{ dir: string; root: string; items: UploadItem[]; bytes: number }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-bench-upload-'));
  const started = performance.now();
  // 1024 x 1024 x 16 bits: 2 MiB per instance, 512 per GiB, in 4 series.
  const media = await makeMedia({
    outDir: path.join(dir, 'disc'),
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 4,
    instancesPerSeries: 128 * gib,
    rows: 1024,
    columns: 1024,
    withDicomdir: false,
    extras: false,
    seed: 4000 + gib,
  });
  const items = itemsFromScan(await scanMedia(media.root));
  const bytes = items.reduce((n, i) => n + i.bytes, 0);
  log(
    `generated ${items.length} instances, ${formatNumber(mib(bytes))} MiB in ${formatNumber((performance.now() - started) / 1000)} s`,
  );
  return { dir, root: media.root, items, bytes };
}

export interface UploadBenchOptions {
  /** Alternating runs of each sender to the null sink; the median is reported. */
  readonly runs: number;
  readonly withOrthanc: boolean;
  readonly with4GiB: boolean;
}

export async function benchUpload(
  options: Partial<UploadBenchOptions> = {},
): Promise<BenchResult[]> {
  const { runs, withOrthanc, with4GiB } = {
    runs: 3,
    withOrthanc: true,
    with4GiB: true,
    ...options,
  };
  const results: BenchResult[] = [];
  const sink = await startNullSink();
  try {
    const study = await makeStudy(1);
    try {
      const mibs = mib(study.bytes);
      results.push(...(await nullSinkRounds('1 GiB', sink.url, study, runs)));

      const why = missingOrthanc();
      if (withOrthanc && why === undefined) {
        const times: Record<'ferry' | 'baseline', number> = { ferry: 0, baseline: 0 };
        for (const who of ['baseline', 'ferry'] as const) {
          const orthanc = await startOrthanc();
          try {
            const url = `${orthanc.dicomWebUrl}/studies`;
            times[who] = await timed(() =>
              who === 'ferry'
                ? ferrySend(url, study.root, study.items)
                : baselineSend(url, study.root, study.items),
            );
            const stored = await orthanc.listInstances();
            if (stored.length !== study.items.length)
              throw new Error(`Orthanc holds ${stored.length} of ${study.items.length}`);
          } finally {
            await orthanc.dispose();
          }
          log(`Orthanc: ${who} ${formatNumber(mibs / times[who])} MiB/s`);
        }
        results.push({
          name: 'throughput to Orthanc (DICOMweb), 1 GiB',
          value: mibs / times.ferry,
          unit: 'MiB/s',
          baseline: mibs / times.baseline,
          target: `>= ${RATIO_TARGET}x baseline`,
          pass: times.baseline / times.ferry >= RATIO_TARGET,
          note: 'one run each, fresh Orthanc storage per run; Orthanc writing to disk bounds both',
        });
      } else if (withOrthanc) {
        log(`SKIP Orthanc: ${why}`);
      }
    } finally {
      await rm(study.dir, { recursive: true, force: true });
    }

    if (with4GiB) {
      const big = await makeStudy(4);
      try {
        results.push(...(await nullSinkRounds('4 GiB', sink.url, big, runs)));
      } finally {
        await rm(big.dir, { recursive: true, force: true });
      }
    }
  } finally {
    sink.child.kill();
  }
  return results;
}

if (process.argv.includes('--null-stow-sink')) runNullSink();
