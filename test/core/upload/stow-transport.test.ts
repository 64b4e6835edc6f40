/**
 * One STOW-RS request through axios with the body's own transport (stow.ts): against a loopback
 * server that parses the multipart body as the portal does and hashes each part as received.
 * The SHA-256 a request reports for each instance is the one of the bytes the server got; file
 * chunks reach the hasher from the shared pool only after the socket took them (no copy), and
 * when a stage between body and request makes its own buffers, every chunk is hashed from a copy
 * instead. Whatever happens to the request, every pool slot comes back.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../../main/core/errors.ts';
import { createHttp } from '../../../main/core/link/http.ts';
import { scanMedia } from '../../../main/core/media/scan.ts';
import {
  releasePoolChunk,
  sharedHasher,
  takePoolChunk,
  type Hasher,
} from '../../../main/core/upload/hash.ts';
import { fileSource, itemsFromScan, type UploadItem } from '../../../main/core/upload/source.ts';
import { sendBatch, sentOf } from '../../../main/core/upload/stow.ts';
import { MultipartParser, parseMediaType } from '../../../portal/multipart.ts';
import { makeMedia } from '../../support/make-media.ts';
import { removeTempDirs, tempDir } from './helpers.ts';

interface Received {
  /** SHA-256 of each part's content, in body order. */
  readonly parts: string[];
}

type Mode = 'answer' | 'too-large-at-once' | 'slow';

interface Sink {
  readonly url: string;
  mode: Mode;
  /** UIDs named as stored, in part order. */
  uids: string[];
  readonly received: Received[];
  close(): Promise<void>;
}

/** A STOW-RS endpoint that stores nothing: it parses the body and names every part as stored. */
async function startSink(): Promise<Sink> {
  const sink: Omit<Sink, 'url' | 'close'> = { mode: 'answer', uids: [], received: [] };
  const server = http.createServer((req, res) => {
    const boundary = parseMediaType(req.headers['content-type'])?.params.boundary;
    if (boundary === undefined) {
      res.writeHead(415).end();
      return;
    }
    if (sink.mode === 'too-large-at-once') {
      // Answered before the body is read (Node discards the rest of it).
      const body = JSON.stringify({ error: { code: 'request-too-large', message: 'Too large.' } });
      res.writeHead(413, { 'content-type': 'application/json' }).end(body);
      return;
    }
    const parser = new MultipartParser(boundary);
    const received: Received = { parts: [] };
    sink.received.push(received);
    let hash = createHash('sha256');
    const take = (chunk: Buffer): void => {
      for (const event of parser.write(chunk)) {
        if (event.kind === 'part-start') hash = createHash('sha256');
        else if (event.kind === 'part-data') hash.update(event.data);
        else received.parts.push(hash.digest('hex'));
      }
    };
    if (sink.mode === 'slow') {
      // Reads 64 KiB every 20 ms: the body stays in flight.
      req.pause();
      const timer = setInterval(() => {
        let chunk: Buffer | null;
        let got = 0;
        while (got < 65536 && (chunk = req.read() as Buffer | null) !== null) {
          take(chunk);
          got += chunk.length;
        }
      }, 20);
      req.on('close', () => clearInterval(timer));
      req.on('end', () => clearInterval(timer));
    } else {
      req.on('data', take);
    }
    req.on('end', () => {
      const referenced = received.parts.map((_, i) => ({
        '00081155': { vr: 'UI', Value: [sink.uids[i]] },
      }));
      const body = JSON.stringify({ '00081199': { vr: 'SQ', Value: referenced } });
      res.writeHead(200, { 'content-type': 'application/dicom+json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(sink, {
    url: `http://127.0.0.1:${port}/dicomweb/studies`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** The hashing thread, with a record of how each chunk reached it. */
function recordingHasher(): {
  hasher: Hasher;
  updates: { owned: boolean; pooled: boolean }[];
} {
  const updates: { owned: boolean; pooled: boolean }[] = [];
  const inner = sharedHasher();
  return {
    updates,
    hasher: {
      begin() {
        const hash = inner.begin();
        return {
          update(chunk, owned) {
            updates.push({
              owned: owned === true,
              pooled: chunk.buffer instanceof SharedArrayBuffer,
            });
            hash.update(chunk, owned);
          },
          digest: () => hash.digest(),
          abort: () => hash.abort(),
        };
      },
      ready: () => inner.ready(),
    },
  };
}

/** Pool slots nobody holds (took them all, gave them back). */
function freeSlots(): number {
  const taken: Buffer[] = [];
  for (let chunk = takePoolChunk(); chunk !== undefined; chunk = takePoolChunk()) taken.push(chunk);
  for (const chunk of taken) releasePoolChunk(chunk);
  return taken.length;
}

/** Waits for the slots of a request that ended to come back (the request closes after). */
async function slotsBack(expected: number): Promise<number> {
  for (let i = 0; i < 100 && freeSlots() < expected; i++)
    await new Promise((resolve) => setTimeout(resolve, 20));
  return freeSlots();
}

let sink: Sink;
let root: string;
let items: UploadItem[];
const fileHash = new Map<string, string>();
let allSlots: number;

beforeAll(async () => {
  sink = await startSink();
  // 1024 x 1024 x 16 bits: 2 MiB and a header each, three pool chunks per instance.
  const media = await makeMedia({
    outDir: path.join(await tempDir('ferry-stow-transport-'), 'disc'),
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 4,
    rows: 1024,
    columns: 1024,
    withDicomdir: false,
    extras: false,
    seed: 7201,
  });
  root = media.root;
  items = itemsFromScan(await scanMedia(root));
  for (const item of items) {
    const bytes = await readFile(path.join(root, item.path));
    fileHash.set(item.sopInstanceUid, createHash('sha256').update(bytes).digest('hex'));
  }
  allSlots = freeSlots();
});

afterAll(async () => {
  await sink?.close();
  await removeTempDirs();
});

type SendOptions = Parameters<typeof sendBatch>[0];

/**
 * The disc's instances in one batch to the sink in `mode`, read through the shared pool; the
 * batch's result (or its error, thrown), once the files are closed and every pool slot is back.
 */
async function sendFromPool(
  mode: Sink['mode'],
  options: Partial<Pick<SendOptions, 'http' | 'hasher' | 'signal' | 'onBytes'>> = {},
): ReturnType<typeof sendBatch> {
  sink.mode = mode;
  sink.uids = items.map((i) => i.sopInstanceUid);
  sink.received.length = 0;
  const files = fileSource(root, { pooled: true });
  try {
    return await sendBatch({
      http: createHttp(),
      url: sink.url,
      items,
      source: files.source,
      exactLengths: true,
      ...options,
    });
  } finally {
    files.close();
    expect(await slotsBack(allSlots)).toBe(allSlots);
  }
}

describe('a STOW-RS request through axios', () => {
  it('hashes file chunks from the pool once the socket took them: the bytes the server got', async () => {
    expect(allSlots).toBeGreaterThan(0);
    const { hasher, updates } = recordingHasher();
    const result = await sendFromPool('answer', { hasher });
    expect(result.httpStatus).toBe(200);
    expect([...result.answer.referenced].sort()).toEqual([...sink.uids].sort());
    const got = sink.received[0]!.parts;
    expect(result.sent.map((s) => s.sha256)).toEqual(got);
    expect(result.sent.map((s) => s.sha256)).toEqual(
      items.map((i) => fileHash.get(i.sopInstanceUid)),
    );
    // Every chunk went to the hasher as the pool's own, never copied.
    expect(updates.length).toBeGreaterThanOrEqual(3 * items.length);
    expect(updates.every((u) => u.owned && u.pooled)).toBe(true);
  });

  it('hashes copies, still the bytes sent, when a stage between body and request re-chunks', async () => {
    const { hasher, updates } = recordingHasher();
    const client = createHttp();
    // Upload progress puts axios's own transform stream (64 KiB chunks) before the request.
    let progressed = 0;
    client.defaults.onUploadProgress = (event) => {
      progressed = event.loaded;
    };
    const result = await sendFromPool('answer', { http: client, hasher });
    expect(progressed).toBeGreaterThan(0);
    expect(result.sent.map((s) => s.sha256)).toEqual(sink.received[0]!.parts);
    expect(result.sent.map((s) => s.sha256)).toEqual(
      items.map((i) => fileHash.get(i.sopInstanceUid)),
    );
    expect(result.sent.length).toBe(items.length);
    // The first chunk may have gone through before the re-chunking showed; the rest are copies.
    expect(updates.filter((u) => !u.owned).length).toBeGreaterThanOrEqual(updates.length - 1);
  });

  it('an answer before the end of the body decides; nothing counts as sent in full', async () => {
    const error = await sendFromPool('too-large-at-once').catch((e: unknown) => e);
    expect(isFerryError(error, 'instance-too-large')).toBe(true);
    // Whatever went out before the answer, each instance reported sent has its right hash.
    for (const s of sentOf(error))
      expect(s.sha256).toBe(fileHash.get(items[s.index]!.sopInstanceUid));
  });

  it('cancelled mid-body: "cancelled", only whole instances reported sent, slots back', async () => {
    const controller = new AbortController();
    let bytes = 0;
    const error = await sendFromPool('slow', {
      signal: controller.signal,
      onBytes: (n) => {
        bytes += n;
        if (bytes > 3 * 1024 * 1024) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(isFerryError(error, 'cancelled')).toBe(true);
    const sent = sentOf(error);
    expect(sent.length).toBeLessThan(items.length);
    for (const s of sent) expect(s.sha256).toBe(fileHash.get(items[s.index]!.sopInstanceUid));
  });
});
