/**
 * Looking for what a person may have left on disk: every file below a folder, and the files whose
 * bytes or names contain any of their values (name, ID, UIDs, the media's path).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Every file below `dir`, relative to it ('/'-separated). */
export async function listFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await visit(full);
      else found.push(path.relative(dir, full).split(path.sep).join('/'));
    }
  };
  await visit(dir);
  return found.sort();
}

/** The files below `dir` whose bytes contain any of the values (as ASCII/UTF-8). */
export async function filesContaining(dir: string, values: readonly string[]): Promise<string[]> {
  const hits: string[] = [];
  for (const file of await listFiles(dir)) {
    const full = path.join(dir, file);
    if ((await stat(full)).size > 64 * 1024 * 1024) continue;
    const bytes = await readFile(full);
    for (const value of values) {
      if (bytes.includes(Buffer.from(value))) hits.push(`${file} has ${value}`);
    }
    if (values.some((value) => file.includes(value))) hits.push(`${file} is named after them`);
  }
  return hits;
}
