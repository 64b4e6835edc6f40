/** A small HTTP client for talking to the archive: streams request bodies, buffers (small) answers. */
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

export function httpRequest(
  url: URL,
  options: {
    method: string;
    headers?: Record<string, string>;
    body?: Readable | Buffer;
    timeoutMs: number;
  },
): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...options.headers };
  if (url.username !== '' && headers.authorization === undefined) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  }
  const target = new URL(url);
  target.username = '';
  target.password = '';
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
