/**
 * A fault-injecting HTTP proxy for upload tests: sits between Ferry and the portal on loopback and,
 * request by request as a plan says, resets connections (before, during or after the portal saw
 * the body), answers 500/503/429 with Retry-After itself, delays or trickles answers, or stalls
 * (reads the request, never answers). It also reads every STOW-RS body going through and counts,
 * per SOP Instance UID, the parts the client sent in full: what "no confirmed instance re-sent"
 * is checked against.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readInstanceHeader } from '../../main/core/dicom/instance.ts';
import { MultipartParser, parseMediaType } from '../../portal/multipart.ts';

export type Fault =
  /** Close the client's connection at once; nothing reaches the portal. */
  | { readonly kind: 'reset' }
  /** Forward part of the body, then close both connections: the portal gets a torn request. */
  | { readonly kind: 'reset-mid-body'; readonly afterBytes?: number }
  /** Forward the whole request, let the portal answer, then close the client's connection instead. */
  | { readonly kind: 'reset-after' }
  /** Answer with this status without forwarding. */
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  /** Forward, then hold the answer this long. */
  | { readonly kind: 'slow'; readonly delayMs: number }
  /** Forward, then send the answer a few bytes at a time. */
  | { readonly kind: 'trickle'; readonly chunkBytes: number; readonly everyMs: number }
  /** Read the request, never answer. */
  | { readonly kind: 'stall' };

export interface ProxiedRequest {
  readonly index: number;
  readonly method: string;
  readonly url: string;
  readonly isStow: boolean;
}

export interface FaultProxyOptions {
  /** Where to forward; may be set later through `proxy.target` (the portal needs the proxy's URL first). */
  readonly target?: string;
  /** Decides each request's fault (undefined: forward untouched). */
  readonly plan?: (request: ProxiedRequest) => Fault | undefined;
}

export interface FaultProxy {
  readonly url: string;
  target: string;
  plan: ((request: ProxiedRequest) => Fault | undefined) | undefined;
  /** Requests seen, and faults injected by kind. */
  readonly stats: { requests: number; stowRequests: number; faults: Record<string, number> };
  /** SOP Instance UID -> parts the client sent in full (whatever happened to the request next). */
  readonly stowParts: Map<string, number>;
  close(): Promise<void>;
}

const HEAD_BYTES = 64 * 1024;

/** Counts, per SOP Instance UID, the complete parts of a STOW-RS body as it streams through. */
class StowObserver {
  readonly #parser: MultipartParser;
  #head: Buffer[] = [];
  #headBytes = 0;
  #size = 0;
  readonly uids: string[] = [];

  constructor(boundary: string) {
    this.#parser = new MultipartParser(boundary);
  }

  write(chunk: Buffer): void {
    try {
      for (const event of this.#parser.write(chunk)) {
        if (event.kind === 'part-start') {
          this.#head = [];
          this.#headBytes = 0;
          this.#size = 0;
        } else if (event.kind === 'part-data') {
          this.#size += event.data.length;
          if (this.#headBytes < HEAD_BYTES) {
            const slice = Buffer.from(event.data.subarray(0, HEAD_BYTES - this.#headBytes));
            this.#head.push(slice);
            this.#headBytes += slice.length;
          }
        } else {
          const read = readInstanceHeader(Buffer.concat(this.#head), { fileSize: this.#size });
          if (read.kind === 'dicom') this.uids.push(read.header.sopInstanceUid);
        }
      }
    } catch {
      // a torn body: the parts seen so far stand
    }
  }
}

export async function startFaultProxy(options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const stats = { requests: 0, stowRequests: 0, faults: {} as Record<string, number> };
  const stowParts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server = http.createServer();
  server.requestTimeout = 0;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const proxy: FaultProxy = {
    url: '',
    target: options.target ?? '',
    plan: options.plan,
    stats,
    stowParts,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const index = stats.requests++;
    const mediaType = parseMediaType(req.headers['content-type']);
    const isStow = req.method === 'POST' && mediaType?.type === 'multipart/related';
    if (isStow) stats.stowRequests++;
    const fault = proxy.plan?.({ index, method: req.method ?? 'GET', url: req.url ?? '/', isStow });
    if (fault) stats.faults[fault.kind] = (stats.faults[fault.kind] ?? 0) + 1;

    // Count the parts the client sent, whatever the fault does with them.
    const observer =
      isStow && mediaType?.params.boundary
        ? new StowObserver(mediaType.params.boundary)
        : undefined;
    const countParts = (): void => {
      for (const uid of observer?.uids ?? []) stowParts.set(uid, (stowParts.get(uid) ?? 0) + 1);
    };
    if (observer) req.on('data', (chunk: Buffer) => observer.write(chunk));

    if (fault?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status' || fault?.kind === 'stall') {
      req.on('end', () => {
        countParts();
        if (fault.kind === 'stall') return; // never answer
        const body = JSON.stringify({
          error: {
            code: fault.status === 429 ? 'server-busy' : 'internal',
            message: 'injected',
            retryable: true,
          },
        });
        res.writeHead(fault.status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}),
        });
        res.end(body);
      });
      req.resume();
      return;
    }

    const target = new URL(req.url ?? '/', proxy.target);
    const upstream = http.request(target, {
      method: req.method,
      headers: { ...req.headers, host: target.host },
    });
    upstream.on('error', () => req.socket.destroy());
    let forwarded = 0;
    req.on('data', (chunk: Buffer) => {
      if (fault?.kind === 'reset-mid-body') {
        const limit = fault.afterBytes ?? 1024;
        if (forwarded + chunk.length >= limit) {
          upstream.write(chunk.subarray(0, Math.max(0, limit - forwarded)));
          upstream.destroy();
          req.socket.destroy();
          return;
        }
      }
      forwarded += chunk.length;
      if (!upstream.write(chunk)) {
        req.pause();
        upstream.once('drain', () => req.resume());
      }
    });
    req.on('end', () => {
      countParts();
      upstream.end();
    });
    req.on('error', () => upstream.destroy());
    upstream.on('response', (answer) => {
      if (fault?.kind === 'reset-after') {
        answer.resume();
        answer.on('end', () => req.socket.destroy());
        return;
      }
      const deliver = (): void => {
        const headers = { ...answer.headers };
        if (fault?.kind === 'trickle') delete headers['content-length'];
        res.writeHead(answer.statusCode ?? 502, headers);
        if (fault?.kind !== 'trickle') {
          answer.pipe(res);
          return;
        }
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          let rest = Buffer.concat(chunks);
          const timer = setInterval(() => {
            if (res.destroyed) return clearInterval(timer);
            res.write(rest.subarray(0, fault.chunkBytes));
            rest = rest.subarray(fault.chunkBytes);
            if (rest.length === 0) {
              clearInterval(timer);
              res.end();
            }
          }, fault.everyMs);
        });
      };
      if (fault?.kind === 'slow') setTimeout(deliver, fault.delayMs);
      else deliver();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  (proxy as { url: string }).url = `http://127.0.0.1:${port}`;
  return proxy;
}
