import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readDicomdir, type DirectoryRecord } from '../../../main/core/media/dicomdir.ts';
import { scanMedia, type ScanEvent } from '../../../main/core/media/scan.ts';
import type { ScanResult } from '../../../main/core/media/model.ts';
import { debianPython, missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const skip = skipFor(missingPydicom());
const dirTests = skip ? '' : path.join(pydicomTestFiles(), 'dicomdirtests');
const variants = [
  'DICOMDIR',
  'DICOMDIR-bigEnd',
  'DICOMDIR-implicit',
  'DICOMDIR-nooffset',
  'DICOMDIR-nopatient',
  'DICOMDIR-reordered',
];

interface PydicomView {
  counts: Record<string, number>;
  files: string[];
  studies: string[];
  series: string[];
}

function pydicomView(file: string): PydicomView {
  const script = path.join(import.meta.dirname, '..', '..', 'support', 'pydicom-dicomdir.py');
  return JSON.parse(
    execFileSync(debianPython, [script, file], { encoding: 'utf8' }),
  ) as PydicomView;
}

function countTypes(records: readonly DirectoryRecord[], counts: Record<string, number> = {}) {
  for (const record of records) {
    counts[record.type] = (counts[record.type] ?? 0) + 1;
    countTypes(record.children, counts);
  }
  return counts;
}

function leafFiles(records: readonly DirectoryRecord[], out: string[] = []): string[] {
  for (const record of records) {
    if (record.referencedFileId && !['PATIENT', 'STUDY', 'SERIES'].includes(record.type)) {
      out.push(record.referencedFileId.join('/'));
    }
    leafFiles(record.children, out);
  }
  return out;
}

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** A disc made of one DICOMDIR variant and (optionally) the image folders it references. */
function disc(variant: string, withImages: boolean): string {
  const root = mkdtempSync(path.join(tmpdir(), 'ferry-dicomdir-'));
  temps.push(root);
  cpSync(path.join(dirTests, variant), path.join(root, 'DICOMDIR'));
  if (withImages) {
    for (const folder of ['77654033', '98892001', '98892003']) {
      cpSync(path.join(dirTests, folder), path.join(root, folder), { recursive: true });
    }
  }
  return root;
}

function totals(result: ScanResult) {
  return {
    patients: result.summary.patients,
    studies: result.summary.studies,
    series: result.summary.series,
    instances: result.summary.instances,
  };
}

describe.skipIf(skip)("DICOMDIR variants from pydicom's dicomdirtests", () => {
  it.each(variants)('%s: records and referenced files match pydicom', (variant) => {
    const file = path.join(dirTests, variant);
    const expected = pydicomView(file);
    const dicomdir = readDicomdir(readFileSync(file));
    expect(dicomdir.recordCount).toBe(
      Object.values(expected.counts).reduce((sum, count) => sum + count, 0),
    );
    const ours = countTypes(dicomdir.roots);
    // pydicom names an unknown record type UNKNOWN like the file does; compare type by type.
    expect(ours).toEqual(expected.counts);
    expect(leafFiles(dicomdir.roots).sort()).toEqual(expected.files);
  });

  it('follows offsets where they are usable and record order where they are not', () => {
    const linked = (variant: string) =>
      readDicomdir(readFileSync(path.join(dirTests, variant))).linkedBy;
    expect(linked('DICOMDIR')).toBe('offsets');
    expect(linked('DICOMDIR-reordered')).toBe('offsets');
    expect(linked('DICOMDIR-nooffset')).toBe('order');
  });

  it('reads the empty DICOMDIR as a disc with no studies', async () => {
    const dicomdir = readDicomdir(readFileSync(path.join(dirTests, 'DICOMDIR-empty.dcm')));
    expect(dicomdir.recordCount).toBe(0);
    const root = disc('DICOMDIR-empty.dcm', false);
    const result = await scanMedia(root);
    expect(totals(result)).toEqual({ patients: 0, studies: 0, series: 0, instances: 0 });
    expect(result.findings.filter((finding) => finding.severity === 'error')).toEqual([]);
  });

  it.each(variants)('%s: the study list comes from the DICOMDIR alone', async (variant) => {
    const expected = pydicomView(path.join(dirTests, variant));
    // No image files at all: whatever the study list shows came from the DICOMDIR.
    const root = disc(variant, false);
    const events: ScanEvent[] = [];
    const result = await scanMedia(root, { onEvent: (event) => events.push(event) });
    const studyList = events.find((event) => event.kind === 'study-list');
    expect(studyList?.kind).toBe('study-list');
    if (studyList?.kind !== 'study-list') return;
    expect(studyList.result.summary.studies).toBe(expected.studies.length);
    expect(studyList.result.summary.series).toBe(expected.series.length);
    expect(studyList.result.summary.instances).toBe(expected.files.length);
    const listed = studyList.result.patients.flatMap((patient) =>
      patient.studies.map((study) => study.studyInstanceUid),
    );
    expect(listed.sort()).toEqual(expected.studies);
    // ... and every listed image is reported missing, by path, as an error.
    const missing = result.findings.filter((finding) => finding.code === 'dicomdir-missing-file');
    expect(missing).toHaveLength(expected.files.length);
    expect(missing.every((finding) => finding.severity === 'error')).toBe(true);
  });

  it.each(variants)('%s: with the images present, every record resolves', async (variant) => {
    const expected = pydicomView(path.join(dirTests, variant));
    const root = disc(variant, true);
    const result = await scanMedia(root);
    expect(result.source).toBe('dicomdir');
    expect(totals(result)).toEqual({
      patients: 2,
      studies: expected.studies.length,
      series: expected.series.length,
      instances: expected.files.length,
    });
    const codes = result.findings.map((finding) => finding.code);
    expect(codes).not.toContain('dicomdir-missing-file');
    expect(codes).not.toContain('dicomdir-unreferenced-file');
    expect(codes).not.toContain('dicomdir-mismatch');
    if (variant === 'DICOMDIR-nopatient') expect(codes).toContain('dicomdir-unknown-record');
  });
});
