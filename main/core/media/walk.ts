/**
 * The folder walk and the DICOMDIR tests shared by the scan (scan.ts) and `ferry deidentify`,
 * which walks without loading the scanner. Small on purpose: no parser, no collation.
 */
import { readdirSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';

import { throwIfAborted } from '../util/pool.ts';

/** A file found on the media. */
export interface FoundFile {
  /** Relative to the walked root, posix separators. */
  readonly relPath: string;
  readonly absPath: string;
}

/** Media Storage Directory Storage: a DICOMDIR, whatever its file is called (PS3.4 Annex I). */
export const MEDIA_STORAGE_DIRECTORY = '1.2.840.10008.1.3.10';

/** A DICOMDIR's file name, as ISO 9660 writes it too (any case, ";1", a trailing dot). */
export const DICOMDIR_NAME = /^dicomdir(\.)?(;\d+)?$/iu;

export interface WalkOptions {
  /** A folder that cannot be listed ("" is the root); the walk goes on after it returns. */
  readonly onUnreadableFolder: (relPath: string, error: unknown) => void;
  /** After each folder is listed, with the number of files found so far. */
  readonly onFolder?: (filesSoFar: number) => void;
  /** Checked before each folder. */
  readonly signal?: AbortSignal;
  /**
   * List folders with synchronous calls: for a command-line run, which has nothing else to do
   * meanwhile and would only wait for the thread pool's round trips.
   */
  readonly sync?: boolean;
}

/**
 * Every file under `root`, in no particular order (callers sort as they need); symbolic links
 * to folders are not followed, as they can loop.
 */
export async function walkFiles(root: string, options: WalkOptions): Promise<FoundFile[]> {
  const files: FoundFile[] = [];
  const pending: string[] = [''];
  while (pending.length > 0) {
    throwIfAborted(options.signal);
    const rel = pending.pop() as string;
    const abs = path.join(root, rel);
    let dirents;
    try {
      dirents = options.sync
        ? readdirSync(abs, { withFileTypes: true })
        : await readdir(abs, { withFileTypes: true });
    } catch (error) {
      options.onUnreadableFolder(rel, error);
      continue;
    }
    // A name from readdir has no separator: joining it to the folder needs no normalising.
    const absPrefix = abs.endsWith(path.sep) ? abs : abs + path.sep;
    for (const dirent of dirents) {
      const childRel = rel ? `${rel}/${dirent.name}` : dirent.name;
      if (dirent.isDirectory()) pending.push(childRel);
      else if (dirent.isFile() || dirent.isSymbolicLink()) {
        files.push({ relPath: childRel, absPath: absPrefix + dirent.name });
      }
    }
    options.onFolder?.(files.length);
  }
  return files;
}
