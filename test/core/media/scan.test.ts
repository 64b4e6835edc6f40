import { execFileSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanResult } from '../../../main/core/media/model.ts';
import { scanMedia, type ScanEvent } from '../../../main/core/media/scan.ts';
import { makeMedia, missingDicomTools, type GeneratedMedia } from '../../support/make-media.ts';
import { debianPython, missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function listFiles(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, rel), { withFileTypes: true })) {
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(root, child));
    else out.push(child);
  }
  return out;
}

function instancesOf(result: ScanResult): Map<string, string> {
  const byPath = new Map<string, string>();
  for (const patient of result.patients) {
    for (const study of patient.studies) {
      for (const series of study.series) {
        for (const instance of series.instances) byPath.set(instance.path, instance.sopInstanceUid);
      }
    }
  }
  return byPath;
}

function pathsWithFindings(result: ScanResult): Set<string> {
  return new Set(result.findings.flatMap((finding) => finding.paths));
}

const skipPydicom = skipFor(missingPydicom());

describe.skipIf(skipPydicom)("pydicom's test_files, scanned as one folder", () => {
  let result: ScanResult;
  let pydicomView: Record<string, { strict: boolean; forced: boolean; sopInstanceUid: string }>;
  const root = skipPydicom ? '' : pydicomTestFiles();

  beforeAll(async () => {
    result = await scanMedia(root);
    const files = listFiles(root).map((rel) => path.join(root, rel));
    const script = path.join(import.meta.dirname, '..', '..', 'support', 'pydicom-read.py');
    pydicomView = JSON.parse(
      execFileSync(debianPython, [script, ...files], {
        encoding: 'utf8',
        maxBuffer: 16 * 1024 * 1024,
      }),
    ) as typeof pydicomView;
  });

  it('scans every file without a crash and accounts for each one', () => {
    const accounted = new Set([
      ...instancesOf(result).keys(),
      ...result.nonDicomFiles.map((file) => file.path),
      ...pathsWithFindings(result),
    ]);
    const unaccounted = listFiles(root).filter((rel) => !accounted.has(rel));
    expect(unaccounted).toEqual([]);
  });

  it('gives a finding for every file that is not valid Part 10 DICOM', () => {
    const flagged = pathsWithFindings(result);
    const invalid = Object.entries(pydicomView)
      .filter(([, view]) => !view.strict)
      .map(([file]) => path.relative(root, file));
    expect(invalid.length).toBeGreaterThan(5);
    expect(invalid.filter((rel) => !flagged.has(rel))).toEqual([]);
  });

  it('reads the same SOP Instance UID as pydicom for every instance it lists', () => {
    const ours = instancesOf(result);
    expect(ours.size).toBeGreaterThan(100);
    const differ: string[] = [];
    for (const [rel, sopInstanceUid] of ours) {
      const theirs = pydicomView[path.join(root, rel)];
      if (!theirs || theirs.sopInstanceUid !== sopInstanceUid) differ.push(rel);
    }
    expect(differ).toEqual([]);
  });

  it('names the known broken files with the right codes', () => {
    const codesFor = (rel: string): string[] =>
      result.findings.filter((finding) => finding.paths.includes(rel)).map((f) => f.code);
    expect(codesFor('rtplan_truncated.dcm')).toContain('truncated-file');
    expect(codesFor('MR_truncated.dcm')).toContain('truncated-file');
    expect(codesFor('ExplVR_BigEndNoMeta.dcm')).toContain('no-file-meta');
    expect(codesFor('ExplVR_LitEndNoMeta.dcm')).toContain('no-file-meta');
    expect(codesFor('no_meta.dcm')).toContain('unrecognised-dicom-name');
    expect(codesFor('zipMR.gz')).toContain('not-dicom');
    // Raw datasets, big endian, deflate and implicit VR files are images, not findings.
    const instances = instancesOf(result);
    for (const rel of [
      'ExplVR_BigEndNoMeta.dcm',
      'MR_small_bigendian.dcm',
      'image_dfl.dcm',
      'MR_small_implicit.dcm',
      'no_meta_group_length.dcm',
    ]) {
      expect(instances.has(rel), rel).toBe(true);
    }
  });
});

const skipDcmtk = skipFor(missingDicomTools());

describe.skipIf(skipDcmtk)('generated discs', () => {
  let media: GeneratedMedia;
  let pristine: string;

  beforeAll(async () => {
    pristine = tempDir('ferry-disc-');
    media = await makeMedia({
      outDir: pristine,
      patients: 2,
      studiesPerPatient: 2,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      seed: 42,
      patientNames: ['Müller^Jürgen', 'Øster^Åse'],
      specificCharacterSet: 'ISO_IR 100',
    });
  });

  /** A fresh copy of the generated disc to damage. */
  function copyDisc(): string {
    const root = tempDir('ferry-copy-');
    cpSync(pristine, root, { recursive: true });
    return root;
  }

  interface TreeShape {
    patientId: string;
    patientName: string;
    studies: Array<{
      studyInstanceUid: string;
      series: Array<{
        seriesInstanceUid: string;
        modality: string;
        sopInstanceUids: string[];
        bytes: number;
      }>;
    }>;
  }

  /** One order for both sides: patients, studies, series and instances sorted by their keys. */
  function sortedTree(patients: TreeShape[]): TreeShape[] {
    const by =
      <K extends string>(key: K) =>
      (a: Record<K, string>, b: Record<K, string>) =>
        a[key].localeCompare(b[key]);
    return patients
      .map((patient) => ({
        ...patient,
        studies: patient.studies
          .map((study) => ({
            ...study,
            series: study.series
              .map((series) => ({ ...series, sopInstanceUids: [...series.sopInstanceUids].sort() }))
              .sort(by('seriesInstanceUid')),
          }))
          .sort(by('studyInstanceUid')),
      }))
      .sort(by('patientId'));
  }

  function expectSameTree(result: ScanResult): void {
    const expected = media.patients.map((patient) => ({
      patientId: patient.patientId,
      patientName: patient.patientName,
      studies: patient.studies.map((study) => ({
        studyInstanceUid: study.studyInstanceUid,
        series: study.series.map((series) => ({
          seriesInstanceUid: series.seriesInstanceUid,
          modality: series.modality,
          sopInstanceUids: series.sopInstanceUids,
          bytes: series.bytes,
        })),
      })),
    }));
    const actual = result.patients.map((patient) => ({
      patientId: patient.patientId,
      patientName: patient.patientName,
      studies: patient.studies.map((study) => ({
        studyInstanceUid: study.studyInstanceUid,
        series: study.series.map((series) => ({
          seriesInstanceUid: series.seriesInstanceUid,
          modality: series.modality,
          sopInstanceUids: series.instances.map((instance) => instance.sopInstanceUid),
          bytes: series.bytes,
        })),
      })),
    }));
    expect(sortedTree(actual)).toEqual(sortedTree(expected));
  }

  it('lists exactly the generated patients, studies, series and instances', async () => {
    const result = await scanMedia(pristine);
    expect(result.source).toBe('dicomdir');
    expectSameTree(result);
    expect(result.summary).toMatchObject({
      patients: 2,
      studies: 4,
      series: 8,
      instances: 24,
      bytes: media.totalBytes,
      unreadableFiles: 0,
    });
    expect(result.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
    const kinds = Object.fromEntries(result.nonDicomFiles.map((file) => [file.path, file.kind]));
    expect(kinds).toMatchObject({
      'AUTORUN.INF': 'autorun',
      'REPORT.PDF': 'pdf',
      'VIEWER.EXE': 'program',
      'README.TXT': 'text',
      DICOMDIR: 'dicomdir',
    });
  });

  it('decodes names per Specific Character Set', async () => {
    const result = await scanMedia(pristine);
    expect(result.patients.map((patient) => patient.patientName).sort()).toEqual([
      'Müller^Jürgen',
      'Øster^Åse',
    ]);
  });

  it('finds the same tree without a DICOMDIR, by content, not by extension', async () => {
    const root = copyDisc();
    unlinkSync(path.join(root, 'DICOMDIR'));
    // Give one image an extension that lies: content decides.
    const first = media.patients[0]!.studies[0]!.series[0]!.files[0]!;
    renameSync(path.join(root, first), path.join(root, `${first}.JPG`));
    const result = await scanMedia(root);
    expect(result.source).toBe('walk');
    expect(result.summary.instances).toBe(24);
    expect(result.findings.filter((finding) => finding.severity !== 'info')).toEqual([]);
  });

  it('resolves ISO 9660 names: lower case and ;1 version suffixes', async () => {
    const root = copyDisc();
    for (const rel of listFiles(root).filter((file) => file.startsWith('DICOM/'))) {
      renameSync(path.join(root, rel), path.join(root, `${rel};1`));
    }
    renameSync(path.join(root, 'DICOM'), path.join(root, 'dicom'));
    const result = await scanMedia(root);
    expect(result.source).toBe('dicomdir');
    expectSameTree(result);
    expect(result.findings.map((finding) => finding.code)).not.toContain('dicomdir-missing-file');
  });

  it('checks the DICOMDIR against the files: missing, unreferenced, disagreeing', async () => {
    const root = copyDisc();
    const series = media.patients[1]!.studies[1]!.series[1]!;
    const [missing, changed] = series.files;
    unlinkSync(path.join(root, missing!));
    execFileSync('dcmodify', [
      '-nb',
      '-m',
      '(0008,0018)=1.2.826.0.1.3680043.10.1234.1',
      path.join(root, changed!),
    ]);
    const extra = 'DICOM/EXTRA/IM000001';
    cpSync(path.join(root, series.files[2]!), path.join(root, extra), { recursive: true });
    const result = await scanMedia(root);
    const byCode = (code: string) =>
      result.findings.filter((finding) => finding.code === code).flatMap((f) => f.paths);
    expect(byCode('dicomdir-missing-file')).toEqual([missing]);
    expect(byCode('dicomdir-mismatch')).toEqual([changed]);
    expect(byCode('dicomdir-unreferenced-file')).toEqual([extra]);
    const mismatch = result.findings.find((finding) => finding.code === 'dicomdir-mismatch');
    expect(mismatch?.detail).toContain('SOP Instance UID');
    // The detail names attributes, never values.
    expect(mismatch?.detail).not.toContain('1.2.826.0.1.3680043.10.1234.1');
    // The file's own header wins.
    expect([...instancesOf(result).values()]).toContain('1.2.826.0.1.3680043.10.1234.1');
  });

  it('turns damaged files into findings and goes on', async () => {
    const root = copyDisc();
    const files = media.patients[0]!.studies[0]!.series[0]!.files;
    const truncatedInPixels = files[0]!;
    truncateSync(
      path.join(root, truncatedInPixels),
      statSync(path.join(root, truncatedInPixels)).size - 100,
    );
    const truncatedInHeader = files[1]!;
    truncateSync(path.join(root, truncatedInHeader), 300);
    const dangling = 'DICOM/BROKEN';
    symlinkSync(path.join(root, 'nowhere'), path.join(root, dangling));
    writeFileSync(path.join(root, 'DICOM/EMPTY.DCM'), '');
    writeFileSync(path.join(root, 'DICOM/NOISE.DCM'), Buffer.alloc(4096, 0xa5));
    const result = await scanMedia(root);
    const codeOf = (rel: string) =>
      result.findings.filter((finding) => finding.paths.includes(rel)).map((f) => f.code);
    expect(codeOf(truncatedInPixels)).toEqual(['truncated-file']);
    expect(codeOf(truncatedInHeader)).toEqual(['truncated-file']);
    expect(codeOf(dangling)).toEqual(['unreadable-file']);
    expect(codeOf('DICOM/EMPTY.DCM')).toEqual(['empty-file']);
    expect(codeOf('DICOM/NOISE.DCM')).toEqual(['unrecognised-dicom-name']);
    expect(result.summary.instances).toBe(22);
    expect(result.summary.unreadableFiles).toBe(3);
  });

  it('reads a header longer than 64 KiB to its end', async () => {
    const root = tempDir('ferry-long-');
    const file = path.join(root, 'LONGHDR');
    execFileSync(debianPython, [
      '-c',
      [
        'import sys, pydicom',
        'ds = pydicom.dcmread(sys.argv[1])',
        "block = ds.private_block(0x0029, 'FERRY TEST', create=True)",
        "block.add_new(0x01, 'OB', b'\\x00' * 200000)",
        'ds.save_as(sys.argv[2])',
      ].join('\n'),
      path.join(pristine, media.patients[0]!.studies[0]!.series[0]!.files[0]!),
      file,
    ]);
    const result = await scanMedia(root);
    expect(result.summary.instances).toBe(1);
    expect(result.findings).toEqual([]);
    expect(result.patients[0]?.patientName).toBe(media.patients[0]!.patientName);
  });

  it('opens zip archives in place', async () => {
    const root = tempDir('ferry-zip-');
    const zipped = await makeMedia({
      outDir: root,
      patients: 2,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 3,
      seed: 7,
      zip: true,
    });
    const result = await scanMedia(root);
    const zipName = path.basename(zipped.zip!.path);
    const fromZip = [...instancesOf(result)].filter(([rel]) => rel.startsWith(`${zipName}!/`));
    expect(fromZip.length).toBe(
      zipped.zip!.entries.filter((entry) => !/DICOMDIR$/u.test(entry)).length,
    );
    const zippedPatient = zipped.patients.find((p) =>
      zipped.zip!.patientIds.includes(p.patientId),
    )!;
    const expectedUids = zippedPatient.studies.flatMap((s) =>
      s.series.flatMap((x) => x.sopInstanceUids),
    );
    expect(fromZip.map(([, uid]) => uid).sort()).toEqual(expectedUids.sort());
    // Nothing was extracted beside the zip.
    expect(listFiles(root).filter((rel) => rel.includes('!'))).toEqual([]);
  });

  it('reports a damaged zip as a finding', async () => {
    const root = copyDisc();
    writeFileSync(path.join(root, 'IMAGES.ZIP'), Buffer.from('PK\u0003\u0004 not really a zip'));
    appendFileSync(path.join(root, 'IMAGES.ZIP'), Buffer.alloc(100));
    const result = await scanMedia(root);
    const codes = result.findings.filter((f) => f.paths.includes('IMAGES.ZIP')).map((f) => f.code);
    expect(codes).toEqual(['zip-unreadable']);
    expect(result.summary.instances).toBe(24);
  });

  it('reports progress and can be cancelled', async () => {
    const events: ScanEvent[] = [];
    const done = await scanMedia(pristine, {
      onEvent: (event) => events.push(event),
      concurrency: 1,
    });
    expect(done.summary.instances).toBe(24);
    const progress = events.filter(
      (event) => event.kind === 'progress' && event.phase === 'headers',
    );
    // Every file is examined once: 24 images and the 4 other files of the disc.
    expect(progress.at(-1)).toMatchObject({ done: 28, total: 28 });
    expect(events.findIndex((e) => e.kind === 'study-list')).toBeLessThan(
      events.findIndex((e) => e.kind === 'phase' && e.phase === 'headers'),
    );

    const controller = new AbortController();
    const cancelled = scanMedia(pristine, {
      signal: controller.signal,
      concurrency: 1,
      onEvent: (event) => {
        if (event.kind === 'study-list') controller.abort();
      },
    });
    await expect(cancelled).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('keeps patient values out of finding messages and details', async () => {
    const root = copyDisc();
    const series = media.patients[0]!.studies[0]!.series[0]!;
    unlinkSync(path.join(root, series.files[0]!));
    truncateSync(path.join(root, series.files[1]!), 200);
    const result = await scanMedia(root);
    const text = JSON.stringify(result.findings.map((f) => [f.message, f.detail]));
    for (const patient of media.patients) {
      expect(text).not.toContain(patient.patientId);
      expect(text).not.toContain(patient.patientName.split('^')[0]!);
      for (const study of patient.studies) expect(text).not.toContain(study.studyInstanceUid);
    }
  });
});

describe('scanning a single file', () => {
  it('scans a lone file given as the path', async () => {
    const root = tempDir('ferry-one-');
    writeFileSync(path.join(root, 'notes.txt'), 'not an image');
    const result = await scanMedia(path.join(root, 'notes.txt'));
    expect(result.nonDicomFiles).toEqual([{ path: 'notes.txt', bytes: 12, kind: 'text' }]);
    expect(readFileSync(path.join(root, 'notes.txt'), 'utf8')).toBe('not an image');
  });
});
