/**
 * One STOW-RS Store Instances request (PS3.18 10.5): a multipart/related; type="application/dicom"
 * body streamed from the instances' sources (PS3.18 8.6.1.2), hashing each instance as it goes out
 * (on the hashing thread, hash.ts),
 * and the answer read per instance (PS3.18 10.5.3): ReferencedSOPSequence (0008,1199) is proof of
 * storage, FailedSOPSequence (0008,1198) carries a FailureReason (0008,1197); an instance in
 * neither was not acknowledged, whatever the HTTP status.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { FerryError } from '../errors.ts';
import { errorForResponse, errorForTransport, jsonBody } from '../link/http.ts';
import { POOL_CHUNK_BYTES, releasePoolChunk, sharedHasher, type Hasher } from './hash.ts';
import type { InstanceSource, OpenedInstance, UploadItem } from './source.ts';

export interface SentInstance {
  /** Position of the instance in the batch's items. */
  readonly index: number;
  /** The SOP Instance UID of the bytes sent (a de-identifying source may have remapped it). */
  readonly uid: string;
  readonly sha256: string;
  readonly bytes: number;
}

export interface StowAnswer {
  readonly referenced: ReadonlySet<string>;
  /** SOP Instance UID -> FailureReason. */
  readonly failed: ReadonlyMap<string, number>;
  /** Failures the archive could not attach to an instance. */
  readonly failedWithoutUid: number;
}

type DicomJsonItem = Record<string, { Value?: unknown[] } | undefined>;

function uidOf(item: DicomJsonItem): string | undefined {
  const value = item['00081155']?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}

/** Reads a Store Instances Response (DICOM JSON model, PS3.18 F.2); undefined when it is not one. */
export function parseStowAnswer(body: unknown): StowAnswer | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const json = body as Record<string, { Value?: unknown[] } | undefined>;
  if ('error' in json) return undefined; // the portal's error body
  const referenced = new Set<string>();
  const failed = new Map<string, number>();
  let failedWithoutUid = 0;
  for (const item of (json['00081199']?.Value ?? []) as DicomJsonItem[]) {
    const uid = uidOf(item ?? {});
    if (uid !== undefined) referenced.add(uid);
  }
  for (const item of (json['00081198']?.Value ?? []) as DicomJsonItem[]) {
    const uid = uidOf(item ?? {});
    const reason = item?.['00081197']?.Value?.[0];
    if (uid === undefined) failedWithoutUid++;
    else failed.set(uid, typeof reason === 'number' ? reason : 0x0110);
  }
  return { referenced, failed, failedWithoutUid };
}

/** PS3.4 / PS3.18 failure reasons: which are worth another attempt, and the error to show. */
export function classifyFailureReason(reason: number): {
  retry: boolean;
  code: FerryError['code'];
} {
  switch (reason) {
    case 0x0110: // Processing failure
    case 0xa700: // Out of resources (a full archive may have room later; the portal's limit says over-limit)
      return {
        retry: reason === 0x0110,
        code: reason === 0x0110 ? 'instance-refused' : 'over-limit',
      };
    case 0x0111: // Duplicate SOP Instance with different content
      return { retry: false, code: 'instance-conflict' };
    case 0x0124: // Not authorized
      return { retry: false, code: 'instance-not-authorized' };
    default: // 0xA900 data set does not match SOP class, 0xC000 cannot understand, 0xC122 …
      return { retry: false, code: 'instance-refused' };
  }
}

export interface BatchRequest {
  readonly http: AxiosInstance;
  readonly url: string;
  readonly authorization?: string;
  readonly items: readonly UploadItem[];
  readonly source: InstanceSource;
  /** The source's streams are exactly item.bytes long: send Content-Length (else chunked). */
  readonly exactLengths: boolean;
  readonly signal?: AbortSignal;
  /** Bytes as they go out (for progress). */
  readonly onBytes?: (n: number) => void;
  /** SHA-256 of each instance as it goes out; default: the process's hashing thread. */
  readonly hasher?: Hasher;
}

export interface BatchResult {
  /** Instances whose bytes went out in full, with their hash. */
  readonly sent: readonly SentInstance[];
  readonly answer: StowAnswer;
  readonly httpStatus: number;
}

/** Thrown when a source could not give an instance's bytes; the batch is sent again without it. */
export class SourceFailure extends Error {
  constructor(
    readonly uid: string,
    readonly code: 'instance-unreadable' | 'instance-changed',
    readonly detail: string,
  ) {
    super(detail);
  }
}

/** Answers are JSON documents listing every instance of a batch; more than this is not one. */
const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Read-ahead of a request body beyond the chunk at the socket: one pool chunk. */
const BODY_HIGH_WATER_MARK = POOL_CHUNK_BYTES;

/** A promise settled from outside, once. */
class Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  #resolve!: (value: T) => void;
  #reject!: (error: Error) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => undefined);
  }
  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.#resolve(value);
  }
  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.#reject(error);
  }
}

/** One instance of the body: its hash is asked for once its last byte was taken by the socket. */
interface Outgoing {
  readonly index: number;
  readonly uid: string;
  readonly bytes: number;
  readonly digest: Deferred<string>;
  /** Every byte of it was taken by the socket: only then does it count as sent. */
  written: boolean;
}

/**
 * One buffer pushed into the body. `done` runs once per piece, in body order: with `copied`
 * false when the request's write of this very buffer completed (error: it failed); with `copied`
 * true when the buffer was not seen at the request's write (a stage between body and request
 * made its own buffers), so only the request's end tells whether it went out. `drop` runs
 * instead when the request is over and `done` never ran.
 */
interface Piece {
  readonly chunk: Buffer;
  readonly done?: (error: Error | null | undefined, copied: boolean) => void;
  readonly drop?: () => void;
  state: 'queued' | 'writing' | 'settled' | 'copied' | 'over';
  error?: Error | null | undefined;
}

/**
 * Destroys an instance's stream that was not read to the end. A chunk it read ahead and still
 * buffers would be lost with it: taken out first, it goes back to the pool (a file stream reads
 * ahead one pool chunk; the stream gives it as the same object).
 */
function closeSource(stream: Readable, owned: boolean): void {
  if (stream.destroyed) return;
  if (owned && !stream.readableEnded) {
    for (let chunk = stream.read() as unknown; chunk !== null; chunk = stream.read() as unknown) {
      if (chunk instanceof Uint8Array) releasePoolChunk(chunk);
    }
  }
  stream.destroy();
}

/** The error a write of a piece fails with when its request ends first. */
function notSent(): Error {
  return new Error('not sent in full');
}

/**
 * The multipart/related body of one request, as one Readable that pulls each instance's stream
 * itself: part header, the instance's chunks as its source gives them, CRLF, and the closing
 * delimiter. axios pipes it into the request (`data.pipe(req)`: no stage in between when there
 * is no upload progress, rate limit or body length limit), so each buffer pushed here is the one
 * the request's `write` gets. The transport below wraps that `write` to learn when the socket
 * took each buffer: only then is a chunk handed to the hasher, so a chunk the source owns moves to
 * the hashing thread without a copy and its pool slot is read into again only after that.
 *
 * A buffer that reaches `write` but is not the next one pushed (another axios version, or a
 * config that adds a stage) ends that tracking for the rest of the request: every chunk is then
 * hashed from a copy, in body order, a pool chunk keeps its slot until the request is closed, and
 * instances count as sent only once the whole body was taken ('finish'). Slower, never wrong.
 */
class MultipartBody extends Readable {
  readonly outgoing: Outgoing[] = [];
  sourceFailure: SourceFailure | undefined;
  readonly #request: BatchRequest;
  readonly #boundary: string;
  readonly #hasher: Hasher;
  /** The instances' streams, and whether their chunks are theirs to give back to the pool. */
  readonly #opened: { readonly stream: Readable; readonly owned: boolean }[] = [];
  /** Pieces pushed whose `done` (or `drop`) has not run, in body order. */
  readonly #order: Piece[] = [];
  /** Pieces pushed that `write` has not seen yet, in body order. */
  readonly #queued: Piece[] = [];
  /** Pool chunks hashed from a copy: their slots are given back once the request is closed. */
  readonly #held: Uint8Array[] = [];
  #tracking = true;
  #started = false;
  #stopped = false;
  #req: http.ClientRequest | undefined;
  #requestClosed = false;
  #wanted: (() => void) | undefined;

  constructor(request: BatchRequest, boundary: string, hasher: Hasher) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
    this.#request = request;
    this.#boundary = boundary;
    this.#hasher = hasher;
  }

  /**
   * axios's `transport`: the request goes out on node:http or node:https with the options axios
   * made from the session client's config (its keep-alive agents, headers, idle timeout).
   */
  readonly transport = {
    request: (
      options: http.RequestOptions,
      callback: (res: http.IncomingMessage) => void,
    ): http.ClientRequest => {
      const req = (options.protocol === 'https:' ? https : http).request(options, callback);
      this.#attach(req);
      this.#connectTimeout(req);
      return req;
    },
  };

  #attach(req: http.ClientRequest): void {
    this.#req = req;
    const write = req.write;
    const claim = (chunk: unknown): Piece | undefined => this.#claim(chunk);
    const written = (piece: Piece, error: Error | null | undefined): void =>
      this.#written(piece, error);
    req.write = function (
      this: http.ClientRequest,
      chunk: unknown,
      encoding?: unknown,
      callback?: (error: Error | null | undefined) => void,
    ): boolean {
      if (typeof encoding === 'function') {
        callback = encoding as typeof callback;
        encoding = undefined;
      }
      const piece = claim(chunk);
      const call = write as (chunk: unknown, encoding: unknown, cb?: typeof callback) => boolean;
      if (piece === undefined) return call.call(this, chunk, encoding, callback);
      return call.call(this, chunk, encoding, (error) => {
        written(piece, error);
        callback?.(error);
      });
    } as typeof req.write;
    // After the answer began, a failed write is the server closing early: the answer decides
    // (it ends, or axios reports it cut off). Before, axios hears of it as a failed request.
    let answered = false;
    req.once('response', () => (answered = true));
    const emit = req.emit;
    req.emit = function (this: http.ClientRequest, event: string | symbol, ...args: unknown[]) {
      if (event === 'error' && answered) return false;
      return emit.call(this, event, ...args);
    } as typeof req.emit;
    req.once('finish', () => {
      // Every byte of the body was taken by the socket.
      for (const out of this.outgoing) out.written = true;
    });
    req.once('close', () => {
      this.#requestClosed = true;
      this.#release();
    });
  }

  /**
   * axios's idle timeout counts from the connection; this gives up a connection that does not
   * open in that time either (axios does the same on its own transports).
   */
  #connectTimeout(req: http.ClientRequest): void {
    const timeoutMs = this.#request.http.defaults.timeout;
    if (typeof timeoutMs !== 'number' || timeoutMs <= 0) return;
    const timer = setTimeout(() => {
      req.destroy(
        Object.assign(new Error(`no connection in ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
      );
    }, timeoutMs);
    const clear = (): void => clearTimeout(timer);
    req.once('socket', (socket) => {
      if (socket.connecting) socket.once('connect', clear);
      else clear();
    });
    req.once('close', clear);
  }

  #claim(chunk: unknown): Piece | undefined {
    if (!this.#tracking) return undefined;
    const next = this.#queued[0];
    if (next !== undefined && next.chunk === chunk) {
      this.#queued.shift();
      next.state = 'writing';
      return next;
    }
    this.#tracking = false;
    for (const piece of this.#queued.splice(0)) piece.state = 'copied';
    this.#settle();
    return undefined;
  }

  #written(piece: Piece, error: Error | null | undefined): void {
    if (piece.state !== 'writing') return; // the request is over: dropped already
    piece.state = 'settled';
    piece.error = error;
    this.#settle();
  }

  /** Runs `done` of the pieces at the head of the body whose fate is known, in order. */
  #settle(): void {
    while (this.#order.length > 0) {
      const piece = this.#order[0]!;
      if (piece.state !== 'settled' && piece.state !== 'copied') return;
      this.#order.shift();
      const copied = piece.state === 'copied';
      piece.state = 'over';
      piece.done?.(piece.error, copied);
    }
  }

  /** Pushes a piece; when the consumer is full, waits until it asks for more. */
  async #push(piece: Omit<Piece, 'state'>): Promise<void> {
    if (this.#stopped) {
      piece.drop?.(); // the request is over: nobody will write it
      return;
    }
    const entry: Piece = { ...piece, state: this.#tracking ? 'queued' : 'copied' };
    this.#order.push(entry);
    if (this.#tracking) this.#queued.push(entry);
    else this.#settle();
    // Registered before push(): in flowing mode push() may reach write() at once.
    if (!this.push(entry.chunk)) await new Promise<void>((resolve) => (this.#wanted = resolve));
  }

  override _read(): void {
    const wanted = this.#wanted;
    this.#wanted = undefined;
    wanted?.();
    if (!this.#started) {
      this.#started = true;
      this.#pump().then(
        () => {
          if (!this.#stopped) this.push(null);
        },
        (error: unknown) => this.destroy(error as Error),
      );
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopped = true;
    for (const opened of this.#opened) closeSource(opened.stream, opened.owned);
    const wanted = this.#wanted;
    this.#wanted = undefined;
    wanted?.();
    callback(error);
  }

  /**
   * The request is over (answered, failed or cancelled): stop the body, close the sources, end a
   * request that did not carry the whole body, and give up the digests of instances whose bytes
   * were not all taken by the socket.
   */
  stop(): void {
    this.#stopped = true;
    const req = this.#req;
    if (req !== undefined && !req.writableFinished) req.destroy();
    this.destroy();
    for (const out of this.outgoing) {
      if (!out.written) out.digest.reject(notSent());
    }
    this.#release();
  }

  /**
   * Once the body is stopped and the request closed (or never made), nothing holds the pieces
   * whose write never completed, nor the chunks hashed from a copy: their slots go back.
   */
  #release(): void {
    if (!this.#stopped || (this.#req !== undefined && !this.#requestClosed)) return;
    this.#queued.length = 0;
    for (const piece of this.#order.splice(0)) {
      piece.state = 'over';
      piece.drop?.();
    }
    for (const chunk of this.#held.splice(0)) releasePoolChunk(chunk);
  }

  #failSource(uid: string, code: SourceFailure['code'], detail: string): SourceFailure {
    this.sourceFailure = new SourceFailure(uid, code, detail);
    return this.sourceFailure;
  }

  async #pump(): Promise<void> {
    const request = this.#request;
    const head = Buffer.from(`--${this.#boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    for (const [index, item] of request.items.entries()) {
      if (this.#stopped) return;
      let instance: OpenedInstance;
      try {
        instance = await request.source(item, request.signal);
      } catch (error) {
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-unreadable',
          `source: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
      if (this.#stopped) {
        instance.stream.destroy(); // opened after the request ended: nobody will read it
        return;
      }
      this.#opened.push({ stream: instance.stream, owned: instance.ownsChunks === true });
      if (request.exactLengths && instance.bytes !== undefined && instance.bytes !== item.bytes) {
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-changed',
          'size differs from the scan',
        );
      }
      request.onBytes?.(head.length);
      // Each piece its own buffer: write() tells pieces apart by identity.
      await this.#push({ chunk: Buffer.from(head) });
      const hash = this.#hasher.begin();
      const owned = instance.ownsChunks === true;
      let bytes = 0;
      let failed = false;
      // A chunk that does not reach the hasher goes back to the pool (if it is one of its own).
      const drop = (chunk: Uint8Array): void => {
        if (owned) releasePoolChunk(chunk);
      };
      const feed =
        (chunk: Uint8Array) =>
        (error: Error | null | undefined, copied: boolean): void => {
          if (error) failed = true;
          if (failed) drop(chunk);
          else if (!copied) hash.update(chunk, owned);
          else {
            hash.update(chunk, false);
            if (owned) this.#held.push(chunk);
          }
        };
      try {
        for await (const read of instance.stream as AsyncIterable<Uint8Array>) {
          if (this.#stopped) {
            drop(read);
            hash.abort();
            return;
          }
          bytes += read.length;
          if (request.exactLengths && bytes > item.bytes) {
            drop(read);
            break;
          }
          // A Buffer as is (the stream passes the same object on); a plain Uint8Array viewed
          // as one, without a copy.
          const chunk = Buffer.isBuffer(read)
            ? read
            : Buffer.from(read.buffer, read.byteOffset, read.byteLength);
          request.onBytes?.(chunk.length);
          await this.#push({ chunk, done: feed(chunk), drop: () => drop(chunk) });
          const ready = this.#hasher.ready();
          if (ready) await ready;
        }
      } catch (error) {
        hash.abort();
        if (this.#stopped) return;
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-unreadable',
          `read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
      if (request.exactLengths && bytes !== item.bytes) {
        hash.abort();
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-changed',
          'length differs from the scan',
        );
      }
      const out: Outgoing = {
        index,
        uid: instance.sopInstanceUid,
        bytes,
        digest: new Deferred<string>(),
        written: false,
      };
      this.outgoing.push(out);
      // The CRLF comes after every chunk of the instance: when its write completed, the instance
      // is out and its digest can be had. Copied, the digest is asked for at once; the request's
      // 'finish' says whether the bytes went out.
      await this.#push({
        chunk: Buffer.from('\r\n'),
        done: (error, copied) => {
          if (error || failed || out.digest.settled) {
            hash.abort();
            out.digest.reject(error ?? notSent());
            return;
          }
          if (!copied) out.written = true;
          hash.digest().then(
            (hex) => out.digest.resolve(hex),
            (e: unknown) => out.digest.reject(e as Error),
          );
        },
        drop: () => hash.abort(),
      });
    }
    if (this.#stopped) return;
    await this.#push({ chunk: Buffer.from(`--${this.#boundary}--\r\n`) });
  }

  /** The instances sent in full, with their digests; one whose digest never came is left out. */
  async settled(): Promise<SentInstance[]> {
    const digests = await Promise.allSettled(this.outgoing.map((o) => o.digest.promise));
    return this.outgoing.flatMap((o, i) => {
      const d = digests[i];
      return d?.status === 'fulfilled' && o.written
        ? [{ index: o.index, uid: o.uid, sha256: d.value, bytes: o.bytes }]
        : [];
    });
  }
}

function abortError(): Error {
  return Object.assign(new Error('cancelled'), { name: 'AbortError' });
}

/**
 * Sends one batch. Resolves with the per-instance answer; rejects with a FerryError for an answer
 * that is not one (HTTP error, portal error body), for no answer (network), or with SourceFailure.
 * `sent` of a failed attempt is on the error as `.sent`.
 *
 * The request goes through the session's axios client (its agents, idle timeout, user agent,
 * answer limits and error shapes), with a transport that gives each body chunk a completion
 * callback (MultipartBody).
 */
export async function sendBatch(request: BatchRequest): Promise<BatchResult> {
  const boundary = `ferry-${randomBytes(16).toString('hex')}`;
  const body = new MultipartBody(request, boundary, request.hasher ?? sharedHasher());
  const headers: Record<string, string> = {
    'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
    accept: 'application/dicom+json, application/json',
  };
  if (request.authorization) headers.authorization = request.authorization;
  if (request.exactLengths)
    headers['content-length'] = String(contentLength(request.items, boundary));

  let response: AxiosResponse;
  try {
    if (request.signal?.aborted) throw abortError();
    response = await request.http.post(request.url, body, {
      headers,
      ...(request.signal ? { signal: request.signal } : {}),
      transport: body.transport,
      // -1: no limit, and no counting stage between the body and the request.
      maxBodyLength: -1,
      maxContentLength: MAX_ANSWER_BYTES,
      responseType: 'text',
      validateStatus: () => true,
    });
  } catch (error) {
    body.stop();
    const sent = await body.settled();
    if (body.sourceFailure) throw Object.assign(body.sourceFailure, { sent });
    throw Object.assign(errorForTransport(error, 'send images'), { sent });
  }
  body.stop();
  const sent = await body.settled();
  if (body.sourceFailure) throw Object.assign(body.sourceFailure, { sent });
  if (sent.length < body.outgoing.filter((o) => o.written).length) {
    // A digest was lost (the hashing thread died): the journal must not record a wrong hash.
    // (An instance not taken in full by the socket before the answer is not sent: the answer
    // decides, and one it does not name is sent again.)
    throw Object.assign(
      new FerryError('internal', { detail: 'send images: hashing failed; sent again' }),
      { sent },
    );
  }
  const answer = [200, 202, 409].includes(response.status)
    ? parseStowAnswer(jsonBody(response))
    : undefined;
  if (answer === undefined) {
    const failure =
      response.status >= 200 && response.status < 300
        ? new FerryError('portal-protocol', {
            detail: `send images: HTTP ${response.status} without a STOW-RS answer`,
          })
        : errorForResponse(response, 'send images');
    throw Object.assign(failure, { sent });
  }
  return { sent, answer, httpStatus: response.status };
}

/** The exact body length for items of known size. */
export function contentLength(items: readonly UploadItem[], boundary: string): number {
  const head = Buffer.byteLength(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
  let total = Buffer.byteLength(`--${boundary}--\r\n`);
  for (const item of items) total += head + item.bytes + 2;
  return total;
}

/** What the request carried when it failed: `sent` is attached to the error. */
export function sentOf(error: unknown): readonly SentInstance[] {
  const sent = (error as { sent?: SentInstance[] } | null)?.sent;
  return Array.isArray(sent) ? sent : [];
}
