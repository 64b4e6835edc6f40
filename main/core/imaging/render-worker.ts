/**
 * The render worker (node:worker_threads): reads, decodes and renders off the main thread so
 * the UI and the event loop stay responsive. Messages are the typed unions of render-pool.ts.
 */
import { readFile } from 'node:fs/promises';
import { parentPort } from 'node:worker_threads';

import { renderFrame } from './render.ts';
import type { RenderRequest, RenderResponse } from './render-pool.ts';
import { unrenderable, type RenderedImage } from './types.ts';

async function handle(request: RenderRequest): Promise<RenderResponse & { kind: 'result' }> {
  let bytes: Uint8Array;
  try {
    bytes = 'path' in request.source ? await readFile(request.source.path) : request.source.bytes;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read-failed';
    return {
      kind: 'result',
      id: request.id,
      result: unrenderable('malformed', `the file cannot be read (${code})`),
    };
  }
  const result = await renderFrame(bytes, request.options);
  return { kind: 'result', id: request.id, result };
}

const port = parentPort;
if (port) {
  port.on('message', (request: RenderRequest) => {
    void handle(request).then(
      (response) => {
        const rendered = response.kind === 'result' && response.result.kind === 'rendered';
        const transfer = rendered
          ? [(response.result as RenderedImage).pixels.buffer as ArrayBuffer]
          : [];
        port.postMessage(response, transfer);
      },
      (error: unknown) => {
        const failed: RenderResponse = {
          kind: 'failed',
          id: request.id,
          error: { code: 'render-crashed', message: (error as Error).name },
        };
        port.postMessage(failed);
      },
    );
  });
}
