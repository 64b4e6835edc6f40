/**
 * The sending loop: instances in batches (by count and bytes) over several requests in flight,
 * each answer read per instance and written to the journal before it counts (the next request
 * does not wait for that write: the journal groups concurrent appends into one fdatasync), retries
 * with backoff and jitter (Retry-After honoured) for the network and busy servers, permanent
 * failures set aside with their reason, and progress (instances, bytes, rate, ETA).
 *
 * The engine speaks plain STOW-RS: it is what the link session drives (session.ts), and what the
 * benchmark points at an archive directly.
 */
import type { AxiosInstance } from 'axios';
import { FerryError, isAbortError, type FerryErrorCode } from '../errors.ts';
import { backoffMs, DEFAULT_RETRY, isTransient, sleep, type RetryPolicy } from '../link/http.ts';
import type { JournalRecord, UploadJournal } from './journal.ts';
import type { InstanceSource, UploadItem } from './source.ts';
import {
  classifyFailureReason,
  sendBatch,
  sentOf,
  SourceFailure,
  type SentInstance,
} from './stow.ts';

export interface Progress {
  readonly instances: { readonly done: number; readonly total: number };
  readonly bytes: { readonly done: number; readonly total: number };
  /** Bytes per second over the last few seconds. */
  readonly rate: number;
  /** Seconds left at that rate; undefined until there is a rate. */
  readonly etaSeconds: number | undefined;
}

export interface InstanceFailure {
  readonly path: string;
  readonly sopInstanceUid: string;
  readonly code: FerryErrorCode;
  readonly message: string;
  readonly detail?: string;
}

export type EngineEvent =
  | ({ readonly kind: 'progress' } & Progress)
  | {
      readonly kind: 'retry';
      readonly attempt: number;
      readonly delayMs: number;
      readonly code: FerryErrorCode;
      readonly detail?: string;
    }
  | { readonly kind: 'instance-failed'; readonly failure: InstanceFailure }
  | { readonly kind: 'paused' }
  | { readonly kind: 'resumed' };

export interface EngineOptions {
  readonly http: AxiosInstance;
  readonly stowUrl: string;
  readonly authorization?: string;
  /** Every instance of the selection; those already confirmed count as done. */
  readonly items: readonly UploadItem[];
  /** SOP Instance UIDs already confirmed (journal or portal): not sent. */
  readonly done?: ReadonlySet<string>;
  readonly source: InstanceSource;
  /** The source's streams are exactly `item.bytes` long (the file as is). */
  readonly exactLengths: boolean;
  readonly journal?: UploadJournal;
  /** Requests in flight; default 3. */
  readonly concurrency?: number;
  /** Instances per request; default 50. */
  readonly batchCount?: number;
  /** Bytes per request (a single larger instance goes alone); default 64 MiB. */
  readonly batchBytes?: number;
  readonly retry?: RetryPolicy;
  /** Times an instance is sent again when an answer leaves it out or fails it transiently; default 3. */
  readonly maxInstanceAttempts?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: EngineEvent) => void;
  /** Awaited before each new request: the session's pause. */
  readonly gate?: () => Promise<void>;
  /** Least time between progress events; default 250 ms. */
  readonly progressIntervalMs?: number;
}

export interface EngineResult {
  readonly confirmed: readonly string[];
  readonly failures: readonly InstanceFailure[];
  readonly sentBytes: number;
}

interface Work {
  readonly item: UploadItem;
  attempts: number;
}

/** Rate over a sliding window of recent byte counts. */
class RateMeter {
  readonly #samples: { at: number; bytes: number }[] = [];
  constructor(readonly windowMs = 5000) {}

  add(bytes: number, at = performance.now()): void {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && at - this.#samples[0]!.at > this.windowMs)
      this.#samples.shift();
  }

  rate(now = performance.now()): number {
    const first = this.#samples[0];
    if (first === undefined) return 0;
    const span = Math.max(now - first.at, 250);
    const total = this.#samples.reduce((sum, s) => sum + s.bytes, 0);
    return (total * 1000) / span;
  }
}

export async function runStow(options: EngineOptions): Promise<EngineResult> {
  const policy = { ...DEFAULT_RETRY, ...options.retry };
  const concurrency = Math.max(1, options.concurrency ?? 3);
  const batchCount = Math.max(1, options.batchCount ?? 50);
  const batchBytes = Math.max(1, options.batchBytes ?? 64 * 1024 * 1024);
  const maxInstanceAttempts = options.maxInstanceAttempts ?? 3;
  const done = options.done ?? new Set<string>();
  const queue: Work[] = [];
  let totalBytes = 0;
  let doneBytes = 0;
  let doneCount = 0;
  for (const item of options.items) {
    totalBytes += item.bytes;
    if (done.has(item.sopInstanceUid)) {
      doneBytes += item.bytes;
      doneCount++;
    } else queue.push({ item, attempts: 0 });
  }
  const total = options.items.length;
  const confirmed: string[] = [];
  const failures: InstanceFailure[] = [];
  const meter = new RateMeter();
  let inFlightBytes = 0;
  let sentBytes = 0;
  let lastProgress = 0;
  const progressInterval = options.progressIntervalMs ?? 250;

  // One failure that ends the transfer (revoked link, closed transfer) stops every worker.
  const stop = new AbortController();
  const onOuterAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let fatal: FerryError | undefined;
  /** Journal appends of answered batches not yet on disk; the first one that failed. */
  const journalWrites = new Set<Promise<void>>();
  let journalError: unknown;

  const emitProgress = (force = false): void => {
    const now = performance.now();
    if (!force && now - lastProgress < progressInterval) return;
    lastProgress = now;
    const rate = meter.rate(now);
    const bytesDone = Math.min(totalBytes, doneBytes + inFlightBytes);
    options.onEvent?.({
      kind: 'progress',
      instances: { done: doneCount, total },
      bytes: { done: bytesDone, total: totalBytes },
      rate,
      etaSeconds: rate > 0 ? (totalBytes - bytesDone) / rate : undefined,
    });
  };

  const fail = (
    work: Work,
    code: FerryErrorCode,
    detail?: string,
    message?: string,
  ): InstanceFailure => {
    const error = new FerryError(code, {
      ...(detail ? { detail } : {}),
      ...(message ? { message } : {}),
    });
    const failure: InstanceFailure = {
      path: work.item.path,
      sopInstanceUid: work.item.sopInstanceUid,
      code,
      message: error.message,
      ...(detail ? { detail } : {}),
    };
    failures.push(failure);
    doneCount++;
    doneBytes += work.item.bytes;
    options.onEvent?.({ kind: 'instance-failed', failure });
    return failure;
  };

  const takeBatch = (): Work[] => {
    const batch: Work[] = [];
    let bytes = 0;
    while (queue.length > 0 && batch.length < batchCount) {
      const next = queue[0]!;
      if (batch.length > 0 && bytes + next.item.bytes > batchBytes) break;
      queue.shift();
      batch.push(next);
      bytes += next.item.bytes;
    }
    return batch;
  };

  /** Sends one batch until it is settled: each instance confirmed, failed, or back in the queue. */
  const settle = async (initial: Work[]): Promise<void> => {
    let batch = initial;
    for (let attempt = 1; batch.length > 0; attempt++) {
      if (stop.signal.aborted) {
        queue.unshift(...batch);
        return;
      }
      let streamed = 0;
      const byUid = new Map(batch.map((w) => [w.item.sopInstanceUid, w]));
      try {
        const result = await sendBatch({
          http: options.http,
          url: options.stowUrl,
          ...(options.authorization ? { authorization: options.authorization } : {}),
          items: batch.map((w) => w.item),
          source: options.source,
          exactLengths: options.exactLengths,
          signal: stop.signal,
          onBytes: (n) => {
            streamed += n;
            inFlightBytes += n;
            meter.add(n);
            emitProgress();
          },
        });
        inFlightBytes -= streamed;
        sentBytes += streamed;
        await settleAnswer(batch, result.sent, result.answer);
        return;
      } catch (error) {
        inFlightBytes -= streamed;
        const sent = sentOf(error);
        if (sent.length > 0 && options.journal) {
          await options.journal.append({ t: 'sent', items: toSent(batch, sent) });
        }
        if (error instanceof SourceFailure) {
          const bad =
            byUid.get(error.uid) ?? batch.find((w) => w.item.sopInstanceUid === error.uid);
          if (bad) {
            await journalFailed([fail(bad, error.code, error.detail)]);
            batch = batch.filter((w) => w !== bad);
          }
          attempt--; // not the server's fault
          continue;
        }
        const failure =
          error instanceof FerryError ? error : new FerryError('internal', { cause: error });
        if (failure.code === 'cancelled' || isAbortError(error) || stop.signal.aborted) {
          queue.unshift(...batch);
          return;
        }
        if (
          failure.code === 'instance-too-large' &&
          failure.portalCode !== undefined &&
          batch.length > 1
        ) {
          // The server takes less at once than we thought: split.
          const half = Math.ceil(batch.length / 2);
          queue.unshift(...batch.slice(half));
          batch = batch.slice(0, half);
          attempt--;
          continue;
        }
        if (failure.code === 'instance-too-large') {
          await journalFailed(batch.map((w) => fail(w, 'instance-too-large', failure.detail)));
          return;
        }
        if (!isTransient(failure)) {
          fatal ??= failure;
          queue.unshift(...batch);
          stop.abort();
          return;
        }
        if (attempt >= policy.maxAttempts) {
          fatal ??= new FerryError('retries-exhausted', {
            detail: `${attempt} attempts; last: ${failure.detail ?? failure.code}`,
            cause: failure,
          });
          queue.unshift(...batch);
          stop.abort();
          return;
        }
        const delayMs = backoffMs(attempt, policy, failure.retryAfterSeconds);
        options.onEvent?.({
          kind: 'retry',
          attempt,
          delayMs,
          code: failure.code,
          ...(failure.detail ? { detail: failure.detail } : {}),
        });
        try {
          await sleep(delayMs, stop.signal);
        } catch {
          queue.unshift(...batch);
          return;
        }
      }
    }
  };

  const journalFailed = async (list: readonly InstanceFailure[]): Promise<void> => {
    if (list.length === 0 || !options.journal) return;
    await options.journal.append({
      t: 'failed',
      items: list.map((f) => ({
        uid: f.sopInstanceUid,
        code: f.code,
        ...(f.detail ? { detail: f.detail } : {}),
      })),
    });
  };

  const settleAnswer = async (
    batch: Work[],
    sent: readonly SentInstance[],
    answer: { referenced: ReadonlySet<string>; failed: ReadonlyMap<string, number> },
  ): Promise<void> => {
    const ok: string[] = [];
    const failedNow: InstanceFailure[] = [];
    const again: Work[] = [];
    // The source may have remapped UIDs (de-identification): answers name what was sent.
    const sentUidFor = new Map<Work, string>();
    batch.forEach((w) => sentUidFor.set(w, w.item.sopInstanceUid));
    for (const s of sent) {
      const work = batch[s.index];
      if (work) sentUidFor.set(work, s.uid);
    }
    for (const work of batch) {
      const uid = sentUidFor.get(work)!;
      work.attempts++;
      if (answer.referenced.has(uid)) {
        ok.push(work.item.sopInstanceUid);
        continue;
      }
      const reason = answer.failed.get(uid);
      if (reason !== undefined) {
        const { retry, code } = classifyFailureReason(reason);
        if (!retry || work.attempts >= maxInstanceAttempts) {
          failedNow.push(
            fail(work, code, `FailureReason 0x${reason.toString(16).padStart(4, '0')}`),
          );
        } else again.push(work);
        continue;
      }
      // HTTP 200 alone is no proof: an instance the answer does not name goes again.
      if (work.attempts >= maxInstanceAttempts) {
        failedNow.push(fail(work, 'instance-refused', 'never acknowledged by the archive'));
      } else again.push(work);
    }
    const records: JournalRecord[] = [];
    if (sent.length > 0) records.push({ t: 'sent', items: toSent(batch, sent) });
    if (ok.length > 0) records.push({ t: 'confirmed', via: 'stow', uids: ok });
    if (failedNow.length > 0) {
      records.push({
        t: 'failed',
        items: failedNow.map((f) => ({
          uid: f.sopInstanceUid,
          code: f.code,
          ...(f.detail ? { detail: f.detail } : {}),
        })),
      });
    }
    queue.push(...again);
    const count = (): void => {
      for (const work of batch) {
        if (ok.includes(work.item.sopInstanceUid)) {
          confirmed.push(work.item.sopInstanceUid);
          doneCount++;
          doneBytes += work.item.bytes;
        }
      }
      emitProgress(true);
    };
    if (!options.journal) {
      count();
      return;
    }
    // Durable before it counts; meanwhile this worker sends its next batch, so the fdatasync is not
    // on the sending path. A crash before the write lands loses nothing: these instances are then
    // asked about (or sent) again on resume, as after a crash during the request itself.
    const landing = options.journal.append(...records).then(count, (error: unknown) => {
      journalError ??= error;
      stop.abort();
    });
    journalWrites.add(landing);
    void landing.finally(() => journalWrites.delete(landing));
  };

  const worker = async (): Promise<void> => {
    for (;;) {
      if (stop.signal.aborted) return;
      await options.gate?.();
      if (stop.signal.aborted) return;
      const batch = takeBatch();
      if (batch.length === 0) {
        // Others may still put instances back; wait for them before giving up.
        if (active === 0) return;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      active++;
      try {
        await settle(batch);
      } finally {
        active--;
        for (const wake of waiting.splice(0)) wake();
      }
    }
  };
  let active = 0;
  const waiting: (() => void)[] = [];

  emitProgress(true);
  try {
    await Promise.all(Array.from({ length: concurrency }, () => worker()));
  } finally {
    while (journalWrites.size > 0) await Promise.all(journalWrites);
    options.signal?.removeEventListener('abort', onOuterAbort);
  }
  emitProgress(true);
  if (journalError !== undefined) throw journalError;
  if (fatal) throw fatal;
  if (options.signal?.aborted) throw new FerryError('cancelled');
  return { confirmed, failures, sentBytes };
}

/** Journal entries are keyed by the selection's UIDs; each `sent` names its batch position. */
function toSent(
  batch: readonly Work[],
  sent: readonly SentInstance[],
): { uid: string; sha256: string; bytes: number }[] {
  return sent.map((s) => ({
    uid: batch[s.index]?.item.sopInstanceUid ?? s.uid,
    sha256: s.sha256,
    bytes: s.bytes,
  }));
}
