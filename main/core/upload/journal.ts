/**
 * The upload journal: what has been sent and what the portal confirmed, per instance, so that a
 * crash, kill -9, power loss or reboot at any point loses nothing and a confirmed instance is
 * never sent again.
 *
 * File: "FERRYJ01" | salt (16) | records. A record is u32be length | AES-256-GCM(iv | JSON | tag)
 * with its sequence number as associated data, so records cannot be reordered or dropped from the
 * middle unnoticed. Appends are one write on an O_APPEND descriptor then fdatasync; the caller
 * goes on only after both (appends made meanwhile share the next write and fdatasync). A record
 * torn by a crash is the last one and is cut off on open; a damaged record anywhere else, or a
 * wrong key, refuses the journal (journal-key).
 *
 * Nothing is in clear: SOP Instance UIDs, hashes and portal addresses are inside the records, the
 * file name is an HMAC of the selection.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { FerryError } from '../errors.ts';
import { deriveKey, keyedName, seal, unseal } from './crypto.ts';

const MAGIC = Buffer.from('FERRYJ01');
const SALT_BYTES = 16;
const HEADER_BYTES = MAGIC.length + SALT_BYTES;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

export interface JournalTransfer {
  readonly portalUrl: string;
  readonly accountId: string;
  readonly linkFingerprint: string;
  readonly transferId: string;
  readonly urls: {
    readonly self: string;
    readonly instances: string;
    readonly commit: string;
    readonly stow: string;
  };
}

export type JournalRecord =
  | {
      readonly t: 'open';
      readonly v: 1;
      readonly at: string;
      readonly instances: number;
      readonly bytes: number;
    }
  | ({ readonly t: 'transfer'; readonly at: string } & JournalTransfer)
  /** The bytes went out in full; their hash is what the portal should hold. */
  | {
      readonly t: 'sent';
      readonly items: readonly {
        readonly uid: string;
        readonly sha256: string;
        readonly bytes: number;
      }[];
    }
  /** Listed in a STOW-RS ReferencedSOPSequence ('stow'), or named by the portal as held ('portal'). */
  | { readonly t: 'confirmed'; readonly via: 'stow' | 'portal'; readonly uids: readonly string[] }
  | {
      readonly t: 'failed';
      readonly items: readonly {
        readonly uid: string;
        readonly code: string;
        readonly detail?: string;
      }[];
    }
  | { readonly t: 'committed'; readonly transferId: string; readonly at: string }
  | {
      readonly t: 'finished';
      readonly transferId: string;
      readonly state: string;
      readonly at: string;
    };

export type InstanceState = 'pending' | 'sent' | 'confirmed' | 'failed';

export interface JournalEntry {
  state: InstanceState;
  sha256?: string;
  bytes?: number;
  /** Times the bytes went out in full (across runs). */
  sends: number;
  failure?: { code: string; detail?: string };
}

export class UploadJournal {
  readonly file: string;
  readonly #handle: FileHandle;
  readonly #key: Buffer;
  readonly #lockFile: string;
  #seq: number;
  /** The write in flight (never rejects). */
  #tail: Promise<void> = Promise.resolve();
  #flushing = false;
  #queued: {
    records: readonly JournalRecord[];
    resolve: () => void;
    reject: (error: Error) => void;
  }[] = [];
  #closed = false;

  /** Per SOP Instance UID; absent means pending. */
  readonly entries = new Map<string, JournalEntry>();
  transfer: JournalTransfer | undefined;
  /** Transfer ids committed by this journal. */
  readonly committed = new Set<string>();
  finished: { transferId: string; state: string } | undefined;
  /** Records read back on open (0 for a new journal). */
  readonly recovered: number;
  /** Bytes of a torn last record cut off on open. */
  readonly truncatedBytes: number;

  private constructor(
    file: string,
    handle: FileHandle,
    key: Buffer,
    lockFile: string,
    records: JournalRecord[],
    truncatedBytes: number,
  ) {
    this.file = file;
    this.#handle = handle;
    this.#key = key;
    this.#lockFile = lockFile;
    this.#seq = records.length;
    this.recovered = records.length;
    this.truncatedBytes = truncatedBytes;
    for (const record of records) this.#apply(record);
  }

  /** The journal file for a selection sent to a portal: the same file on every run. */
  static fileFor(
    journalDir: string,
    key: Buffer,
    portalUrl: string,
    sopInstanceUids: readonly string[],
  ): string {
    const name = keyedName(key, 'journal', portalUrl, ...[...sopInstanceUids].sort());
    return path.join(journalDir, `${name}.journal`);
  }

  static async open(file: string, masterKey: Buffer): Promise<UploadJournal> {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const lockFile = `${file}.lock`;
    await acquireLock(lockFile);
    try {
      let bytes: Buffer | undefined;
      try {
        bytes = await readFile(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      if (bytes === undefined || bytes.length < HEADER_BYTES) {
        // New (or a header torn before its first fsync): write the header whole, then rename.
        const temp = `${file}.${process.pid}.tmp`;
        const salt = randomBytes(SALT_BYTES);
        await writeFile(temp, Buffer.concat([MAGIC, salt]), { mode: 0o600 });
        const h = await open(temp, 'r+');
        await h.sync();
        await h.close();
        await rename(temp, file);
        await syncDir(path.dirname(file));
        bytes = Buffer.concat([MAGIC, salt]);
      }
      if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
        throw new FerryError('journal-key', { detail: 'not a Ferry upload journal' });
      }
      const key = deriveKey(
        masterKey,
        bytes.subarray(MAGIC.length, HEADER_BYTES),
        'upload journal',
      );
      const { records, validEnd } = readRecords(bytes, key);
      const handle = await open(file, constants.O_RDWR | constants.O_APPEND);
      if (validEnd < bytes.length) {
        await handle.truncate(validEnd);
        await handle.datasync();
      }
      return new UploadJournal(file, handle, key, lockFile, records, bytes.length - validEnd);
    } catch (error) {
      await rm(lockFile, { force: true });
      throw error;
    }
  }

  entry(uid: string): JournalEntry | undefined {
    return this.entries.get(uid);
  }

  stateOf(uid: string): InstanceState {
    return this.entries.get(uid)?.state ?? 'pending';
  }

  /**
   * Durably appends the records, then applies them; resolves once they are on disk. Appends made
   * while a write is in flight go out together in the next one (group commit: one write, one
   * fdatasync for all of them), in the order they were made.
   */
  append(...records: JournalRecord[]): Promise<void> {
    if (records.length === 0) return this.#tail;
    if (this.#closed) return Promise.reject(new Error('journal closed'));
    return new Promise<void>((resolve, reject) => {
      this.#queued.push({ records, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        this.#tail = this.#flush();
      }
    });
  }

  /** Writes queued appends, a group at a time, until none is left. Never rejects. */
  async #flush(): Promise<void> {
    while (this.#queued.length > 0 && !this.#closed) {
      const group = this.#queued.splice(0);
      try {
        const frames: Buffer[] = [];
        for (const { records } of group) {
          for (const record of records) {
            const json = Buffer.from(JSON.stringify(record));
            const sealed = seal(this.#key, json, seqBytes(this.#seq++));
            const length = Buffer.alloc(4);
            length.writeUInt32BE(sealed.length);
            frames.push(length, sealed);
          }
        }
        const data = Buffer.concat(frames);
        let written = 0;
        while (written < data.length) {
          const { bytesWritten } = await this.#handle.write(data, written, data.length - written);
          written += bytesWritten;
        }
        await this.#handle.datasync();
        for (const { records } of group) for (const record of records) this.#apply(record);
        for (const { resolve } of group) resolve();
      } catch (error) {
        // A failed append stops the journal: later appends would have the wrong sequence numbers.
        this.#closed = true;
        for (const { reject } of group) reject(error as Error);
      }
    }
    for (const { reject } of this.#queued.splice(0)) reject(new Error('journal closed'));
    this.#flushing = false;
  }

  async close(): Promise<void> {
    if (this.#closed && this.#handle.fd === -1) return;
    while (this.#flushing) await this.#tail;
    this.#closed = true;
    await this.#handle.close().catch(() => undefined);
    await rm(this.#lockFile, { force: true });
  }

  #entry(uid: string): JournalEntry {
    let entry = this.entries.get(uid);
    if (entry === undefined) {
      entry = { state: 'pending', sends: 0 };
      this.entries.set(uid, entry);
    }
    return entry;
  }

  #apply(record: JournalRecord): void {
    switch (record.t) {
      case 'open':
        break;
      case 'transfer':
        this.transfer = {
          portalUrl: record.portalUrl,
          accountId: record.accountId,
          linkFingerprint: record.linkFingerprint,
          transferId: record.transferId,
          urls: record.urls,
        };
        break;
      case 'sent':
        for (const item of record.items) {
          const entry = this.#entry(item.uid);
          entry.sends++;
          entry.sha256 = item.sha256;
          entry.bytes = item.bytes;
          if (entry.state !== 'confirmed') entry.state = 'sent';
        }
        break;
      case 'confirmed':
        for (const uid of record.uids) {
          const entry = this.#entry(uid);
          entry.state = 'confirmed';
          delete entry.failure;
        }
        break;
      case 'failed':
        for (const item of record.items) {
          const entry = this.#entry(item.uid);
          if (entry.state === 'confirmed') continue;
          entry.state = 'failed';
          entry.failure = {
            code: item.code,
            ...(item.detail !== undefined ? { detail: item.detail } : {}),
          };
        }
        break;
      case 'committed':
        this.committed.add(record.transferId);
        break;
      case 'finished':
        this.finished = { transferId: record.transferId, state: record.state };
        break;
    }
  }
}

function seqBytes(seq: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(seq));
  return b;
}

/** Decrypts the records; stops at a torn last record. */
function readRecords(bytes: Buffer, key: Buffer): { records: JournalRecord[]; validEnd: number } {
  const records: JournalRecord[] = [];
  let offset = HEADER_BYTES;
  while (offset < bytes.length) {
    if (offset + 4 > bytes.length) break; // torn length prefix
    const length = bytes.readUInt32BE(offset);
    const end = offset + 4 + length;
    if (length > MAX_RECORD_BYTES || end > bytes.length) break; // torn body
    let plain: Buffer;
    try {
      plain = unseal(key, bytes.subarray(offset + 4, end), seqBytes(records.length));
    } catch {
      // The last record may be torn inside (a crash between the length and the tag reaching disk);
      // anything before it that does not open means another key, or damage.
      if (end === bytes.length && records.length > 0) break;
      throw new FerryError('journal-key', {
        detail:
          records.length === 0
            ? 'the first record does not open with this key'
            : `record ${records.length} is damaged`,
      });
    }
    records.push(JSON.parse(plain.toString('utf8')) as JournalRecord);
    offset = end;
  }
  return { records, validEnd: offset };
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // some file systems refuse fsync on a directory
  } finally {
    await handle.close();
  }
}

/** One process per journal: a lock file holding the owner's pid; a dead owner's lock is taken over. */
async function acquireLock(lockFile: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(
        lockFile,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
        0o600,
      );
      await handle.writeFile(String(process.pid));
      await handle.close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
    if (Number.isSafeInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
      throw new FerryError('journal-busy', { detail: 'another process holds the journal lock' });
    }
    await rm(lockFile, { force: true });
  }
  throw new FerryError('journal-busy', { detail: 'could not take the journal lock' });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
