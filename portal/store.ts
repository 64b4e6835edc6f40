/**
 * The portal's database: an append-only journal of JSON lines under <data>/db/journal.jsonl, replayed
 * into memory. Each append is one write() on an O_APPEND descriptor followed by fdatasync, so a
 * record is either wholly there or (torn by a crash) dropped at the next start; there is no
 * half-recorded state to repair. Several processes may share a data folder (the running portal and
 * `portal create-link`): each reads what the others appended before answering (`sync()`), and
 * records apply in file order.
 */
import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  writeSync,
} from 'node:fs';
import { ftruncateSync } from 'node:fs';
import path from 'node:path';
import type {
  StaffUser,
  StoredInstance,
  TimelineEvent,
  Transfer,
  TransferManifest,
  UploadAccount,
  UploadLink,
} from './model.ts';

export type JournalRecord =
  | { readonly t: 'staff-user'; readonly user: StaffUser }
  | { readonly t: 'account'; readonly account: UploadAccount }
  | { readonly t: 'link'; readonly link: UploadLink }
  | {
      readonly t: 'link-revoked';
      readonly linkId: string;
      readonly at: string;
      readonly reason?: string;
    }
  | {
      readonly t: 'transfer';
      readonly id: string;
      readonly accountId: string;
      readonly linkId: string;
      readonly at: string;
      readonly manifest?: TransferManifest;
      readonly client?: { readonly name: string; readonly version: string };
      readonly idempotencyKey?: string;
    }
  | { readonly t: 'instances'; readonly at: string; readonly items: readonly StoredInstance[] }
  | { readonly t: 'transfer-state'; readonly transferId: string; readonly event: TimelineEvent };

const JOURNAL_FILE = 'journal.jsonl';

export class PortalStore {
  readonly #fd: number;
  #offset = 0;
  #partial = '';

  readonly users = new Map<string, StaffUser>();
  readonly accounts = new Map<string, UploadAccount>();
  readonly links = new Map<string, UploadLink>();
  readonly #linksByTokenHash = new Map<string, string>();
  readonly transfers = new Map<string, Transfer>();
  /** Every SOP Instance UID the portal holds, as first delivered (to any account). */
  readonly instances = new Map<string, StoredInstance>();
  readonly #instancesByAccount = new Map<string, Map<string, StoredInstance>>();

  private constructor(fd: number) {
    this.#fd = fd;
  }

  static open(dataDir: string): PortalStore {
    const dir = path.join(dataDir, 'db');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(path.join(dir, JOURNAL_FILE), 'a+', 0o600);
    const store = new PortalStore(fd);
    store.#dropTornTail();
    store.sync();
    return store;
  }

  close(): void {
    closeSync(this.#fd);
  }

  /** Applies what any process appended since the last call. Cheap when nothing changed (one fstat). */
  sync(): void {
    const size = fstatSync(this.#fd).size;
    if (size <= this.#offset) return;
    const chunk = Buffer.alloc(size - this.#offset);
    let read = 0;
    while (read < chunk.length) {
      const n = readSync(this.#fd, chunk, read, chunk.length - read, this.#offset + read);
      if (n === 0) break;
      read += n;
    }
    this.#offset += read;
    const text = this.#partial + chunk.subarray(0, read).toString('utf8');
    const lines = text.split('\n');
    // A line without its newline is still being written by another process: keep it for later.
    this.#partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      this.#apply(JSON.parse(line) as JournalRecord);
    }
  }

  /** Durably appends the records (one write, then fdatasync) and applies them. */
  append(...records: JournalRecord[]): void {
    if (records.length === 0) return;
    const bytes = Buffer.from(records.map((r) => JSON.stringify(r) + '\n').join(''), 'utf8');
    let written = 0;
    while (written < bytes.length) {
      written += writeSync(this.#fd, bytes, written, bytes.length - written);
    }
    fdatasyncSync(this.#fd);
    this.sync();
  }

  linkByTokenHash(tokenHash: string): UploadLink | undefined {
    const id = this.#linksByTokenHash.get(tokenHash);
    return id === undefined ? undefined : this.links.get(id);
  }

  linksOf(accountId: string): UploadLink[] {
    return [...this.links.values()].filter((l) => l.accountId === accountId);
  }

  transfersOf(accountId: string): Transfer[] {
    return [...this.transfers.values()].filter((t) => t.accountId === accountId);
  }

  instancesOf(accountId: string): ReadonlyMap<string, StoredInstance> {
    return this.#instancesByAccount.get(accountId) ?? new Map();
  }

  /** The instances that count for a transfer: those of the account in its announced studies. */
  instancesFor(transfer: Transfer): StoredInstance[] {
    const held = [...this.instancesOf(transfer.accountId).values()];
    if (transfer.manifest === undefined) return held.filter((i) => i.transferId === transfer.id);
    const studies = new Set(transfer.manifest.studies.map((s) => s.studyInstanceUid));
    return held.filter((i) => studies.has(i.studyInstanceUid));
  }

  #apply(record: JournalRecord): void {
    switch (record.t) {
      case 'staff-user':
        this.users.set(record.user.username, record.user);
        break;
      case 'account':
        this.accounts.set(record.account.id, record.account);
        break;
      case 'link':
        this.links.set(record.link.id, record.link);
        this.#linksByTokenHash.set(record.link.tokenHash, record.link.id);
        break;
      case 'link-revoked': {
        const link = this.links.get(record.linkId);
        if (link !== undefined && link.revokedAt === undefined) {
          this.links.set(link.id, {
            ...link,
            revokedAt: record.at,
            ...(record.reason !== undefined ? { revokedReason: record.reason } : {}),
          });
        }
        break;
      }
      case 'transfer':
        this.transfers.set(record.id, {
          id: record.id,
          accountId: record.accountId,
          linkId: record.linkId,
          createdAt: record.at,
          ...(record.manifest !== undefined ? { manifest: record.manifest } : {}),
          ...(record.client !== undefined ? { client: record.client } : {}),
          ...(record.idempotencyKey !== undefined ? { idempotencyKey: record.idempotencyKey } : {}),
          state: 'created',
          timeline: [{ state: 'created', at: record.at }],
        });
        break;
      case 'instances':
        for (const item of record.items) {
          let byAccount = this.#instancesByAccount.get(item.accountId);
          if (byAccount === undefined) {
            byAccount = new Map();
            this.#instancesByAccount.set(item.accountId, byAccount);
          }
          if (byAccount.has(item.sopInstanceUid)) continue; // first delivery wins
          byAccount.set(item.sopInstanceUid, item);
          if (!this.instances.has(item.sopInstanceUid))
            this.instances.set(item.sopInstanceUid, item);
          const transfer = this.transfers.get(item.transferId);
          if (transfer !== undefined) {
            transfer.lastReceivedAt = record.at;
            if (transfer.state === 'created') {
              transfer.state = 'receiving';
              transfer.timeline.push({ state: 'receiving', at: record.at });
            }
          }
        }
        break;
      case 'transfer-state': {
        const transfer = this.transfers.get(record.transferId);
        if (transfer === undefined) break;
        transfer.state = record.event.state;
        transfer.timeline.push(record.event);
        break;
      }
    }
  }

  /** A crash can leave the last record without its newline: drop it so the next append starts clean. */
  #dropTornTail(): void {
    const size = fstatSync(this.#fd).size;
    if (size === 0) return;
    const tail = Buffer.alloc(Math.min(size, 1 << 20));
    readSync(this.#fd, tail, 0, tail.length, size - tail.length);
    if (tail[tail.length - 1] === 0x0a) return;
    const lastNewline = tail.lastIndexOf(0x0a);
    if (lastNewline < 0 && tail.length < size) return; // a record over 1 MiB: leave it to sync() to report
    ftruncateSync(this.#fd, size - tail.length + lastNewline + 1);
  }
}
