import { randomBytes } from 'node:crypto';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../../../main/core/errors.ts';
import { loadOrCreateKeyFile } from '../../../main/core/upload/crypto.ts';
import { UploadJournal } from '../../../main/core/upload/journal.ts';
import { removeTempDirs, tempDir } from './helpers.ts';

afterAll(removeTempDirs);

const uid = (n: number): string => `1.2.826.0.1.3680043.8.498.${n}`;

async function filled(): Promise<{ file: string; key: Buffer }> {
  const key = randomBytes(32);
  const file = UploadJournal.fileFor(await tempDir(), key, 'https://portal.example', [
    uid(1),
    uid(2),
  ]);
  const journal = await UploadJournal.open(file, key);
  await journal.append({ t: 'open', v: 1, at: 'now', instances: 3, bytes: 30 });
  await journal.append({ t: 'sent', items: [{ uid: uid(1), sha256: 'a'.repeat(64), bytes: 10 }] });
  await journal.append({ t: 'confirmed', via: 'stow', uids: [uid(1)] });
  await journal.append({ t: 'failed', items: [{ uid: uid(2), code: 'instance-refused' }] });
  await journal.close();
  return { file, key };
}

describe('upload journal', () => {
  it('reads back what was appended, per instance', async () => {
    const { file, key } = await filled();
    const journal = await UploadJournal.open(file, key);
    expect(journal.recovered).toBe(4);
    expect(journal.stateOf(uid(1))).toBe('confirmed');
    expect(journal.entry(uid(1))).toMatchObject({ sha256: 'a'.repeat(64), bytes: 10, sends: 1 });
    expect(journal.stateOf(uid(2))).toBe('failed');
    expect(journal.stateOf(uid(3))).toBe('pending');
    await journal.close();
    const bytes = await readFile(file);
    expect(bytes.includes(uid(1))).toBe(false);
    expect(path.basename(file)).not.toContain('1.2.826');
  });

  it('loses nothing but the torn record when cut at any byte of the last record', async () => {
    const { file, key } = await filled();
    const full = (await stat(file)).size;
    const copy = await readFile(file);
    // The last record (failed) is at least 40 bytes: cut inside it everywhere.
    for (let cut = 1; cut < 40; cut++) {
      await writeFile(file, copy);
      await truncate(file, full - cut);
      const journal = await UploadJournal.open(file, key);
      expect(journal.recovered).toBe(3);
      expect(journal.truncatedBytes).toBeGreaterThan(0);
      expect(journal.stateOf(uid(1))).toBe('confirmed');
      expect(journal.stateOf(uid(2))).toBe('pending');
      // and appends after the cut are read back
      await journal.append({ t: 'confirmed', via: 'portal', uids: [uid(2)] });
      await journal.close();
      const again = await UploadJournal.open(file, key);
      expect(again.stateOf(uid(2))).toBe('confirmed');
      await again.close();
    }
  });

  it('refuses another key and a damaged record in the middle', async () => {
    const { file, key } = await filled();
    const error = await UploadJournal.open(file, randomBytes(32)).catch((e: unknown) => e);
    expect(isFerryError(error, 'journal-key')).toBe(true);
    const bytes = await readFile(file);
    bytes[40] = bytes[40]! ^ 0xff; // inside the first record
    await writeFile(file, bytes);
    expect(
      isFerryError(await UploadJournal.open(file, key).catch((e: unknown) => e), 'journal-key'),
    ).toBe(true);
  });

  it('is held by one process at a time', async () => {
    const { file, key } = await filled();
    await writeFile(`${file}.lock`, String(process.ppid)); // a live process that is not us
    expect(
      isFerryError(await UploadJournal.open(file, key).catch((e: unknown) => e), 'journal-busy'),
    ).toBe(true);
    await writeFile(`${file}.lock`, '999999999'); // a dead one: taken over
    const journal = await UploadJournal.open(file, key);
    await journal.close();
  });

  it('creates the CLI key file 0600 and reads the same key back', async () => {
    const file = path.join(await tempDir(), 'conf', 'journal.key');
    const key = await loadOrCreateKeyFile(file);
    expect(key).toHaveLength(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await loadOrCreateKeyFile(file)).equals(key)).toBe(true);
  });
});
