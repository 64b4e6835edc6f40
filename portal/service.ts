/**
 * The portal's domain: upload accounts and their links, transfers, commit and verification,
 * expiry and revocation. The HTTP layer (server.ts, stow.ts, staff.ts) and the CLI call this.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ArchiveUnavailableError, type Archive } from './archive.ts';
import { AuditLog } from './audit.ts';
import { PortalError } from './errors.ts';
import {
  BASIC_PROFILE_OPTIONS,
  OPEN_STATES,
  type BasicProfileOption,
  type LinkLimits,
  type LinkPolicy,
  type ManifestStudy,
  type Transfer,
  type TransferManifest,
  type UploadAccount,
  type UploadLink,
} from './model.ts';
import { FailureLimiter } from './rate-limit.ts';
import { formatBytes } from '../main/core/util/format.ts';
import { PortalStore } from './store.ts';
import { hashToken, newId, newToken, TOKEN_PATTERN } from './tokens.ts';

export const DEFAULT_LIMITS: LinkLimits = {
  maxBytes: 20 * 1024 ** 3,
  maxInstances: 100_000,
  maxRequestBytes: 1024 ** 3,
};

export const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;
export function isUid(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 64 && UID_PATTERN.test(value);
}

export interface CreateLinkInput {
  /** The patient's name as the hospital knows it (DICOM PN form such as DOE^JANE is best). */
  readonly patientName: string;
  /** YYYYMMDD. */
  readonly birthDate: string;
  readonly email: string;
  /** Whom the link is for when not the patient (a parent, a carer); the patient's name otherwise. */
  readonly recipientName?: string;
  readonly provider: string;
  readonly department?: string;
  readonly organization?: string;
  /** Milliseconds from now. */
  readonly expiresInMs: number;
  readonly policy: LinkPolicy;
  readonly limits?: Partial<LinkLimits>;
}

export interface IssuedLink {
  /** The link to hand to the patient: `<portal>/u/<token>`. Shown once; only its hash is kept. */
  readonly link: string;
  readonly token: string;
  readonly accountId: string;
  readonly linkId: string;
  readonly expiresAt: string;
}

export interface Authorized {
  readonly link: UploadLink;
  readonly account: UploadAccount;
}

/** "7d", "12h", "30m", "45s" or a number of days. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([dhms]?)$/.exec(text.trim());
  if (m === null)
    throw new Error(`not a duration: ${JSON.stringify(text)} (use e.g. 7d, 12h, 30m)`);
  const n = Number(m[1]);
  const unit = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1000, '': 86_400_000 }[m[2] as 'd'];
  return n * unit;
}

/** `none`, `basic`, `basic:opt1,opt2`, `reconcile:MRN` or `reconcile:MRN@ISSUER`. */
export function parsePolicy(text: string): LinkPolicy {
  if (text === 'none') return { kind: 'none' };
  if (text === 'basic' || text.startsWith('basic:')) {
    const options = text === 'basic' ? [] : text.slice('basic:'.length).split(',').filter(Boolean);
    for (const option of options) {
      if (!(BASIC_PROFILE_OPTIONS as readonly string[]).includes(option)) {
        throw new Error(`unknown basic profile option ${JSON.stringify(option)}`);
      }
    }
    return { kind: 'basic', options: options as BasicProfileOption[] };
  }
  if (text.startsWith('reconcile:')) {
    const [mrn, issuer] = text.slice('reconcile:'.length).split('@');
    if (!mrn || mrn.length > 64 || /[\\\r\n]/.test(mrn))
      throw new Error('reconcile needs an MRN: reconcile:MRN');
    return issuer ? { kind: 'reconcile', mrn, issuer } : { kind: 'reconcile', mrn };
  }
  throw new Error(
    `policy must be none, basic[:options] or reconcile:MRN, got ${JSON.stringify(text)}`,
  );
}

function requireText(value: string | undefined, what: string, max = 200): string {
  const text = (value ?? '').trim();
  if (text === '' || text.length > max || /\p{Cc}/u.test(text)) {
    throw new PortalError('bad-request', `${what} is missing or not valid.`);
  }
  return text;
}

function validBirthDate(value: string): boolean {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (m === null) return false;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return date.getUTCMonth() === Number(m[2]) - 1 && date.getUTCDate() === Number(m[3]);
}

/** Where a running portal said it listens, for links made by `portal create-link` on the same data. */
export function recordedBaseUrl(dataDir: string): string | undefined {
  try {
    const info = JSON.parse(readFileSync(path.join(dataDir, 'portal.json'), 'utf8')) as {
      url?: string;
    };
    return typeof info.url === 'string' ? info.url : undefined;
  } catch {
    return undefined;
  }
}

export interface PortalServiceOptions {
  readonly dataDir: string;
  readonly archive: Archive;
  readonly now?: () => Date;
  readonly baseUrl?: string;
  readonly defaultLimits?: Partial<LinkLimits>;
  /** How long to wait between verification attempts while the archive is down. */
  readonly verifyRetryMs?: number;
  /** Failed token lookups allowed per IP in 10 minutes. */
  readonly maxTokenFailures?: number;
}

export class PortalService {
  readonly store: PortalStore;
  readonly audit: AuditLog;
  readonly archive: Archive;
  readonly dataDir: string;
  readonly now: () => Date;
  baseUrl: string;
  readonly defaultLimits: LinkLimits;
  readonly tokenFailures: FailureLimiter;
  readonly #verifyRetryMs: number;
  readonly #verifying = new Map<string, NodeJS.Timeout | 'running'>();
  #closed = false;

  constructor(options: PortalServiceOptions) {
    this.dataDir = options.dataDir;
    this.store = PortalStore.open(options.dataDir);
    this.audit = new AuditLog(options.dataDir);
    this.archive = options.archive;
    this.now = options.now ?? (() => new Date());
    this.baseUrl = options.baseUrl ?? 'http://127.0.0.1';
    this.defaultLimits = { ...DEFAULT_LIMITS, ...options.defaultLimits };
    this.#verifyRetryMs = options.verifyRetryMs ?? 15_000;
    this.tokenFailures = new FailureLimiter(options.maxTokenFailures ?? 30, 10 * 60_000);
  }

  close(): void {
    this.#closed = true;
    for (const timer of this.#verifying.values()) if (timer !== 'running') clearTimeout(timer);
    this.#verifying.clear();
    this.store.close();
  }

  // ---- links ----------------------------------------------------------------------------------

  createLink(input: CreateLinkInput, actor: string): IssuedLink {
    const patientName = requireText(input.patientName, "The patient's name");
    const birthDate = requireText(input.birthDate, 'The birth date', 8);
    if (!validBirthDate(birthDate)) {
      throw new PortalError('bad-request', 'The birth date must be a real date written YYYYMMDD.');
    }
    const email = requireText(input.email, 'The e-mail address', 254);
    if (!/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(email)) {
      throw new PortalError('bad-request', 'The e-mail address is not valid.');
    }
    const limits: LinkLimits = { ...this.defaultLimits, ...input.limits };
    for (const [name, value] of Object.entries(limits)) {
      if (!Number.isSafeInteger(value) || value <= 0)
        throw new PortalError('bad-request', `The limit ${name} is not valid.`);
    }
    if (!(input.expiresInMs > 0) || input.expiresInMs > 366 * 86_400_000) {
      throw new PortalError('bad-request', 'The link must expire within a year.');
    }
    if (input.policy.kind === 'basic' && input.policy.subjectId !== undefined) {
      // Written into Patient ID (LO) and Patient's Name by the app: plain ASCII, 1-64 characters.
      if (!/^[\x21-\x5b\x5d-\x7e]{1,64}$/.test(input.policy.subjectId)) {
        throw new PortalError(
          'bad-request',
          'The subject ID must be 1 to 64 printable ASCII characters, without spaces or backslashes.',
        );
      }
    }
    const now = this.now();
    const account: UploadAccount = {
      id: newId('acc'),
      createdAt: now.toISOString(),
      createdBy: actor,
      patient: { name: patientName, birthDate },
      recipient: { name: input.recipientName?.trim() || patientName, email },
      provider: {
        name: requireText(input.provider, "The expecting provider's name"),
        department: input.department?.trim() ?? '',
        organization: input.organization?.trim() ?? '',
      },
      policy: input.policy,
      limits,
    };
    this.store.sync();
    this.store.append({ t: 'account', account });
    this.audit.record({ action: 'account-created', actor, accountId: account.id }, now);
    return this.issueLink(account.id, input.expiresInMs, actor);
  }

  /** A new token for an existing account (the old ones stay valid until revoked or expired). */
  issueLink(accountId: string, expiresInMs: number, actor: string): IssuedLink {
    this.store.sync();
    if (!this.store.accounts.has(accountId))
      throw new PortalError('not-found', 'No such upload account.');
    const now = this.now();
    const token = newToken();
    const link: UploadLink = {
      id: newId('lnk'),
      accountId,
      tokenHash: hashToken(token),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + expiresInMs).toISOString(),
    };
    this.store.append({ t: 'link', link });
    this.audit.record({ action: 'link-issued', actor, accountId, linkId: link.id }, now);
    return {
      link: `${this.baseUrl}/u/${token}`,
      token,
      accountId,
      linkId: link.id,
      expiresAt: link.expiresAt,
    };
  }

  revokeLink(linkId: string, reason: string | undefined, actor: string): void {
    this.store.sync();
    const link = this.store.links.get(linkId);
    if (link === undefined) throw new PortalError('not-found', 'No such upload link.');
    if (link.revokedAt !== undefined) return;
    const at = this.now().toISOString();
    const cleanReason = reason?.trim().slice(0, 300) || undefined;
    this.store.append(
      { t: 'link-revoked', linkId, at, ...(cleanReason ? { reason: cleanReason } : {}) },
      ...this.#openTransfersOfLink(linkId).map((t) => ({
        t: 'transfer-state' as const,
        transferId: t.id,
        event: { state: 'revoked' as const, at, ...(cleanReason ? { reason: cleanReason } : {}) },
      })),
    );
    this.audit.record(
      { action: 'link-revoked', actor, accountId: link.accountId, linkId },
      this.now(),
    );
  }

  revokeAccount(accountId: string, reason: string | undefined, actor: string): number {
    this.store.sync();
    const links = this.store.linksOf(accountId).filter((l) => l.revokedAt === undefined);
    for (const link of links) this.revokeLink(link.id, reason, actor);
    return links.length;
  }

  linkState(link: UploadLink): 'active' | 'revoked' | 'expired' {
    if (link.revokedAt !== undefined) return 'revoked';
    return Date.parse(link.expiresAt) <= this.now().getTime() ? 'expired' : 'active';
  }

  /**
   * Resolves a bearer token. Unknown tokens count against the caller's IP (token guessing).
   * `readOnly` lets a revoked or expired link still read its transfers' status.
   */
  authorize(
    token: string | undefined,
    ip: string,
    options: { readOnly?: boolean } = {},
  ): Authorized {
    const nowMs = this.now().getTime();
    const wait = this.tokenFailures.retryAfter(ip, nowMs);
    if (wait > 0) throw new PortalError('too-many-attempts', undefined, wait);
    this.store.sync();
    const link =
      token !== undefined && TOKEN_PATTERN.test(token)
        ? this.store.linkByTokenHash(hashToken(token))
        : undefined;
    const account = link && this.store.accounts.get(link.accountId);
    if (link === undefined || account === undefined) {
      this.tokenFailures.fail(ip, nowMs);
      this.audit.record(
        { action: 'link-rejected', actor: 'anonymous', ip, code: 'link-unknown' },
        this.now(),
      );
      throw new PortalError('link-unknown');
    }
    this.expireDue();
    const state = this.linkState(link);
    if (state !== 'active' && !options.readOnly) {
      this.audit.record(
        { action: 'link-rejected', actor: `link:${link.id}`, ip, code: `link-${state}` },
        this.now(),
      );
      throw new PortalError(state === 'revoked' ? 'link-revoked' : 'link-expired');
    }
    return { link, account };
  }

  /** Marks open transfers of expired links as expired. Called on every token use and by a timer. */
  expireDue(): void {
    this.store.sync();
    const at = this.now().toISOString();
    const records = [];
    for (const transfer of this.store.transfers.values()) {
      if (!OPEN_STATES.has(transfer.state)) continue;
      const link = this.store.links.get(transfer.linkId);
      if (link !== undefined && link.revokedAt === undefined && link.expiresAt <= at) {
        records.push({
          t: 'transfer-state' as const,
          transferId: transfer.id,
          event: { state: 'expired' as const, at },
        });
      }
    }
    if (records.length === 0) return;
    this.store.append(...records);
    for (const r of records) {
      this.audit.record(
        { action: 'transfer-state', actor: 'portal', transferId: r.transferId, state: 'expired' },
        this.now(),
      );
    }
  }

  #openTransfersOfLink(linkId: string): Transfer[] {
    return [...this.store.transfers.values()].filter(
      (t) => t.linkId === linkId && OPEN_STATES.has(t.state),
    );
  }

  // ---- transfers ------------------------------------------------------------------------------

  transferOf(auth: Authorized, transferId: string): Transfer {
    const transfer = this.store.transfers.get(transferId);
    if (transfer === undefined || transfer.accountId !== auth.account.id)
      throw new PortalError('transfer-not-found');
    return transfer;
  }

  /**
   * A new transfer; with an Idempotency-Key, the account's transfer made with the same key is
   * answered again instead (`created: false`), so a client may retry a create whose answer it lost.
   */
  createTransfer(
    auth: Authorized,
    body: unknown,
    ip: string,
    idempotencyKey?: string,
  ): { transfer: Transfer; created: boolean } {
    const { manifest, client } = parseTransferRequest(body);
    if (idempotencyKey !== undefined) {
      if (!/^[\x21-\x7e]{1,255}$/.test(idempotencyKey)) {
        throw new PortalError(
          'bad-request',
          'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
        );
      }
      this.store.sync();
      const earlier = this.store
        .transfersOf(auth.account.id)
        .find((t) => t.idempotencyKey === idempotencyKey);
      if (earlier !== undefined) {
        if (JSON.stringify(earlier.manifest) !== JSON.stringify(manifest)) {
          throw new PortalError('idempotency-key-reused');
        }
        return { transfer: earlier, created: false };
      }
    }
    this.#checkFits(auth.account, manifest);
    const id = newId('tr');
    this.store.append({
      t: 'transfer',
      id,
      accountId: auth.account.id,
      linkId: auth.link.id,
      at: this.now().toISOString(),
      manifest,
      ...(client ? { client } : {}),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    });
    this.audit.record(
      {
        action: 'transfer-created',
        actor: `link:${auth.link.id}`,
        ip,
        accountId: auth.account.id,
        transferId: id,
        count: manifest.instances,
        bytes: manifest.bytes,
      },
      this.now(),
    );
    return { transfer: this.store.transfers.get(id) as Transfer, created: true };
  }

  /** Where a plain STOW-RS client (no manifest) sends into: this link's newest open transfer without a manifest, or a new one. */
  implicitTransfer(auth: Authorized, ip: string): Transfer {
    const open = this.store
      .transfersOf(auth.account.id)
      .filter(
        (t) => OPEN_STATES.has(t.state) && t.linkId === auth.link.id && t.manifest === undefined,
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    if (open !== undefined) return open;
    const id = newId('tr');
    this.store.append({
      t: 'transfer',
      id,
      accountId: auth.account.id,
      linkId: auth.link.id,
      at: this.now().toISOString(),
    });
    this.audit.record(
      {
        action: 'transfer-created',
        actor: `link:${auth.link.id}`,
        ip,
        accountId: auth.account.id,
        transferId: id,
      },
      this.now(),
    );
    return this.store.transfers.get(id) as Transfer;
  }

  #checkFits(account: UploadAccount, manifest: TransferManifest): void {
    const studies = new Set(manifest.studies.map((s) => s.studyInstanceUid));
    let bytes = manifest.bytes;
    let instances = manifest.instances;
    for (const held of this.store.instancesOf(account.id).values()) {
      if (studies.has(held.studyInstanceUid)) continue; // already counted in the manifest
      bytes += held.bytes;
      instances++;
    }
    const { maxBytes, maxInstances } = account.limits;
    if (bytes > maxBytes || instances > maxInstances) {
      throw new PortalError(
        'over-limit',
        `This is more than the hospital accepts through this link: at most ${maxInstances} images and ${formatBytes(maxBytes)} in all.`,
      );
    }
  }

  commit(auth: Authorized, transfer: Transfer, body: unknown, ip: string): void {
    if (!OPEN_STATES.has(transfer.state)) {
      if (
        transfer.state === 'received' ||
        transfer.state === 'verifying' ||
        transfer.state === 'available'
      )
        return;
      throw new PortalError('transfer-closed');
    }
    const held = this.store.instancesFor(transfer).length;
    const declared = (body as { instances?: unknown } | undefined)?.instances;
    if (declared !== undefined && declared !== held) {
      throw new PortalError(
        'transfer-incomplete',
        `The portal holds ${held} images of this transfer, not ${String(declared)}. Ask which images the portal holds, send the missing ones, then finish again.`,
      );
    }
    const expected = transfer.manifest?.instances;
    if (declared === undefined && expected !== undefined && held < expected) {
      throw new PortalError(
        'transfer-incomplete',
        `The portal holds ${held} of the ${expected} images announced. Send the missing images, then finish again.`,
      );
    }
    if (held === 0)
      throw new PortalError('transfer-incomplete', 'No images have arrived for this transfer yet.');
    this.#setState(transfer, 'received', `link:${auth.link.id}`, ip);
    this.startVerification(transfer.id);
  }

  #setState(
    transfer: Transfer,
    state: Transfer['state'],
    actor: string,
    ip?: string,
    reason?: string,
  ): void {
    this.store.append({
      t: 'transfer-state',
      transferId: transfer.id,
      event: { state, at: this.now().toISOString(), ...(reason !== undefined ? { reason } : {}) },
    });
    this.audit.record(
      {
        action: 'transfer-state',
        actor,
        ...(ip ? { ip } : {}),
        accountId: transfer.accountId,
        transferId: transfer.id,
        state,
      },
      this.now(),
    );
  }

  /** Resumes verification of committed transfers after a restart. */
  resumeVerifications(): void {
    for (const transfer of this.store.transfers.values()) {
      if (transfer.state === 'received' || transfer.state === 'verifying')
        this.startVerification(transfer.id);
    }
  }

  startVerification(transferId: string): void {
    if (this.#closed || this.#verifying.has(transferId)) return;
    this.#verifying.set(transferId, 'running');
    void this.#verify(transferId);
  }

  /** Received -> verifying -> available, asking the archive itself; retries while it is down. */
  async #verify(transferId: string): Promise<void> {
    const transfer = this.store.transfers.get(transferId);
    if (transfer === undefined) return;
    try {
      if (transfer.state === 'received') this.#setState(transfer, 'verifying', 'portal');
      const missing = await this.archive.findMissing(this.store.instancesFor(transfer));
      if (this.#closed) return;
      this.store.sync();
      if (transfer.state !== 'verifying') return;
      if (missing.length === 0) {
        this.#setState(transfer, 'available', 'portal');
      } else {
        this.#setState(
          transfer,
          'failed',
          'portal',
          undefined,
          `${missing.length === 1 ? '1 image was' : `${missing.length} images were`} not found in the hospital's archive after they were received. Send them again with a new transfer.`,
        );
      }
      this.#verifying.delete(transferId);
    } catch (err) {
      if (this.#closed) return;
      if (!(err instanceof ArchiveUnavailableError))
        console.error(`verification of ${transferId} failed: ${(err as Error).name}`);
      this.audit.record(
        { action: 'archive-unavailable', actor: 'portal', transferId, code: 'verify' },
        this.now(),
      );
      const timer = setTimeout(() => {
        this.#verifying.delete(transferId);
        this.startVerification(transferId);
      }, this.#verifyRetryMs);
      timer.unref();
      this.#verifying.set(transferId, timer);
    }
  }
}

function parseTransferRequest(body: unknown): {
  manifest: TransferManifest;
  client?: { name: string; version: string };
} {
  const bad = (why: string) =>
    new PortalError('manifest-invalid', `The list of studies to send is not valid: ${why}.`);
  if (typeof body !== 'object' || body === null) throw bad('expected a JSON object');
  const { studies, instances, bytes, client } = body as Record<string, unknown>;
  if (!Array.isArray(studies) || studies.length === 0 || studies.length > 10_000)
    throw bad('studies must be a non-empty list');
  const seen = new Set<string>();
  const parsed: ManifestStudy[] = studies.map((s: unknown, i) => {
    const study = (s ?? {}) as Record<string, unknown>;
    if (!isUid(study.studyInstanceUid)) throw bad(`studies[${i}].studyInstanceUid is not a UID`);
    if (seen.has(study.studyInstanceUid))
      throw bad(`study ${study.studyInstanceUid} is listed twice`);
    seen.add(study.studyInstanceUid);
    if (!Number.isSafeInteger(study.instances) || (study.instances as number) < 1)
      throw bad(`studies[${i}].instances must be a positive integer`);
    if (!Number.isSafeInteger(study.bytes) || (study.bytes as number) < 0)
      throw bad(`studies[${i}].bytes must be a whole number of bytes`);
    return {
      studyInstanceUid: study.studyInstanceUid,
      instances: study.instances as number,
      bytes: study.bytes as number,
    };
  });
  const sumInstances = parsed.reduce((n, s) => n + s.instances, 0);
  const sumBytes = parsed.reduce((n, s) => n + s.bytes, 0);
  if (instances !== undefined && instances !== sumInstances)
    throw bad('instances is not the sum over the studies');
  if (bytes !== undefined && bytes !== sumBytes) throw bad('bytes is not the sum over the studies');
  let clientInfo: { name: string; version: string } | undefined;
  if (client !== undefined) {
    const c = client as Record<string, unknown>;
    if (
      typeof c.name !== 'string' ||
      typeof c.version !== 'string' ||
      c.name.length > 100 ||
      c.version.length > 50
    ) {
      throw bad('client must be { name, version }');
    }
    clientInfo = { name: c.name, version: c.version };
  }
  return {
    manifest: { studies: parsed, instances: sumInstances, bytes: sumBytes },
    ...(clientInfo ? { client: clientInfo } : {}),
  };
}
