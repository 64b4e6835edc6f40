/**
 * A small pool of render workers (node:worker_threads) with typed union messages, so decoding
 * and rendering never run on the main (UI/IPC) thread. Requests queue when every worker is
 * busy; a crashed worker is replaced and its request answered with an Unrenderable.
 */
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

import { unrenderable, type RenderOptions, type RenderResult } from './types.ts';

export type RenderSource = { readonly path: string } | { readonly bytes: Uint8Array };

/** Main thread -> worker. */
export interface RenderRequest {
  readonly kind: 'render';
  readonly id: number;
  readonly source: RenderSource;
  readonly options: RenderOptions;
}

/** Worker -> main thread. */
export type RenderResponse =
  | { readonly kind: 'result'; readonly id: number; readonly result: RenderResult }
  | {
      readonly kind: 'failed';
      readonly id: number;
      readonly error: { code: string; message: string };
    };

interface Pending {
  readonly request: RenderRequest;
  readonly resolve: (result: RenderResult) => void;
}

interface Slot {
  worker: Worker;
  busy: Pending | undefined;
}

/** The ESM entry of tsx's register API, from its package exports (`tsx/esm/api`, import). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifestPath = require.resolve('tsx/package.json');
  const manifest = require(manifestPath) as {
    exports: Record<string, { import: { default: string } }>;
  };
  const entry = manifest.exports['./esm/api']!.import.default;
  return pathToFileURL(path.join(path.dirname(manifestPath), entry)).href;
}

/**
 * Starts a render worker. A build ships render-worker.js; source runs (tsx, vitest) start a
 * tiny bootstrap that registers tsx in the worker before importing render-worker.ts, since
 * Node 20 does not apply `--import` loaders to a worker's entry module.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./render-worker.js', import.meta.url));
  const tsxApi = tsxEsmApi();
  const entry = new URL('./render-worker.ts', import.meta.url).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(bootstrap, { eval: true });
}

export class RenderPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size = Math.max(1, Math.min(4, os.availableParallelism() - 1))) {
    for (let i = 0; i < size; i++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = startWorker();
    const slot: Slot = { worker, busy: undefined };
    worker.on('message', (response: RenderResponse) => {
      const pending = slot.busy;
      slot.busy = undefined;
      if (pending && pending.request.id === response.id) {
        pending.resolve(
          response.kind === 'result'
            ? response.result
            : unrenderable('codec-failed', `rendering failed (${response.error.code})`),
        );
      }
      this.pump();
    });
    worker.on('error', () => this.replace(slot));
    worker.on('exit', () => {
      if (!this.closed) this.replace(slot);
    });
    worker.unref();
    return slot;
  }

  private replace(slot: Slot): void {
    const pending = slot.busy;
    slot.busy = undefined;
    pending?.resolve(unrenderable('codec-failed', 'the render worker stopped'));
    const index = this.slots.indexOf(slot);
    if (index >= 0 && !this.closed) {
      void slot.worker.terminate();
      this.slots[index] = this.spawn();
      this.pump();
    }
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.busy) continue;
      const next = this.queue.shift();
      if (!next) return;
      slot.busy = next;
      slot.worker.ref();
      slot.worker.postMessage(next.request);
    }
    for (const slot of this.slots) if (!slot.busy) slot.worker.unref();
  }

  /** Renders a file (read in the worker) or bytes (copied to it) off the main thread. */
  render(source: RenderSource, options: RenderOptions = {}): Promise<RenderResult> {
    if (this.closed)
      return Promise.resolve(unrenderable('codec-failed', 'the render pool is closed'));
    return new Promise((resolve) => {
      this.queue.push({ request: { kind: 'render', id: this.nextId++, source, options }, resolve });
      this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) {
      pending.resolve(unrenderable('codec-failed', 'the render pool is closed'));
    }
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}

let shared: RenderPool | undefined;

/** Renders on the shared pool (created on first use); see RenderPool.render. */
export function renderInWorker(
  source: RenderSource,
  options: RenderOptions = {},
): Promise<RenderResult> {
  shared ??= new RenderPool();
  return shared.render(source, options);
}

/** Stops the shared pool's workers (app shutdown, tests). */
export async function closeRenderPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
