/**
 * The history of past transfers, in one JSON file in the app's data folder. It keeps no patient
 * name or ID: only who received what and the portal's last word about it.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { HistoryEntry } from '../api.ts';

export interface HistoryStore {
  list(): Promise<HistoryEntry[]>;
  upsert(entry: HistoryEntry): Promise<void>;
}

export function memoryHistory(): HistoryStore {
  const entries = new Map<string, HistoryEntry>();
  return {
    list: async () => [...entries.values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
    upsert: async (entry) => {
      entries.set(entry.transferId, entry);
    },
  };
}

export function fileHistory(file: string): HistoryStore {
  let chain: Promise<unknown> = Promise.resolve();
  const read = async (): Promise<HistoryEntry[]> => {
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { entries?: HistoryEntry[] };
      return Array.isArray(parsed.entries) ? parsed.entries : [];
    } catch {
      return [];
    }
  };
  return {
    list: async () => (await read()).sort((a, b) => b.startedAt.localeCompare(a.startedAt)),
    upsert: (entry) => {
      // Serialised: two progress updates must not interleave their read-modify-write.
      const next = chain.then(async () => {
        const entries = (await read()).filter((e) => e.transferId !== entry.transferId);
        entries.push(entry);
        await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
        const temp = `${file}.${process.pid}.tmp`;
        await writeFile(temp, JSON.stringify({ version: 1, entries }, null, 2), { mode: 0o600 });
        await rename(temp, file);
      });
      chain = next.catch(() => {});
      return next;
    },
  };
}
