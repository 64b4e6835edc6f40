/**
 * One STOW-RS Store Instances request (PS3.18 10.5): a multipart/related; type="application/dicom"
 * body streamed from the instances' sources (PS3.18 8.6.1.2), hashing each instance as it goes out,
 * and the answer read per instance (PS3.18 10.5.3): ReferencedSOPSequence (0008,1199) is proof of
 * storage, FailedSOPSequence (0008,1198) carries a FailureReason (0008,1197); an instance in
 * neither was not acknowledged, whatever the HTTP status.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { AxiosInstance, AxiosResponse } from 'axios';
import { FerryError } from '../errors.ts';
import { errorForResponse, errorForTransport, jsonBody } from '../link/http.ts';
import type { InstanceSource, UploadItem } from './source.ts';

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

/**
 * Sends one batch. Resolves with the per-instance answer; rejects with a FerryError for an answer
 * that is not one (HTTP error, portal error body), for no answer (network), or with SourceFailure.
 * `sent` of a failed attempt is on the error as `.sent`.
 */
export async function sendBatch(request: BatchRequest): Promise<BatchResult> {
  const boundary = `ferry-${randomBytes(16).toString('hex')}`;
  const sent: SentInstance[] = [];
  let sourceFailure: SourceFailure | undefined;
  const opened: Readable[] = [];

  async function* parts(): AsyncGenerator<Buffer> {
    for (const item of request.items) {
      let instance;
      try {
        instance = await request.source(item, request.signal);
      } catch (error) {
        sourceFailure = new SourceFailure(
          item.sopInstanceUid,
          'instance-unreadable',
          `source: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
        throw sourceFailure;
      }
      opened.push(instance.stream);
      if (request.exactLengths && instance.bytes !== undefined && instance.bytes !== item.bytes) {
        sourceFailure = new SourceFailure(
          item.sopInstanceUid,
          'instance-changed',
          'size differs from the scan',
        );
        throw sourceFailure;
      }
      const head = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
      request.onBytes?.(head.length);
      yield head;
      const hash = createHash('sha256');
      let bytes = 0;
      try {
        for await (const chunk of instance.stream as AsyncIterable<Buffer>) {
          hash.update(chunk);
          bytes += chunk.length;
          if (request.exactLengths && bytes > item.bytes) break;
          request.onBytes?.(chunk.length);
          yield chunk;
        }
      } catch (error) {
        sourceFailure = new SourceFailure(
          item.sopInstanceUid,
          'instance-unreadable',
          `read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
        );
        throw sourceFailure;
      }
      if (request.exactLengths && bytes !== item.bytes) {
        sourceFailure = new SourceFailure(
          item.sopInstanceUid,
          'instance-changed',
          'length differs from the scan',
        );
        throw sourceFailure;
      }
      yield Buffer.from('\r\n');
      sent.push({ uid: instance.sopInstanceUid, sha256: hash.digest('hex'), bytes });
    }
    yield Buffer.from(`--${boundary}--\r\n`);
  }

  const body = Readable.from(parts(), { objectMode: false, highWaterMark: 1024 * 1024 });
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
    if (sourceFailure) throw Object.assign(sourceFailure, { sent });
    throw Object.assign(errorForTransport(error, 'send images'), { sent });
  } finally {
    body.destroy();
    for (const stream of opened) stream.destroy();
  }
  if (sourceFailure) throw Object.assign(sourceFailure, { sent });
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
