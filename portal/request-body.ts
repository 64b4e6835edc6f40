import type { IncomingMessage } from 'node:http';
import { PortalError } from './errors.ts';

/** Reads a small request body (JSON, a form) whole, refusing more than `maxBytes`. */
export async function readSmallBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new PortalError('request-too-large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
