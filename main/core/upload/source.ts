/**
 * Where an instance's bytes come from. The upload reads every instance through an InstanceSource:
 * by default the file on the media (or the zip entry) as it is; when the link's policy asks for
 * de-identification, the de-identifier's streaming writer is plugged in here instead.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { ScanResult } from '../media/model.ts';

/** One instance chosen for upload, as the engine and the journal know it. */
export interface UploadItem {
  /** Path relative to the media root (posix); inside a zip `ARCHIVE.ZIP!/inner`. */
  readonly path: string;
  /** As it will be sent (after de-identification, when the caller remaps UIDs). */
  readonly sopInstanceUid: string;
  readonly studyInstanceUid: string;
  /** Bytes on the media; the size sent when the source is the file as is. */
  readonly bytes: number;
}

export interface OpenedInstance {
  readonly stream: Readable;
  /** Exact length of the stream when known in advance; lets the request carry Content-Length. */
  readonly bytes?: number;
  /** The SOP Instance UID of the bytes streamed (a de-identifier may remap it). */
  readonly sopInstanceUid: string;
}

/** The per-instance hook: `(instance) => Promise<{ stream, bytes?, sopInstanceUid }>`. */
export type InstanceSource = (item: UploadItem, signal?: AbortSignal) => Promise<OpenedInstance>;

/** Every instance of the selected studies (all when `studies` is empty), in media order. */
export function itemsFromScan(scan: ScanResult, studies: readonly string[] = []): UploadItem[] {
  const wanted = new Set(studies);
  const items: UploadItem[] = [];
  const seen = new Set<string>();
  for (const patient of scan.patients) {
    for (const study of patient.studies) {
      if (wanted.size > 0 && !wanted.has(study.studyInstanceUid)) continue;
      for (const series of study.series) {
        for (const instance of series.instances) {
          // The same instance twice on a disc (a zip copy of the folder) is sent once.
          if (seen.has(instance.sopInstanceUid)) continue;
          seen.add(instance.sopInstanceUid);
          items.push({
            path: instance.path,
            sopInstanceUid: instance.sopInstanceUid,
            studyInstanceUid: study.studyInstanceUid,
            bytes: instance.bytes,
          });
        }
      }
    }
  }
  return items;
}

/** Zip archives stay open for the session: reading the central directory per entry is slow. */
class ZipShelf {
  readonly #zips = new Map<
    string,
    Promise<{ zip: yauzl.ZipFile; entries: Map<string, yauzl.Entry> }>
  >();

  async open(file: string, inner: string): Promise<Readable> {
    let pending = this.#zips.get(file);
    if (pending === undefined) {
      pending = indexZip(file);
      this.#zips.set(file, pending);
      pending.catch(() => this.#zips.delete(file));
    }
    const { zip, entries } = await pending;
    const entry = entries.get(inner);
    if (entry === undefined)
      throw Object.assign(new Error('zip entry missing'), { code: 'ENOENT' });
    return zip.openReadStreamPromise(entry);
  }

  close(): void {
    for (const pending of this.#zips.values())
      void pending.then(
        ({ zip }) => zip.close(),
        () => undefined,
      );
    this.#zips.clear();
  }
}

async function indexZip(
  file: string,
): Promise<{ zip: yauzl.ZipFile; entries: Map<string, yauzl.Entry> }> {
  const zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false });
  const entries = new Map<string, yauzl.Entry>();
  await new Promise<void>((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      entries.set(entry.fileName, entry);
      zip.readEntry();
    });
    zip.once('end', () => resolve());
    zip.once('error', reject);
    zip.readEntry();
  });
  return { zip, entries };
}

export interface FileSource {
  readonly source: InstanceSource;
  close(): void;
}

/** The default source: the file (or zip entry) under `mediaRoot`, byte for byte. */
export function fileSource(
  mediaRoot: string,
  options: { highWaterMark?: number } = {},
): FileSource {
  const root = path.resolve(mediaRoot);
  const zips = new ZipShelf();
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  return {
    async source(item) {
      const bang = item.path.indexOf('!/');
      if (bang >= 0) {
        const stream = await zips.open(
          resolveInside(root, item.path.slice(0, bang)),
          item.path.slice(bang + 2),
        );
        return { stream, bytes: item.bytes, sopInstanceUid: item.sopInstanceUid };
      }
      const stream = createReadStream(resolveInside(root, item.path), { highWaterMark });
      await new Promise<void>((resolve, reject) => {
        stream.once('open', () => resolve());
        stream.once('error', reject);
      });
      return { stream, bytes: item.bytes, sopInstanceUid: item.sopInstanceUid };
    },
    close: () => zips.close(),
  };
}

function resolveInside(root: string, relPath: string): string {
  const full = path.resolve(root, ...relPath.split('/'));
  if (full !== root && !full.startsWith(root + path.sep)) throw new Error('path outside the media');
  return full;
}
