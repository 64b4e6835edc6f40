/**
 * An upload with a link, from first request to the portal's last word:
 *
 *   resolve the link -> pre-flight (nothing is sent unless it passes) -> open the journal ->
 *   find or create the transfer -> ask the portal what it already holds -> send the rest
 *   (engine.ts) -> commit -> follow the status until it is final, keeping the timeline.
 *
 * Run it again with the same selection (same or new link, same portal) and it resumes from the
 * journal: only what the portal does not hold is sent. Protocol: docs/upload-link-protocol.md.
 */
import { randomUUID } from 'node:crypto';
import type { AxiosInstance } from 'axios';
import { FerryError, isAbortError, isFerryError } from '../errors.ts';
import { LinkClient } from '../link/client.ts';
import { createHttp, type RetryPolicy } from '../link/http.ts';
import type { UploadLink } from '../link/link-url.ts';
import {
  COMMITTED_STATES,
  OPEN_STATES,
  type LinkInfo,
  type TransferManifest,
  type TransferStatus,
} from '../link/model.ts';
import { followStatus } from '../link/status.ts';
import { runStow, type EngineEvent, type InstanceFailure, type Progress } from './engine.ts';
import { UploadJournal, type JournalTransfer } from './journal.ts';
import { fileSource, type InstanceSource, type UploadItem } from './source.ts';
import { saveTimeline } from './timeline.ts';

export type UploadPhase =
  'resolving' | 'preflight' | 'resuming' | 'sending' | 'committing' | 'following' | 'done';

export type UploadEvent =
  | EngineEvent
  | { readonly kind: 'phase'; readonly phase: UploadPhase }
  | { readonly kind: 'link'; readonly link: LinkInfo }
  | {
      readonly kind: 'transfer';
      readonly transferId: string;
      /** 'resumed' when the journal's transfer was still open, 'adopted' for an open one found at the portal. */
      readonly how: 'created' | 'resumed' | 'adopted';
    }
  | {
      readonly kind: 'resume';
      /** Instances the portal already holds (not sent again). */
      readonly held: number;
      readonly toSend: number;
      /** Records read back from the journal. */
      readonly journalRecords: number;
    }
  | { readonly kind: 'status'; readonly status: TransferStatus }
  | { readonly kind: 'warning'; readonly code: string; readonly message: string };

export interface PreflightReport {
  readonly ok: boolean;
  /** Every reason not to start, worst first; empty when ok. */
  readonly problems: readonly FerryError[];
  readonly instances: number;
  readonly bytes: number;
  readonly studies: number;
  readonly needsDeidentification: boolean;
}

/** Part headers and the closing delimiter: what a request adds to the instances' bytes. */
const REQUEST_OVERHEAD = 4096;

/**
 * Checks before anything is sent: the link is live, its policy is one Ferry applies (and can:
 * de-identification needs a source that does it), the selection fits the limits.
 */
export function preflight(
  link: LinkInfo,
  items: readonly UploadItem[],
  options: { canDeidentify: boolean; now?: Date },
): PreflightReport {
  const problems: FerryError[] = [];
  const now = options.now ?? new Date();
  const bytes = items.reduce((n, i) => n + i.bytes, 0);
  const studies = new Set(items.map((i) => i.studyInstanceUid)).size;
  const needsDeidentification = link.policy.kind !== 'none';
  if (Date.parse(link.expiresAt) <= now.getTime()) problems.push(new FerryError('link-expired'));
  if (link.policy.kind === 'unknown') {
    problems.push(new FerryError('policy-unknown', { detail: `policy kind ${link.policy.name}` }));
  } else if (needsDeidentification && !options.canDeidentify) {
    problems.push(new FerryError('deid-unavailable', { detail: `policy ${link.policy.kind}` }));
  }
  if (items.length === 0) problems.push(new FerryError('nothing-selected'));
  if (items.length > link.limits.maxInstances || bytes > link.limits.maxBytes) {
    problems.push(
      new FerryError('over-limit', {
        detail: `${items.length} instances, ${bytes} bytes; limits ${link.limits.maxInstances} instances, ${link.limits.maxBytes} bytes`,
      }),
    );
  }
  const largest = items.reduce((n, i) => Math.max(n, i.bytes), 0);
  if (largest + REQUEST_OVERHEAD > link.limits.maxRequestBytes) {
    problems.push(
      new FerryError('instance-too-large', {
        detail: `largest instance ${largest} bytes; the portal takes ${link.limits.maxRequestBytes} bytes per request`,
      }),
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    instances: items.length,
    bytes,
    studies,
    needsDeidentification,
  };
}

export function manifestOf(items: readonly UploadItem[]): TransferManifest {
  const studies = new Map<string, { studyInstanceUid: string; instances: number; bytes: number }>();
  for (const item of items) {
    const study = studies.get(item.studyInstanceUid) ?? {
      studyInstanceUid: item.studyInstanceUid,
      instances: 0,
      bytes: 0,
    };
    study.instances++;
    study.bytes += item.bytes;
    studies.set(item.studyInstanceUid, study);
  }
  const list = [...studies.values()];
  return {
    studies: list,
    instances: list.reduce((n, s) => n + s.instances, 0),
    bytes: list.reduce((n, s) => n + s.bytes, 0),
  };
}

/** GET the link: who expects the images, the policy, the limits. */
export async function resolveLink(
  link: string | UploadLink,
  options: { signal?: AbortSignal; retry?: RetryPolicy; http?: AxiosInstance } = {},
): Promise<{ client: LinkClient; info: LinkInfo }> {
  const client = new LinkClient(link, options);
  return { client, info: await client.resolve() };
}

export interface UploadOptions {
  readonly link: string | UploadLink;
  readonly items: readonly UploadItem[];
  /** For the default source (the files as they are). */
  readonly mediaRoot?: string;
  /**
   * Where each instance's bytes come from; required when the policy asks for de-identification
   * (the de-identifier's stream). Default: the file on the media, as is.
   */
  readonly source?: InstanceSource;
  /** The source's streams are exactly `item.bytes` long; default true for the file source, false otherwise. */
  readonly exactLengths?: boolean;
  /** Whether `source` de-identifies as the link's policy asks (default: true when a source is given). */
  readonly sourceDeidentifies?: boolean;
  readonly journalDir: string;
  /** 32 bytes: the journal's master key (safeStorage in the app, a key file in the CLI). */
  readonly key: Buffer;
  readonly concurrency?: number;
  readonly batchCount?: number;
  readonly batchBytes?: number;
  readonly idleTimeoutMs?: number;
  readonly retry?: RetryPolicy;
  /** After commit, follow the status until final (default true); or give the polling. */
  readonly follow?: boolean | { readonly intervalMs?: number; readonly timeoutMs?: number };
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: UploadEvent) => void;
  readonly now?: () => Date;
}

export interface UploadResult {
  readonly transferId: string;
  /** The last status read from the portal. */
  readonly status: TransferStatus;
  readonly instances: {
    readonly selected: number;
    /** Held by the portal before this run (not sent again). */
    readonly alreadyHeld: number;
    /** Sent and confirmed in this run. */
    readonly confirmed: number;
    readonly failed: number;
  };
  readonly failures: readonly InstanceFailure[];
  readonly journalFile: string;
}

/**
 * One upload. `start()` (or `startUpload()`) runs it; `pause()`, `resume()`, `cancel()` steer it;
 * events arrive through `onEvent`. After an error the journal is kept: run again to resume.
 */
export class UploadSession {
  readonly #options: UploadOptions;
  readonly #controller = new AbortController();
  #paused: { promise: Promise<void>; release: () => void } | undefined;
  #run: Promise<UploadResult> | undefined;
  #phase: UploadPhase = 'resolving';
  #lastProgress: Progress | undefined;

  constructor(options: UploadOptions) {
    this.#options = options;
    options.signal?.addEventListener('abort', () => this.cancel(), { once: true });
    if (options.signal?.aborted) this.cancel();
  }

  get phase(): UploadPhase {
    return this.#phase;
  }

  get progress(): Progress | undefined {
    return this.#lastProgress;
  }

  get paused(): boolean {
    return this.#paused !== undefined;
  }

  start(): Promise<UploadResult> {
    this.#run ??= this.#execute();
    return this.#run;
  }

  /** Requests in flight finish; no new request starts until resume(). */
  pause(): void {
    if (this.#paused) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    this.#paused = { promise, release };
    this.#emit({ kind: 'paused' });
  }

  resume(): void {
    const paused = this.#paused;
    if (!paused) return;
    this.#paused = undefined;
    paused.release();
    this.#emit({ kind: 'resumed' });
  }

  /** Stops now: requests in flight are aborted; what was confirmed stays in the journal. */
  cancel(): void {
    this.#controller.abort();
    this.#paused?.release();
  }

  #emit(event: UploadEvent): void {
    if (event.kind === 'progress') this.#lastProgress = event;
    try {
      this.#options.onEvent?.(event);
    } catch {
      // a listener's failure is not the upload's
    }
  }

  #setPhase(phase: UploadPhase): void {
    this.#phase = phase;
    this.#emit({ kind: 'phase', phase });
  }

  async #execute(): Promise<UploadResult> {
    const options = this.#options;
    const signal = this.#controller.signal;
    const http = createHttp({
      ...(options.idleTimeoutMs !== undefined ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      maxSockets: (options.concurrency ?? 3) + 2,
    });
    const client = new LinkClient(options.link, {
      http,
      signal,
      ...(options.retry ? { retry: options.retry } : {}),
      onRetry: (event) =>
        this.#emit({
          kind: 'retry',
          attempt: event.attempt,
          delayMs: event.delayMs,
          code: event.error.code,
          ...(event.error.detail ? { detail: event.error.detail } : {}),
        }),
    });
    const files =
      options.source === undefined
        ? fileSource(options.mediaRoot ?? '.', { pooled: true })
        : undefined;
    const source = options.source ?? files!.source;
    let journal: UploadJournal | undefined;
    try {
      this.#setPhase('resolving');
      const info = await client.resolve();
      this.#emit({ kind: 'link', link: info });

      this.#setPhase('preflight');
      const report = preflight(info, options.items, {
        canDeidentify: options.source !== undefined && options.sourceDeidentifies !== false,
        ...(options.now ? { now: options.now() } : {}),
      });
      if (!report.ok) throw report.problems[0]!;
      const uids = new Set(options.items.map((i) => i.sopInstanceUid));
      if (uids.size !== options.items.length) {
        throw new FerryError('internal', { detail: 'the selection lists an instance twice' });
      }

      this.#setPhase('resuming');
      const journalFile = UploadJournal.fileFor(
        options.journalDir,
        options.key,
        client.link.portalUrl,
        [...uids],
      );
      journal = await UploadJournal.open(journalFile, options.key);
      if (journal.recovered === 0) {
        await journal.append({
          t: 'open',
          v: 1,
          at: new Date().toISOString(),
          instances: report.instances,
          bytes: report.bytes,
        });
      }
      const manifest = manifestOf(options.items);
      const { transfer, status, how } = await this.#findTransfer(client, info, journal, manifest);
      this.#emit({ kind: 'transfer', transferId: transfer.transferId, how });

      let committed =
        journal.committed.has(transfer.transferId) || COMMITTED_STATES.has(status.state);
      let alreadyHeld = 0;
      let result: Awaited<ReturnType<typeof runStow>> = {
        confirmed: [],
        failures: [],
        sentBytes: 0,
      };
      if (!committed) {
        const held = await this.#reconcile(client, journal, transfer, options.items);
        alreadyHeld = held.size;
        this.#emit({
          kind: 'resume',
          held: held.size,
          toSend: options.items.length - held.size,
          journalRecords: journal.recovered,
        });
        this.#setPhase('sending');
        result = await runStow({
          http,
          stowUrl: transfer.urls.stow,
          authorization: client.authorization,
          items: options.items,
          done: held,
          source,
          exactLengths: options.exactLengths ?? options.source === undefined,
          journal,
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          ...(options.batchCount !== undefined ? { batchCount: options.batchCount } : {}),
          ...(options.batchBytes !== undefined
            ? {
                batchBytes: Math.min(
                  options.batchBytes,
                  info.limits.maxRequestBytes - REQUEST_OVERHEAD,
                ),
              }
            : {
                batchBytes: Math.min(
                  64 * 1024 * 1024,
                  info.limits.maxRequestBytes - REQUEST_OVERHEAD,
                ),
              }),
          ...(options.retry ? { retry: options.retry } : {}),
          signal,
          gate: () => this.#paused?.promise ?? Promise.resolve(),
          onEvent: (event) => this.#emit(event),
        });

        this.#setPhase('committing');
        const confirmedCount = alreadyHeld + result.confirmed.length;
        if (confirmedCount === 0) {
          throw new FerryError(result.failures[0]?.code ?? 'instance-refused', {
            detail: `none of the ${options.items.length} instances was stored`,
          });
        }
        await this.#commit(client, transfer, result.failures.length > 0);
        await journal.append({
          t: 'committed',
          transferId: transfer.transferId,
          at: new Date().toISOString(),
        });
        committed = true;
      }

      let last = await client.transferStatus(transfer.urls.self);
      await this.#keep(last);
      const follow = options.follow ?? true;
      if (follow !== false && !last.terminal) {
        this.#setPhase('following');
        last = await followStatus(client, transfer.urls.self, {
          signal,
          ...(typeof follow === 'object' ? follow : {}),
          onStatus: (status) => this.#keep(status),
        });
      }
      if (last.terminal) {
        await journal.append({
          t: 'finished',
          transferId: last.transferId,
          state: last.state,
          at: new Date().toISOString(),
        });
      }
      this.#setPhase('done');
      const failures = [
        ...result.failures,
        // Failures from earlier runs stay reported until the instance goes through.
        ...options.items
          .filter(
            (i) =>
              journal!.stateOf(i.sopInstanceUid) === 'failed' &&
              !result.failures.some((f) => f.sopInstanceUid === i.sopInstanceUid),
          )
          .map((i): InstanceFailure => {
            const entry = journal!.entry(i.sopInstanceUid)!;
            const code = (entry.failure?.code ?? 'instance-refused') as InstanceFailure['code'];
            return {
              path: i.path,
              sopInstanceUid: i.sopInstanceUid,
              code,
              message: new FerryError(code).message,
            };
          }),
      ];
      return {
        transferId: last.transferId,
        status: last,
        instances: {
          selected: options.items.length,
          alreadyHeld,
          confirmed: result.confirmed.length,
          failed: failures.length,
        },
        failures,
        journalFile: journal.file,
      };
    } catch (error) {
      if (isAbortError(error) || signal.aborted) throw new FerryError('cancelled');
      throw error instanceof FerryError
        ? error
        : new FerryError('internal', { cause: error, detail: (error as Error)?.name });
    } finally {
      files?.close();
      await journal?.close();
    }
  }

  async #keep(status: TransferStatus): Promise<void> {
    this.#emit({ kind: 'status', status });
    try {
      await saveTimeline(this.#options.journalDir, this.#options.key, status);
    } catch {
      this.#emit({
        kind: 'warning',
        code: 'timeline-not-kept',
        message: 'The transfer status could not be kept on this computer.',
      });
    }
  }

  /** The journal's transfer if it still takes images, an open one with the same manifest, or a new one. */
  async #findTransfer(
    client: LinkClient,
    info: LinkInfo,
    journal: UploadJournal,
    manifest: TransferManifest,
  ): Promise<{
    transfer: JournalTransfer;
    status: TransferStatus;
    how: 'created' | 'resumed' | 'adopted';
  }> {
    const record = async (status: TransferStatus): Promise<JournalTransfer> => {
      const transfer: JournalTransfer = {
        portalUrl: client.link.portalUrl,
        accountId: info.accountId,
        linkFingerprint: client.link.fingerprint,
        transferId: status.transferId,
        urls: status.urls,
      };
      if (
        journal.transfer?.transferId !== transfer.transferId ||
        journal.transfer.linkFingerprint !== transfer.linkFingerprint
      ) {
        await journal.append({ t: 'transfer', at: new Date().toISOString(), ...transfer });
      }
      return transfer;
    };

    const known = journal.transfer;
    if (known !== undefined && known.portalUrl === client.link.portalUrl) {
      try {
        const status = await client.transferStatus(known.urls.self);
        if (OPEN_STATES.has(status.state) || COMMITTED_STATES.has(status.state)) {
          return { transfer: await record(status), status, how: 'resumed' };
        }
        // failed, expired, revoked: a new transfer carries the rest.
      } catch (error) {
        // Another account's transfer (a new link for a new account) is not ours to see.
        if (!isFerryError(error, 'transfer-not-found')) throw error;
      }
    }

    const adopt = async (): Promise<TransferStatus | undefined> => {
      const candidates = info.transfers.filter((t) => OPEN_STATES.has(t.state));
      for (const candidate of candidates) {
        const status = await client.transferStatus(candidate.statusUrl);
        if (
          OPEN_STATES.has(status.state) &&
          status.expected?.instances === manifest.instances &&
          status.expected.bytes === manifest.bytes
        ) {
          return status;
        }
      }
      return undefined;
    };
    // A crash between the portal creating a transfer and the journal recording it left an open one.
    if (known === undefined) {
      const adopted = await adopt();
      if (adopted) return { transfer: await record(adopted), status: adopted, how: 'adopted' };
    }
    // One key for every attempt: a portal that knows it answers with the transfer already made.
    const idempotencyKey = randomUUID();
    for (let attempt = 1; ; attempt++) {
      try {
        const status = await client.createTransfer(info.transfersUrl, manifest, idempotencyKey);
        return { transfer: await record(status), status, how: 'created' };
      } catch (error) {
        if (
          !isFerryError(error) ||
          !(error.code === 'portal-unreachable' || error.code === 'portal-busy') ||
          attempt >= 5
        ) {
          throw error;
        }
        // The answer may have been lost after the portal made it: look before making another.
        const refreshed = await client.resolve();
        info = refreshed;
        const adopted = await adopt();
        if (adopted) return { transfer: await record(adopted), status: adopted, how: 'adopted' };
      }
    }
  }

  /** What the portal holds is the truth: it is confirmed in the journal and not sent again. */
  async #reconcile(
    client: LinkClient,
    journal: UploadJournal,
    transfer: JournalTransfer,
    items: readonly UploadItem[],
  ): Promise<Set<string>> {
    const heldList = await client.heldInstances(transfer.urls.instances);
    const heldMap = new Map(heldList.map((h) => [h.sopInstanceUid, h]));
    const held = new Set<string>();
    const newlyConfirmed: string[] = [];
    let mismatched = 0;
    let lost = 0;
    for (const item of items) {
      const at = heldMap.get(item.sopInstanceUid);
      const entry = journal.entry(item.sopInstanceUid);
      if (at === undefined) {
        if (entry?.state === 'confirmed') lost++;
        continue;
      }
      held.add(item.sopInstanceUid);
      if (entry?.sha256 !== undefined && at.sha256 !== undefined && entry.sha256 !== at.sha256)
        mismatched++;
      if (entry?.state !== 'confirmed') newlyConfirmed.push(item.sopInstanceUid);
    }
    if (newlyConfirmed.length > 0)
      await journal.append({ t: 'confirmed', via: 'portal', uids: newlyConfirmed });
    if (lost > 0) {
      this.#emit({
        kind: 'warning',
        code: 'portal-lost-instances',
        message: `The portal no longer lists ${lost} image(s) it had confirmed for this link; they are sent again.`,
      });
    }
    if (mismatched > 0) {
      this.#emit({
        kind: 'warning',
        code: 'portal-holds-other-bytes',
        message: `The portal holds ${mismatched} image(s) with different contents than Ferry sent.`,
      });
    }
    return held;
  }

  async #commit(client: LinkClient, transfer: JournalTransfer, partial: boolean): Promise<void> {
    if (!partial) {
      await client.commit(transfer.urls.commit);
      return;
    }
    // Some instances were refused for good: declare what the portal holds, so it can finish.
    const held = await client.heldInstances(transfer.urls.instances);
    await client.commit(transfer.urls.commit, held.length);
  }
}

export function startUpload(options: UploadOptions): {
  session: UploadSession;
  done: Promise<UploadResult>;
} {
  const session = new UploadSession(options);
  return { session, done: session.start() };
}
