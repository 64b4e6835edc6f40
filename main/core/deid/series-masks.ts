/**
 * The masks the user set for the current scan, by series, looked up by instance path: the one
 * place the preview (attributes and image) and the uploader read them from, so the previewed
 * bytes and the sent bytes are masked alike. Held in memory only, and emptied when another disc
 * is read or the next person starts.
 */
import path from 'node:path';

import type { SeriesMask } from './mask.ts';

export class SeriesMasks {
  /** media root -> series UID -> the mask and the series' instance paths. */
  readonly #byRoot = new Map<string, Map<string, { mask: SeriesMask; paths: Set<string> }>>();

  /** Masks every listed instance of the series (those of the mask's size, see InstanceRequest). */
  set(root: string, seriesInstanceUid: string, paths: readonly string[], mask: SeriesMask): void {
    const key = path.resolve(root);
    let series = this.#byRoot.get(key);
    if (!series) {
      series = new Map();
      this.#byRoot.set(key, series);
    }
    series.set(seriesInstanceUid, { mask, paths: new Set(paths) });
  }

  get(root: string, seriesInstanceUid: string): SeriesMask | undefined {
    return this.#byRoot.get(path.resolve(root))?.get(seriesInstanceUid)?.mask;
  }

  delete(root: string, seriesInstanceUid: string): void {
    this.#byRoot.get(path.resolve(root))?.delete(seriesInstanceUid);
  }

  /** The mask for an instance, by its path relative to the media root. */
  forPath(root: string, relPath: string): SeriesMask | undefined {
    const series = this.#byRoot.get(path.resolve(root));
    if (!series) return undefined;
    for (const entry of series.values()) if (entry.paths.has(relPath)) return entry.mask;
    return undefined;
  }

  /** Whether any instance under this root is masked. */
  any(root: string): boolean {
    return (this.#byRoot.get(path.resolve(root))?.size ?? 0) > 0;
  }

  clear(): void {
    this.#byRoot.clear();
  }
}
