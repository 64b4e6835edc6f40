/**
 * Front-desk (kiosk) mode in the core: between two people, everything the first one left on this
 * computer is removed, and a disc read from a drive goes back out of the drive after the transfer.
 */
import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DriveView } from '../api.ts';
import type { DriveSource } from './engines.ts';

/** Inactivity before the UI offers to return to the start, unless configured otherwise. */
export const DEFAULT_KIOSK_IDLE_SECONDS = 180;

/** Idle seconds from a setting: a whole number from 5 seconds to a day, or a clear error. */
export function parseIdleSeconds(value: string): number {
  const seconds = Number(value);
  if (!/^\d+$/u.test(value.trim()) || !Number.isSafeInteger(seconds) || seconds < 5) {
    throw new Error(`The inactivity time must be a whole number of seconds, 5 or more.`);
  }
  if (seconds > 86_400) throw new Error('The inactivity time must be at most 86400 seconds.');
  return seconds;
}

/**
 * Removes everything inside `dir` (the folder itself stays) and returns how many files went.
 * A folder that does not exist holds nothing to remove. Symbolic links are removed, never followed.
 */
export async function removeContents(dir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  let removed = 0;
  for (const name of names) {
    const entry = path.join(dir, name);
    const stats = await lstat(entry).catch(() => undefined);
    if (!stats) continue;
    if (stats.isDirectory()) {
      removed += await removeContents(entry);
      await rm(entry, { recursive: true, force: true });
    } else {
      await rm(entry, { force: true });
      removed += 1;
    }
  }
  return removed;
}

/** The drive the media was read from: its mount path is the media root or a folder above it. */
export function driveOfMedia(
  mediaRoot: string,
  drives: readonly DriveView[],
  pathApi: Pick<typeof path, 'resolve' | 'relative' | 'isAbsolute'> = path,
): DriveView | undefined {
  const root = pathApi.resolve(mediaRoot);
  return drives
    .filter((drive) => {
      const relative = pathApi.relative(pathApi.resolve(drive.mountPath), root);
      return relative === '' || (!relative.startsWith('..') && !pathApi.isAbsolute(relative));
    })
    .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
}

export type EjectOutcome =
  | { readonly kind: 'ejected'; readonly drive: DriveView }
  | { readonly kind: 'not-removable' }
  | { readonly kind: 'not-supported' }
  | { readonly kind: 'failed'; readonly drive: DriveView };

/**
 * After a finished transfer in kiosk mode: ejects the drive the media came from, when it came
 * from a removable drive and this platform can eject. A folder on the computer's own disk stays.
 */
export async function ejectMediaDrive(
  mediaRoot: string,
  source: DriveSource | undefined,
  known: readonly DriveView[],
): Promise<EjectOutcome> {
  if (!source?.eject) return { kind: 'not-supported' };
  const drives = known.length > 0 ? known : await source.list().catch(() => []);
  const drive = driveOfMedia(mediaRoot, drives);
  if (!drive) return { kind: 'not-removable' };
  try {
    await source.eject(drive);
    return { kind: 'ejected', drive };
  } catch {
    return { kind: 'failed', drive };
  }
}
