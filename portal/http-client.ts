/**
 * A small HTTP client for talking to the archive: streams request bodies; buffers (small) answers
 * (`httpRequest`) or hands the answer over as a stream (`httpStream`, for retrieved instances).
 */
import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';

export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export class HttpUnreachableError extends Error {}

const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

/** Authorization from the URL's user:password (Basic), and the URL without them. */
function prepare(
  url: URL,
  headers: Record<string, string> | undefined,
): { target: URL; headers: Record<string, string> } {
  const all: Record<string, string> = { ...headers };
  if (url.username !== '' && all.authorization === undefined) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    all.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const target = new URL(url);
  target.username = '';
  target.password = '';
  return { target, headers: all };
}

export interface HttpStreamAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The answer's body; errors with HttpUnreachableError when the connection breaks or stalls. */
  readonly body: AsyncIterable<Buffer>;
  /** Stops reading and closes the connection. */
  abort(): void;
}

/**
 * A GET whose answer is read as it arrives. Resolves once the status and headers are in; the
 * connection is dropped when it stays silent for `timeoutMs`, before or during the body.
 */
export function httpStream(
  url: URL,
  options: { headers?: Record<string, string>; timeoutMs: number },
): Promise<HttpStreamAnswer> {
  const { target, headers } = prepare(url, options.headers);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<HttpStreamAnswer>((resolve, reject) => {
    const req = transport.request(target, { method: 'GET', headers, timeout: options.timeoutMs });
    req.on('timeout', () =>
      req.destroy(new HttpUnreachableError(`no answer from ${target.origin} in time`)),
    );
    req.on('error', (err) =>
      reject(
        err instanceof HttpUnreachableError
          ? err
          : new HttpUnreachableError(err.message, { cause: err }),
      ),
    );
    req.on('response', (res) => {
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: (async function* () {
          try {
            for await (const chunk of res) yield chunk as Buffer;
          } catch (err) {
            throw err instanceof HttpUnreachableError
              ? err
              : new HttpUnreachableError((err as Error).message, { cause: err });
          }
          if (!res.complete) throw new HttpUnreachableError('the answer was cut short');
        })(),
        abort: () => req.destroy(),
      });
    });
    req.end();
  });
}

export function httpRequest(
  url: URL,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: Readable | Buffer;
    timeoutMs: number;
  },
): Promise<HttpAnswer> {
  const { target, headers } = prepare(url, options.headers);
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const req = transport.request(target, {
      method: options.method,
      headers,
      timeout: options.timeoutMs,
    });
    req.on('timeout', () =>
      req.destroy(new HttpUnreachableError(`no answer from ${target.origin} in time`)),
    );
    req.on('error', (err) =>
      reject(
        err instanceof HttpUnreachableError
          ? err
          : new HttpUnreachableError(err.message, { cause: err }),
      ),
    );
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          req.destroy(new HttpUnreachableError('answer too large'));
          return;
        }
        chunks.push(chunk);
      });
      res.on('error', (err) => reject(new HttpUnreachableError(err.message, { cause: err })));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    if (options.body === undefined) req.end();
    else if (Buffer.isBuffer(options.body)) req.end(options.body);
    else {
      options.body.on('error', (err) => req.destroy(err));
      options.body.pipe(req);
    }
  });
}
