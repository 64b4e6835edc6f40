/**
 * The sending path straight into a real Orthanc (STOW-RS, no portal): the SHA-256 the journal
 * records is the one of the bytes on the media, whether the chunks move to the hashing thread
 * (file reads) or are copied (a source that keeps its memory); a failed instance in the middle
 * of a batch leaves the others' records right; concurrent journal appends share writes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { scanMedia } from '../../../main/core/media/scan.ts';
import { createHttp } from '../../../main/core/link/http.ts';
import { runStow } from '../../../main/core/upload/engine.ts';
import { inlineHasher, sharedHasher, takePoolChunk } from '../../../main/core/upload/hash.ts';
import { UploadJournal } from '../../../main/core/upload/journal.ts';
import {
  fileSource,
  itemsFromScan,
  type InstanceSource,
  type UploadItem,
} from '../../../main/core/upload/source.ts';
import { makeMedia } from '../../support/make-media.ts';
import { missingOrthanc, startOrthanc, type RunningOrthanc } from '../../support/orthanc.ts';
import { skipFor } from '../../support/tools.ts';
import { removeTempDirs, tempDir } from './helpers.ts';

const skip = skipFor(missingOrthanc());

let orthanc: RunningOrthanc;

beforeAll(async () => {
  if (skip) return;
  orthanc = await startOrthanc();
});

afterAll(async () => {
  await orthanc?.dispose();
  await removeTempDirs();
});

/** Instances of 1024 x 1024 x 16 bits: 2 MiB and a header, several read chunks each. */
async function largeMedia(
  instances: number,
  seed: number,
): Promise<{ root: string; items: UploadItem[] }> {
  const media = await makeMedia({
    outDir: path.join(await tempDir('ferry-engine-media-'), 'disc'),
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: instances,
    rows: 1024,
    columns: 1024,
    withDicomdir: false,
    extras: false,
    seed,
  });
  return { root: media.root, items: itemsFromScan(await scanMedia(media.root)) };
}

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}

async function send(
  items: UploadItem[],
  source: InstanceSource,
): Promise<{ result: Awaited<ReturnType<typeof runStow>>; journal: UploadJournal }> {
  const key = randomBytes(32);
  const file = path.join(await tempDir('ferry-engine-journal-'), 'test.journal');
  const journal = await UploadJournal.open(file, key);
  try {
    const result = await runStow({
      http: createHttp({ maxSockets: 4 }),
      stowUrl: `${orthanc.dicomWebUrl}/studies`,
      items,
      source,
      exactLengths: true,
      journal,
      concurrency: 2,
      batchCount: 2,
    });
    return { result, journal: await reopened(journal, file, key) };
  } catch (error) {
    await journal.close();
    throw error;
  }
}

async function reopened(journal: UploadJournal, file: string, key: Buffer): Promise<UploadJournal> {
  await journal.close();
  return UploadJournal.open(file, key);
}

describe.skipIf(skip)('sending into Orthanc (STOW-RS)', () => {
  it('records the SHA-256 of the bytes on the media for every instance, file chunks hashed from the shared pool', async () => {
    const media = await largeMedia(5, 7101);
    const files = fileSource(media.root, { pooled: true });
    const { result, journal } = await send(media.items, files.source);
    files.close();
    try {
      expect(result.failures).toEqual([]);
      expect([...result.confirmed].sort()).toEqual(media.items.map((i) => i.sopInstanceUid).sort());
      expect(
        (await orthanc.listInstances()).filter((u) => result.confirmed.includes(u)).length,
      ).toBe(media.items.length);
      for (const item of media.items) {
        const entry = journal.entry(item.sopInstanceUid);
        expect(entry?.state).toBe('confirmed');
        expect(entry?.bytes).toBe(item.bytes);
        expect(entry?.sha256).toBe(await sha256Of(path.join(media.root, item.path)));
      }
    } finally {
      await journal.close();
    }
  });

  it('copies chunks a source keeps (slices of one buffer) and leaves that memory intact', async () => {
    const media = await largeMedia(3, 7102);
    const kept = new Map<string, Buffer>();
    const source: InstanceSource = async (item) => {
      const whole = await readFile(path.join(media.root, item.path));
      kept.set(item.sopInstanceUid, whole);
      const slices: Buffer[] = [];
      for (let at = 0; at < whole.length; at += 300_000)
        slices.push(whole.subarray(at, at + 300_000));
      return {
        stream: Readable.from(slices),
        bytes: whole.length,
        sopInstanceUid: item.sopInstanceUid,
      };
    };
    const { result, journal } = await send(media.items, source);
    try {
      expect(result.failures).toEqual([]);
      expect(result.confirmed.length).toBe(media.items.length);
      for (const item of media.items) {
        const expected = await sha256Of(path.join(media.root, item.path));
        expect(journal.entry(item.sopInstanceUid)?.sha256).toBe(expected);
        // Not moved away (detached) nor changed by the send.
        const whole = kept.get(item.sopInstanceUid)!;
        expect(whole.length).toBe(item.bytes);
        expect(createHash('sha256').update(whole).digest('hex')).toBe(expected);
      }
    } finally {
      await journal.close();
    }
  });

  it('an unreadable instance in the middle of a batch: the others are confirmed with their own hashes', async () => {
    const media = await largeMedia(4, 7103);
    const gone = media.items[1]!;
    await rm(path.join(media.root, gone.path));
    const files = fileSource(media.root);
    const { result, journal } = await send(media.items, files.source);
    files.close();
    try {
      expect(result.failures.map((f) => [f.sopInstanceUid, f.code])).toEqual([
        [gone.sopInstanceUid, 'instance-unreadable'],
      ]);
      expect(journal.stateOf(gone.sopInstanceUid)).toBe('failed');
      expect(journal.entry(gone.sopInstanceUid)?.sha256).toBeUndefined();
      for (const item of media.items.filter((i) => i !== gone)) {
        expect(journal.stateOf(item.sopInstanceUid)).toBe('confirmed');
        expect(journal.entry(item.sopInstanceUid)?.sha256).toBe(
          await sha256Of(path.join(media.root, item.path)),
        );
      }
    } finally {
      await journal.close();
    }
  });
});

describe('hashing thread', () => {
  it('gives the digest of the chunks in order: moved, copied or from the shared pool', async () => {
    const parts = [randomBytes(1024 * 1024), randomBytes(700_000), randomBytes(3)];
    const expected = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
    const owned = parts.map((p) => {
      const own = Buffer.allocUnsafeSlow(p.length);
      p.copy(own);
      return own;
    });
    const hash = sharedHasher().begin();
    for (const chunk of owned) hash.update(chunk, true);
    expect(await hash.digest()).toBe(expected);
    // Moved to the thread, not copied: the sender's view is detached.
    expect(owned.every((chunk) => chunk.byteLength === 0)).toBe(true);

    const copied = sharedHasher().begin();
    const shared = Buffer.concat(parts);
    for (let at = 0; at < shared.length; at += 65536)
      copied.update(shared.subarray(at, at + 65536));
    expect(await copied.digest()).toBe(expected);
    expect(createHash('sha256').update(shared).digest('hex')).toBe(expected);

    const pooled = sharedHasher().begin();
    for (let at = 0; at < shared.length; at += 1024 * 1024) {
      const slot = takePoolChunk()!;
      const length = shared.copy(slot, 0, at, Math.min(shared.length, at + 1024 * 1024));
      pooled.update(slot.subarray(0, length), true);
    }
    expect(await pooled.digest()).toBe(expected);

    const inline = inlineHasher.begin();
    inline.update(shared);
    expect(await inline.digest()).toBe(expected);
  });
});

describe('journal group commit', () => {
  it('appends made together share writes, stay in order and all read back', async () => {
    const key = randomBytes(32);
    const file = path.join(await tempDir('ferry-engine-journal-'), 'group.journal');
    const journal = await UploadJournal.open(file, key);
    const uid = (n: number): string => `1.2.826.0.1.3680043.8.498.77.${n}`;
    const before = (await readFile(file)).length;
    const handle = await open(file, 'r');
    const fileHandle = Object.getPrototypeOf(handle) as { datasync: () => Promise<void> };
    await handle.close();
    const datasync = vi.spyOn(fileHandle, 'datasync');
    await Promise.all(
      Array.from({ length: 40 }, (_, n) =>
        journal.append({ t: 'sent', items: [{ uid: uid(n), sha256: 'b'.repeat(64), bytes: n }] }),
      ),
    );
    const syncs = datasync.mock.calls.length;
    datasync.mockRestore();
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThan(40);
    expect(journal.entry(uid(39))?.bytes).toBe(39);
    await journal.close();
    expect((await readFile(file)).length).toBeGreaterThan(before);
    const again = await UploadJournal.open(file, key);
    try {
      expect(again.recovered).toBe(40);
      expect([...again.entries.keys()]).toEqual(Array.from({ length: 40 }, (_, n) => uid(n)));
    } finally {
      await again.close();
    }
  });
});
