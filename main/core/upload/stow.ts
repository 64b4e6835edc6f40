/**
 * One STOW-RS Store Instances request (PS3.18 10.5): a multipart/related; type="application/dicom"
 * body streamed from the instances' sources (PS3.18 8.6.1.2), hashing each instance as it goes out,
 * and the answer read per instance (PS3.18 10.5.3): ReferencedSOPSequence (0008,1199) is proof of
 * storage, FailedSOPSequence (0008,1198) carries a FailureReason (0008,1197); an instance in
 * neither was not acknowledged, whatever the HTTP status.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { FerryError } from '../errors.ts';
import { errorForResponse, errorForTransport, jsonBody } from '../link/http.ts';
import { sharedHasher, type Hasher, type InstanceHash } from './hash.ts';
import type { InstanceSource, OpenedInstance, UploadItem } from './source.ts';

export interface SentInstance {
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
  /** SHA-256 of each instance as it goes out; default: the shared hashing thread. */
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

/** Read-ahead of a request body: large, so the socket never waits for the disc. */
const BODY_HIGH_WATER_MARK = 4 * 1024 * 1024;

/**
 * The multipart/related body of one request, as one Readable that pulls each instance's stream
 * itself: part header, the instance's chunks as they come (each also handed to the hasher, in the
 * same pass), CRLF, and the closing delimiter. No generator, no intermediate stream stage, no
 * copies of the instance bytes on the main thread.
 */
class MultipartBody extends Readable {
  readonly sent: SentInstance[] = [];
  readonly digests: Promise<string>[] = [];
  sourceFailure: SourceFailure | undefined;
  readonly opened: Readable[] = [];
  readonly #request: BatchRequest;
  readonly #boundary: string;
  readonly #hasher: Hasher;
  #started = false;
  #wanted: (() => void) | undefined;
  #current: InstanceHash | undefined;

  constructor(request: BatchRequest, boundary: string, hasher: Hasher) {
    super({ highWaterMark: BODY_HIGH_WATER_MARK });
    this.#request = request;
    this.#boundary = boundary;
    this.#hasher = hasher;
  }

  override _read(): void {
    const wanted = this.#wanted;
    this.#wanted = undefined;
    wanted?.();
    if (!this.#started) {
      this.#started = true;
      this.#pump().catch((error: unknown) => this.destroy(error as Error));
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#current?.abort();
    this.#current = undefined;
    for (const stream of this.opened) stream.destroy();
    const wanted = this.#wanted;
    this.#wanted = undefined;
    wanted?.();
    callback(error);
  }

  /** Pushes; when the consumer is full, waits until it asks for more. */
  async #push(chunk: Uint8Array): Promise<void> {
    if (!this.push(chunk)) await new Promise<void>((resolve) => (this.#wanted = resolve));
  }

  #failSource(uid: string, code: SourceFailure['code'], detail: string): SourceFailure {
    this.sourceFailure = new SourceFailure(uid, code, detail);
    return this.sourceFailure;
  }

  async #pump(): Promise<void> {
    const request = this.#request;
    const head = Buffer.from(`--${this.#boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    const crlf = Buffer.from('\r\n');
    for (const item of request.items) {
      if (this.destroyed) return;
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
      if (this.destroyed) {
        instance.stream.destroy(); // opened after the request ended: nobody will read it
        return;
      }
      this.opened.push(instance.stream);
      if (request.exactLengths && instance.bytes !== undefined && instance.bytes !== item.bytes) {
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-changed',
          'size differs from the scan',
        );
      }
      request.onBytes?.(head.length);
      await this.#push(head);
      const hash = this.#hasher.begin();
      this.#current = hash;
      let bytes = 0;
      try {
        for await (const chunk of instance.stream as AsyncIterable<Buffer>) {
          if (this.destroyed) return;
          bytes += chunk.length;
          if (request.exactLengths && bytes > item.bytes) break;
          hash.update(chunk);
          request.onBytes?.(chunk.length);
          await this.#push(chunk);
          const ready = this.#hasher.ready();
          if (ready) await ready;
        }
      } catch (error) {
        if (this.destroyed) return;
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-unreadable',
          `read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
      }
      if (request.exactLengths && bytes !== item.bytes) {
        throw this.#failSource(
          item.sopInstanceUid,
          'instance-changed',
          'length differs from the scan',
        );
      }
      this.#current = undefined;
      // Not awaited here: the digest arrives while the next instance streams.
      const digest = hash.digest();
      digest.catch(() => undefined);
      this.digests.push(digest);
      this.sent.push({ uid: instance.sopInstanceUid, sha256: '', bytes });
      await this.#push(crlf);
    }
    this.push(Buffer.from(`--${this.#boundary}--\r\n`));
    this.push(null);
  }

  /** `sent` with the digests filled in; instances whose digest never came are left out. */
  async settled(): Promise<SentInstance[]> {
    const digests = await Promise.allSettled(this.digests);
    return this.sent.flatMap((s, i) => {
      const d = digests[i];
      return d?.status === 'fulfilled' ? [{ ...s, sha256: d.value }] : [];
    });
  }
}

/**
 * Sends one batch. Resolves with the per-instance answer; rejects with a FerryError for an answer
 * that is not one (HTTP error, portal error body), for no answer (network), or with SourceFailure.
 * `sent` of a failed attempt is on the error as `.sent`.
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
    response = await request.http.post(request.url, body, {
      headers,
      ...(request.signal ? { signal: request.signal } : {}),
    });
  } catch (error) {
    body.destroy();
    const sent = await body.settled();
    if (body.sourceFailure) throw Object.assign(body.sourceFailure, { sent });
    throw Object.assign(errorForTransport(error, 'send images'), { sent });
  }
  body.destroy();
  const sent = await body.settled();
  if (body.sourceFailure) throw Object.assign(body.sourceFailure, { sent });
  if (sent.length < body.sent.length) {
    // A digest was lost (the hashing thread died): the journal must not record a wrong hash.
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
