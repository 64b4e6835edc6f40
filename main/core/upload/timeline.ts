/**
 * The status timelines kept on disk, so the app shows where a transfer stands after it was closed
 * and reopened, even offline. One sealed file per transfer (timelines/<transferId>.status),
 * replaced atomically (write, fsync, rename); the portal's sentences are kept word for word.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import type { TransferStatus } from '../link/model.ts';
import { deriveKey, seal, unseal } from './crypto.ts';

const SALT_BYTES = 16;

export interface KeptTimeline {
  readonly transferId: string;
  /** When Ferry last read it from the portal. */
  readonly readAt: string;
  readonly status: TransferStatus;
}

function timelineFile(journalDir: string, transferId: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(transferId)) throw new Error('not a transfer id');
  return path.join(journalDir, 'timelines', `${transferId}.status`);
}

export async function saveTimeline(
  journalDir: string,
  key: Buffer,
  status: TransferStatus,
  now = new Date(),
): Promise<void> {
  const file = timelineFile(journalDir, status.transferId);
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const kept: KeptTimeline = { transferId: status.transferId, readAt: now.toISOString(), status };
  const salt = randomBytes(SALT_BYTES);
  const sealed = seal(deriveKey(key, salt, 'timeline'), Buffer.from(JSON.stringify(kept)));
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(Buffer.concat([salt, sealed]));
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, file);
}

/** The kept timeline of a transfer, or undefined when none was kept (or it does not open). */
export async function readTimeline(
  journalDir: string,
  key: Buffer,
  transferId: string,
): Promise<KeptTimeline | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(timelineFile(journalDir, transferId));
  } catch {
    return undefined;
  }
  try {
    const salt = bytes.subarray(0, SALT_BYTES);
    const plain = unseal(deriveKey(key, salt, 'timeline'), bytes.subarray(SALT_BYTES));
    return JSON.parse(plain.toString('utf8')) as KeptTimeline;
  } catch {
    return undefined;
  }
}

/** Every kept timeline, newest reading first. */
export async function listTimelines(journalDir: string, key: Buffer): Promise<KeptTimeline[]> {
  let names: string[];
  try {
    names = await readdir(path.join(journalDir, 'timelines'));
  } catch {
    return [];
  }
  const kept: KeptTimeline[] = [];
  for (const name of names) {
    if (!name.endsWith('.status')) continue;
    const timeline = await readTimeline(journalDir, key, name.slice(0, -'.status'.length));
    if (timeline) kept.push(timeline);
  }
  return kept.sort((a, b) => b.readAt.localeCompare(a.readAt));
}
