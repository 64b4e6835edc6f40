/**
 * Looking for what a person may have left on disk: every file below a folder, and the files whose
 * bytes or names contain any of their values (name, ID, UIDs, the media's path).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { MediaPatient } from '../../main/core/media/model.ts';

/** Every SOP Instance UID of a scanned patient, study by study, series by series. */
export function instanceUids(patient: MediaPatient): string[] {
  return patient.studies.flatMap((study) =>
    study.series.flatMap((series) => series.instances.map((i) => i.sopInstanceUid)),
  );
}

/**
 * What identifies a scanned patient apart from their name: ID, birth date, and each study's UID
 * and accession number, series UIDs and instance UIDs (empty values left out).
 */
export function personalValues(patient: MediaPatient): string[] {
  return [
    patient.patientId,
    patient.birthDate,
    ...patient.studies.flatMap((study) => [
      study.studyInstanceUid,
      study.accessionNumber,
      ...study.series.map((series) => series.seriesInstanceUid),
    ]),
    ...instanceUids(patient),
  ].filter((value) => value !== '');
}

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
