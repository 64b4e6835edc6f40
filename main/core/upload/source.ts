/**
 * Where an instance's bytes come from. The upload reads every instance through an InstanceSource:
 * by default the file on the media (or the zip entry) as it is; when the link's policy asks for
 * de-identification, the de-identifier's streaming writer is plugged in here instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import yauzl from 'yauzl';
import type { ScanResult } from '../media/model.ts';
import { POOL_CHUNK_BYTES, releasePoolChunk, takePoolChunk } from './hash.ts';

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
  /**
   * Every chunk is fresh memory of its own (its whole ArrayBuffer) that nothing else keeps: once
   * sent, it may move to the hashing thread instead of being copied. Only for streams that
   * allocate each read, such as a plain file's.
   */
  readonly ownsChunks?: boolean;
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

/**
 * A file read in chunks of the pool shared with the hashing thread (hash.ts): each chunk is read
 * into a slot nobody else holds, and after the socket and the hasher are done with it the slot is
 * read into again. No allocation per chunk, so no garbage collection paced by the upload.
 */
class PooledFileStream extends Readable {
  readonly #fd: number;
  #position = 0;

  constructor(fd: number) {
    super({ highWaterMark: POOL_CHUNK_BYTES });
    this.#fd = fd;
  }

  override _read(): void {
    const buffer = takePoolChunk() ?? Buffer.allocUnsafeSlow(POOL_CHUNK_BYTES);
    fs.read(this.#fd, buffer, 0, buffer.length, this.#position, (error, bytesRead) => {
      if (error || bytesRead === 0 || this.destroyed) {
        releasePoolChunk(buffer);
        if (error) this.destroy(error);
        else if (!this.destroyed) this.push(null);
        return;
      }
      this.#position += bytesRead;
      this.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead));
    });
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    fs.close(this.#fd, (closeError) => callback(error ?? closeError));
  }
}

export interface FileSourceOptions {
  /**
   * Read plain files into the hashing thread's shared pool (for the upload engine, which hands
   * every chunk to the hasher). Without it, each read is a buffer of its own: right for any other
   * reader, which may keep chunks.
   */
  readonly pooled?: boolean;
}

/** The default source: the file (or zip entry) under `mediaRoot`, byte for byte. */
export function fileSource(mediaRoot: string, options: FileSourceOptions = {}): FileSource {
  const root = path.resolve(mediaRoot);
  const zips = new ZipShelf();
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
      const file = resolveInside(root, item.path);
      const fd = await new Promise<number>((resolve, reject) =>
        fs.open(file, 'r', (error, opened) => (error ? reject(error) : resolve(opened))),
      );
      const stream = options.pooled
        ? new PooledFileStream(fd)
        : fs.createReadStream(file, { fd, highWaterMark: POOL_CHUNK_BYTES });
      // Either way each chunk is memory of its own that the stream does not keep.
      return { stream, bytes: item.bytes, sopInstanceUid: item.sopInstanceUid, ownsChunks: true };
    },
    close: () => zips.close(),
  };
}

function resolveInside(root: string, relPath: string): string {
  const full = path.resolve(root, ...relPath.split('/'));
  if (full !== root && !full.startsWith(root + path.sep)) throw new Error('path outside the media');
  return full;
}
