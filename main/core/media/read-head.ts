import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readInstanceHeader, type HeaderRead } from '../dicom/instance.ts';

/** Header-only reads start with this much: enough for nearly every header (ARCHITECTURE.md). */
export const HEAD_BYTES = 64 * 1024;

export interface HeadRead {
  /** First bytes of the file, for telling what a non-DICOM file is. */
  readonly head: Uint8Array;
  readonly read: HeaderRead;
  readonly size: number;
  /**
   * The bytes `read` was parsed from and the file size the parse assumed: parsing them again
   * with readInstanceHeader gives the same verdict (a header-only read's whole dataset, say).
   */
  readonly bytes: Uint8Array;
  readonly parsedSize: number;
}

function nextSize(current: number, atLeast: number, fileSize: number): number {
  return Math.min(fileSize, Math.max(atLeast, current * 2));
}

/**
 * Reads a file's header only: the first 64 KiB, more only when the header is longer, never the
 * pixel data. System errors (EIO from a scratched disc, EACCES) propagate to the caller.
 */
export async function readFileHead(path: string): Promise<HeadRead> {
  const handle = await open(path, 'r');
  try {
    const fileSize = (await handle.stat()).size;
    let size = Math.min(HEAD_BYTES, fileSize);
    let buffer = new Uint8Array(size);
    let filled = 0;
    for (;;) {
      while (filled < size) {
        const { bytesRead } = await handle.read(buffer, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      const bytes = filled < buffer.length ? buffer.subarray(0, filled) : buffer;
      // A file that shrank under us (or lied about its size) is judged on what is there.
      const known = filled < size ? filled : fileSize;
      const read = readInstanceHeader(bytes, { fileSize: known });
      if (read.kind !== 'need-more' || size >= fileSize || filled < size) {
        return headRead(bytes, read, fileSize, known);
      }
      size = nextSize(size, read.atLeast, fileSize);
      const grown = new Uint8Array(size);
      grown.set(buffer.subarray(0, filled));
      buffer = grown;
    }
  } finally {
    await handle.close();
  }
}

/** What a header read found, with the bytes it parsed and the file size it assumed. */
function headRead(
  bytes: Uint8Array,
  read: HeaderRead,
  fileSize: number,
  parsedSize: number,
): HeadRead {
  return {
    head: bytes.subarray(0, Math.min(bytes.length, 512)),
    read,
    size: fileSize,
    bytes,
    parsedSize,
  };
}

/**
 * The same header-only read with synchronous system calls into a reused buffer: on cached and
 * local media the syscalls take microseconds, and the thread-pool round trips and per-file
 * buffers of the asynchronous path cost more than the reads themselves. The returned views
 * point into `scratch` and are valid only until the next call with the same scratch buffer
 * (pass a Buffer: text is then sliced from it without a view of its own). With `headerOnly`,
 * `read.parsed` holds only the header's attributes (see readInstanceHeader).
 * Run it where blocking is acceptable: the CLI, or a worker thread in the app.
 *
 * A file that fits in the first read costs open, one read and close: a read of a regular file
 * that returns less than asked has reached its end, so its size needs no stat. Only when the
 * header then looks cut short is the end checked with one more read, so a file system that
 * returns short reads early cannot make a whole file look truncated.
 */
export function readFileHeadSync(
  path: string,
  scratch: Uint8Array,
  options: { readonly headerOnly?: boolean } = {},
): HeadRead {
  const headerOnly = options.headerOnly ?? false;
  const fd = openSync(path, 'r');
  try {
    let buffer = scratch;
    const first = Math.min(HEAD_BYTES, buffer.length);
    let filled = readSync(fd, buffer, 0, first, 0);
    let fileSize = filled < first ? filled : fstatSync(fd).size;
    let endChecked = filled >= first;
    for (;;) {
      const bytes = buffer.subarray(0, filled);
      const parsedSize = Math.max(fileSize, filled);
      const read = readInstanceHeader(bytes, { fileSize: parsedSize, headerOnly });
      if (!endChecked && looksCutShort(read, filled)) {
        endChecked = true;
        const more = readFully(fd, buffer, filled, first - filled);
        if (more > 0) {
          filled += more;
          fileSize = filled < first ? filled : fstatSync(fd).size;
          continue;
        }
      }
      if (read.kind !== 'need-more' || filled >= fileSize) {
        return headRead(bytes, read, fileSize, parsedSize);
      }
      const size = nextSize(filled, read.atLeast, fileSize);
      const grown = Buffer.allocUnsafe(size);
      grown.set(buffer.subarray(0, filled));
      buffer = grown;
      const more = readFully(fd, buffer, filled, size - filled);
      if (filled + more < size) fileSize = filled + more;
      filled += more;
    }
  } finally {
    closeSync(fd);
  }
}

/** A verdict that depends on the file having ended where the read stopped. */
function looksCutShort(read: HeaderRead, filled: number): boolean {
  switch (read.kind) {
    case 'dicom':
      return read.pixelDataEnd !== undefined && read.pixelDataEnd > filled;
    case 'not-dicom':
      return false;
    default:
      return true;
  }
}

function readFully(fd: number, buffer: Uint8Array, offset: number, length: number): number {
  let done = 0;
  while (done < length) {
    const bytesRead = readSync(fd, buffer, offset + done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/**
 * The same header-only read from a stream (a zip entry): consumes only as many chunks as the
 * header needs, then the caller destroys the stream.
 */
export async function readStreamHead(stream: Readable, fileSize: number): Promise<HeadRead> {
  const chunks: Uint8Array[] = [];
  let filled = 0;
  let want = Math.min(HEAD_BYTES, fileSize);
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    let ended = false;
    while (filled < want) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      chunks.push(next.value);
      filled += next.value.length;
    }
    const bytes = Buffer.concat(chunks, filled);
    const known = ended ? filled : fileSize;
    const read = readInstanceHeader(bytes, { fileSize: known });
    if (read.kind !== 'need-more' || ended || filled >= fileSize) {
      return headRead(bytes, read, fileSize, known);
    }
    want = nextSize(filled, read.atLeast, fileSize);
  }
}
