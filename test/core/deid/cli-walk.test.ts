/**
 * `ferry deidentify` without a DICOMDIR reads each file once, in the work pass, instead of a
 * header scan first: the same images, files, reports and findings as with the scan, and the
 * files the scan would not list (not DICOM, empty, cut short, a DICOMDIR) left out the same way.
 */
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { runDeidentify } from '../../../main/commands/deidentify.ts';
import type { Io } from '../../../main/commands/io.ts';
import { makeCtFile } from '../../support/broken-files.ts';
import { makeMedia, missingDicomTools } from '../../support/make-media.ts';
import { skipFor } from '../../support/tools.ts';

const work = mkdtempSync(path.join(tmpdir(), 'ferry-deid-walk-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Document {
  summary: { instances: number; written: number; held: number; failed: number; seconds: number };
  series: { seriesInstanceUid: string; changes: object[] }[];
  instances: {
    source: string;
    status: string;
    output?: string;
    error?: { code: string };
    series?: number | Document['series'][number];
  }[];
  findings: { code: string; paths: string[] }[];
}

/** The instances with their series in place of its index (the two paths list files in other orders). */
function withSeries(document: Document): Document['instances'] {
  return document.instances.map((instance) =>
    typeof instance.series === 'number'
      ? { ...instance, series: document.series[instance.series] }
      : instance,
  );
}

async function deidentify(media: string, out: string, key: string): Promise<Document> {
  const stdout: string[] = [];
  const io: Io = { stdout: (t) => stdout.push(t), stderr: () => {}, isTty: false };
  await runDeidentify([media, '--out', out, '--key-file', key, '--json'], io);
  return JSON.parse(stdout.join('')) as Document;
}

function dcmFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.dcm'))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

function bySource<T extends { source: string }>(reports: T[]): T[] {
  return [...reports].sort((a, b) => a.source.localeCompare(b.source));
}

describe('ferry deidentify on media without a DICOMDIR', () => {
  it('gives what the scan-first path gives, from one read per file', async (context) => {
    if (skipFor(missingDicomTools(['dcmmkdir']))) return context.skip();
    const media = await makeMedia({
      outDir: path.join(work, 'disc'),
      patients: 2,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      modalities: ['CT', 'MR'],
      zip: true,
      seed: 11,
    });
    const root = media.root;
    const first = media.patients[0]!.studies[0]!.series[0]!.files[0]!;
    // Files a disc can carry that are not images to send: left out by both paths.
    writeFileSync(path.join(root, 'EMPTY.DCM'), '');
    writeFileSync(path.join(root, 'NOISE.DCM'), Buffer.alloc(3000, 0x5a));
    const whole = readFileSync(path.join(root, first));
    writeFileSync(path.join(root, 'CUT.DCM'), whole.subarray(0, whole.length - 1000));
    copyFileSync(media.dicomdirPath!, path.join(root, 'DICOMDIR.BAK'));
    const key = path.join(work, 'key');

    const withScan = await deidentify(root, path.join(work, 'out-scan'), key);
    rmSync(media.dicomdirPath!);
    const walked = await deidentify(root, path.join(work, 'out-walk'), key);

    const zipEntries = media.zip!.entries.length;
    expect(zipEntries).toBeGreaterThan(0);
    expect(walked.summary).toMatchObject({
      instances: media.totalInstances + zipEntries,
      written: media.totalInstances,
      held: 0,
      failed: zipEntries,
    });
    expect({ ...withScan.summary, seconds: 0 }).toEqual({ ...walked.summary, seconds: 0 });
    expect(bySource(withSeries(walked))).toEqual(bySource(withSeries(withScan)));
    expect(walked.series.length).toBe(withScan.series.length);
    expect(walked.findings.length).toBe(zipEntries);
    expect(bySource(walked.findings.map((f) => ({ ...f, source: f.paths[0]! })))).toEqual(
      bySource(withScan.findings.map((f) => ({ ...f, source: f.paths[0]! }))),
    );
    const sources = walked.instances.map((report) => report.source);
    for (const left of ['EMPTY.DCM', 'NOISE.DCM', 'CUT.DCM', 'DICOMDIR.BAK', 'README.TXT']) {
      expect(sources).not.toContain(left);
    }

    // The same files, byte for byte.
    const files = dcmFiles(path.join(work, 'out-walk'));
    expect(files).toHaveLength(media.totalInstances);
    expect(dcmFiles(path.join(work, 'out-scan'))).toEqual(files);
    for (const file of files) {
      const a = readFileSync(path.join(work, 'out-walk', file));
      const b = readFileSync(path.join(work, 'out-scan', file));
      expect(a.equals(b)).toBe(true);
    }
    // Nothing half-written is left behind.
    expect(
      readdirSync(path.join(work, 'out-walk'), { recursive: true }).filter((name) =>
        String(name).endsWith('.partial'),
      ),
    ).toEqual([]);
    expect(
      statSync(path.join(work, 'out-walk', 'deidentification-report.json')).size,
    ).toBeGreaterThan(0);
  });

  it('writes an image found twice once, and reports the other copy', async (context) => {
    if (skipFor(missingDicomTools(['dcmmkdir']))) return context.skip();
    const media = await makeMedia({
      outDir: path.join(work, 'twice'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 4,
      modalities: ['CT'],
      withDicomdir: false,
      extras: false,
      seed: 13,
    });
    const first = media.patients[0]!.studies[0]!.series[0]!.files[0]!;
    copyFileSync(path.join(media.root, first), path.join(media.root, 'COPY.DCM'));
    const out = path.join(work, 'out-twice');
    const document = await deidentify(media.root, out, path.join(work, 'key'));
    expect(document.summary).toMatchObject({ instances: 5, written: 4, failed: 1 });
    const copy = document.instances.filter((r) => r.error?.code === 'duplicate-instance');
    expect(copy).toHaveLength(1);
    expect([first, 'COPY.DCM']).toContain(copy[0]!.source);
    expect(dcmFiles(out)).toHaveLength(4);
  });

  it('de-identifies a single file given as the target', async (context) => {
    if (skipFor(missingDicomTools(['dcmmkdir']))) return context.skip();
    const file = await makeCtFile(path.join(work, 'one'), 12);
    const document = await deidentify(file, path.join(work, 'out-one'), path.join(work, 'key'));
    expect(document.summary).toMatchObject({ instances: 1, written: 1, failed: 0 });
    expect(dcmFiles(path.join(work, 'out-one'))).toHaveLength(1);
  });
});
