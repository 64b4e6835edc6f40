/**
 * preview.image: one frame of one instance for the image view, rendered in the worker pool from
 * the bytes that will be sent. Under a de-identifying policy those are the de-identification's
 * output (DeidEngine.outgoingInstance, the uploader's own path, masks included); otherwise the
 * file or zip entry as it is on the media, which the upload sends byte for byte.
 *
 * Scrolling frames and dragging the window re-render one instance many times, so its outgoing
 * bytes are kept for the last few instances, in shared memory: each render hands the worker a
 * view of them instead of a copy.
 */
import { readFile } from 'node:fs/promises';

import type { ImageRenderView, PolicyView, WindowView } from '../api.ts';
import { encodePngAsync } from '../imaging/png.ts';
import type { RenderSource } from '../imaging/render-pool.ts';
import type { AppliedVoi, RenderOptions, RenderResult } from '../imaging/types.ts';
import type { DeidEngine } from './engines.ts';
import { ApiError } from './errors.ts';
import { readZipEntry, resolveMediaPath } from './media-files.ts';

/** The image view's default longer side; a request may ask for 64 to 2048. */
export const IMAGE_VIEW_SIZE = 1024;

/** Instances whose bytes are kept, and their total size. */
const KEPT_INSTANCES = 3;
const KEPT_BYTES = 768 * 1024 * 1024;

export interface ImageRequest {
  /** Identifies the scan the path belongs to (a new scan never reuses kept bytes). */
  readonly scanId: string;
  readonly root: string;
  /** Relative to the media root, as the scan found it; inside a zip `ARCHIVE.ZIP!/inner`. */
  readonly path: string;
  readonly policy: PolicyView;
  readonly frame: number;
  readonly window?: WindowView;
  readonly maxSize?: number;
}

interface Outgoing {
  readonly bytes: Uint8Array;
  readonly masked: boolean;
  /** Default window per frame, learnt from renders without a user window. */
  readonly defaults: Map<number, WindowView | null>;
}

type Render = (source: RenderSource, options: RenderOptions) => Promise<RenderResult>;

/** Which instance's outgoing bytes: the key of the kept bytes. */
export type OutgoingRequest = Pick<ImageRequest, 'scanId' | 'root' | 'path' | 'policy'>;

export interface ImageRenderer {
  render(request: ImageRequest): Promise<ImageRenderView>;
  /**
   * A frame of the outgoing bytes, as the imaging module renders it (a masked series' thumbnail:
   * the pixels that will be sent), from the same kept bytes as the image view. Throws ApiError
   * (`not-sent`, `file-unreadable`, `preview-unavailable`) when there are no outgoing bytes.
   */
  renderOutgoing(request: OutgoingRequest, options: RenderOptions): Promise<RenderResult>;
  /**
   * Forgets the kept bytes. Whatever changes what is sent without changing the scan or the policy
   * (the user's mask rectangles) must call this, so the view never shows stale pixels.
   */
  forget(): void;
}

/** Copies bytes into shared memory, so posting them to a worker shares instead of copying. */
function shared(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(new SharedArrayBuffer(bytes.length));
  out.set(bytes);
  return out;
}

function windowOf(voi: AppliedVoi): WindowView | null {
  if (voi.center === undefined || voi.width === undefined) return null;
  return { center: voi.center, width: voi.width };
}

async function readAsIs(root: string, relPath: string): Promise<Uint8Array> {
  const target = resolveMediaPath(root, relPath);
  if (!target) throw new ApiError('image-not-on-disc');
  return target.inZip ? readZipEntry(root, relPath) : readFile(target.file);
}

export function createImageRenderer(options: {
  readonly render: Render;
  readonly deid: () => DeidEngine | undefined;
  /** Whether the user masked this instance: then it goes through de-identification's path. */
  readonly masked?: (root: string, relPath: string) => boolean;
}): ImageRenderer {
  /** Most recently used last. */
  const kept = new Map<string, Promise<Outgoing>>();
  const sizes = new Map<string, number>();

  async function load(request: OutgoingRequest): Promise<Outgoing> {
    if (request.policy.kind === 'none' && !options.masked?.(request.root, request.path)) {
      return {
        bytes: shared(await readAsIs(request.root, request.path)),
        masked: false,
        defaults: new Map(),
      };
    }
    const deid = options.deid();
    if (!deid?.outgoingInstance) {
      throw new ApiError('preview-unavailable');
    }
    const outgoing = await deid.outgoingInstance(request.root, request.path, request.policy);
    return { bytes: shared(outgoing.bytes), masked: outgoing.masked, defaults: new Map() };
  }

  function outgoing(request: OutgoingRequest): Promise<Outgoing> {
    const key = JSON.stringify([request.scanId, request.root, request.path, request.policy]);
    let pending = kept.get(key);
    if (pending) {
      kept.delete(key);
      kept.set(key, pending);
      return pending;
    }
    pending = load(request);
    kept.set(key, pending);
    pending.then(
      (value) => {
        sizes.set(key, value.bytes.length);
        trim();
      },
      () => {
        if (kept.get(key) === pending) kept.delete(key);
      },
    );
    trim();
    return pending;
  }

  /** Drops the least recently used instances beyond KEPT_INSTANCES or KEPT_BYTES. */
  function trim(): void {
    let total = 0;
    for (const key of kept.keys()) total += sizes.get(key) ?? 0;
    for (const key of kept.keys()) {
      if (kept.size <= 1 || (kept.size <= KEPT_INSTANCES && total <= KEPT_BYTES)) break;
      total -= sizes.get(key) ?? 0;
      kept.delete(key);
      sizes.delete(key);
    }
  }

  return {
    async render(request) {
      const base = { path: request.path };
      let source: Outgoing;
      try {
        source = await outgoing(request);
      } catch (error) {
        if (
          error instanceof ApiError &&
          (error.messageId === 'not-sent' || error.messageId === 'file-unreadable')
        ) {
          return {
            ...base,
            kind: 'unrenderable',
            reason: error.message,
            why: { kind: 'error', error: error.toBody() },
          };
        }
        if (error instanceof ApiError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (typeof code === 'string') {
          const unreadable = new ApiError('file-unreadable', { code });
          return {
            ...base,
            kind: 'unrenderable',
            reason: unreadable.message,
            why: { kind: 'error', error: unreadable.toBody() },
          };
        }
        throw error;
      }
      const maxSize = request.maxSize ?? IMAGE_VIEW_SIZE;
      const result = await options.render(
        { bytes: source.bytes },
        { frame: request.frame, maxSize, ...(request.window ? { window: request.window } : {}) },
      );
      if (result.kind === 'unrenderable')
        return {
          ...base,
          kind: 'unrenderable',
          reason: result.reason,
          why: { kind: 'imaging', code: result.code },
        };
      let defaultWindow: WindowView | null;
      if (!request.window) {
        defaultWindow = result.voi.source === 'voi-lut' ? null : windowOf(result.voi);
        source.defaults.set(request.frame, defaultWindow);
      } else if (source.defaults.has(request.frame)) {
        defaultWindow = source.defaults.get(request.frame)!;
      } else {
        // The user's window is on a frame not yet seen without it: learn its default, small.
        const plain = await options.render(
          { bytes: source.bytes },
          { frame: request.frame, maxSize: 64 },
        );
        defaultWindow =
          plain.kind === 'rendered' && plain.voi.source !== 'voi-lut' ? windowOf(plain.voi) : null;
        source.defaults.set(request.frame, defaultWindow);
      }
      // Off the event loop, and quick: a window drag wants the next picture, not the smallest.
      const png = await encodePngAsync(result, { level: 3 });
      return {
        ...base,
        kind: 'rendered',
        frame: result.frame,
        frames: result.numberOfFrames,
        columns: result.columns,
        rows: result.rows,
        width: result.width,
        height: result.height,
        dataUrl: `data:image/png;base64,${Buffer.from(png).toString('base64')}`,
        window: result.channels === 1 ? windowOf(result.voi) : null,
        defaultWindow: result.channels === 1 ? defaultWindow : null,
        masked: source.masked,
      };
    },
    async renderOutgoing(request, renderOptions) {
      const source = await outgoing(request);
      return options.render({ bytes: source.bytes }, renderOptions);
    },
    forget() {
      kept.clear();
      sizes.clear();
    },
  };
}
