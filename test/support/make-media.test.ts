import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';

import { makeMedia, missingDicomTools, type GeneratedMedia } from './make-media.ts';
import { skipFor } from './tools.ts';

const execFileAsync = promisify(execFile);
const systemPython = '/usr/bin/python3'; // Debian's, with python3-pydicom; not the pyenv one

const missing = missingDicomTools();
// In CI a missing tool fails here instead of skipping the whole file.
const skipAll = skipFor(missing);

async function run(command: string, args: string[], cwd?: string): Promise<string> {
  const { stdout } = await execFileAsync(command, args, {
    cwd,
    maxBuffer: 256 * 1024 * 1024,
  });
  return stdout;
}

function allFiles(media: GeneratedMedia): string[] {
  return media.patients.flatMap((patient) =>
    patient.studies.flatMap((study) => study.series.flatMap((series) => series.files)),
  );
}

async function walk(root: string, relative = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(path.join(root, relative), { withFileTypes: true })) {
    const child = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) found.push(...(await walk(root, child)));
    else found.push(child);
  }
  return found;
}

function readZip(zipPath: string): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.open(zipPath, { lazyEntries: true }, (openError, zip) => {
      if (openError) return reject(openError);
      const contents = new Map<string, Buffer>();
      zip.on('error', reject);
      zip.on('end', () => resolve(contents));
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('error', reject);
          stream.on('end', () => {
            contents.set(entry.fileName, Buffer.concat(chunks));
            zip.readEntry();
          });
        });
      });
      zip.readEntry();
    });
  });
}

/** Why pydicom cannot read pixel data here (it needs numpy), or undefined when it can. */
async function missingPydicomReader(): Promise<string | undefined> {
  const reason = `needs pydicom and numpy for ${systemPython} (Debian python3-pydicom, python3-numpy)`;
  if (!existsSync(systemPython)) return reason;
  try {
    await run(systemPython, ['-c', 'import pydicom, numpy']);
    return undefined;
  } catch {
    return reason;
  }
}

describe.skipIf(skipAll)('makeMedia', () => {
  let workDir: string;
  let media: GeneratedMedia;

  beforeAll(async () => {
    workDir = await mkdtemp(path.join(os.tmpdir(), 'ferry-make-media-'));
    media = await makeMedia({
      outDir: path.join(workDir, 'disc'),
      patients: 2,
      studiesPerPatient: 2,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      specificCharacterSet: 'ISO_IR 100',
      patientNames: ['Müller^Jürgen', 'Ødegård^Åse'],
      zip: true,
      seed: 42,
    });
  });

  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('lays out a PDI disc with ISO 9660 level 1 file IDs and the usual extras', async () => {
    expect(media.totalInstances).toBe(24);
    expect(media.patients).toHaveLength(2);
    for (const patient of media.patients) {
      expect(patient.studies).toHaveLength(2);
      for (const study of patient.studies) {
        expect(study.series).toHaveLength(2);
        for (const series of study.series) {
          expect(series.files).toHaveLength(3);
          expect(series.sopInstanceUids).toHaveLength(3);
        }
      }
    }
    const files = allFiles(media);
    expect(new Set(files).size).toBe(24);
    expect((await walk(media.root, 'DICOM')).sort()).toEqual([...files].sort());
    for (const file of files) {
      const components = file.split('/');
      expect(components.length).toBeLessThanOrEqual(8);
      for (const component of components) expect(component).toMatch(/^[A-Z0-9_]{1,8}$/u);
    }

    const uids = media.patients.flatMap((patient) =>
      patient.studies.flatMap((study) => [
        study.studyInstanceUid,
        ...study.series.flatMap((series) => [series.seriesInstanceUid, ...series.sopInstanceUids]),
      ]),
    );
    expect(new Set(uids).size).toBe(uids.length);
    for (const uid of uids) {
      expect(uid).toMatch(/^2\.25\.[1-9][0-9]*$/u);
      expect(uid.length).toBeLessThanOrEqual(64);
    }

    let bytes = 0;
    for (const file of files) bytes += (await stat(path.join(media.root, file))).size;
    expect(media.totalBytes).toBe(bytes);

    expect((await readdir(media.root)).sort()).toEqual([
      'AUTORUN.INF',
      'DICOM',
      'DICOMDIR',
      'README.TXT',
      'REPORT.PDF',
      'STUDIES.ZIP',
      'VIEWER.EXE',
    ]);
    expect(media.dicomdirPath).toBe(path.join(media.root, 'DICOMDIR'));
  });

  it('has a DICOMDIR that references exactly the generated files', async () => {
    const dump = await run('dcmdump', ['+P', '0004,1500', 'DICOMDIR'], media.root);
    const referenced = [...dump.matchAll(/^\s*\(0004,1500\) CS \[([^\]]*)\]/gmu)].map((match) =>
      match[1]!.replaceAll('\\', '/'),
    );
    expect(referenced.sort()).toEqual(allFiles(media).sort());
  });

  it('writes files that dcmftest calls Part 10 and dcmdump parses with the expected values', async () => {
    const files = allFiles(media);
    const ftest = await run('dcmftest', files, media.root);
    const verdicts = ftest.trim().split('\n');
    expect(verdicts).toHaveLength(files.length);
    for (const verdict of verdicts) expect(verdict).toMatch(/^yes: /u);

    // +fo: Part 10 only; the full dataset is parsed even when only some tags are printed.
    const dump = await run(
      'dcmdump',
      ['+fo', '+F', '+U8', '+P', '0008,0018', '+P', '0010,0010', ...files],
      media.root,
    );
    const sopByFile = new Map<string, string>();
    const nameByFile = new Map<string, string>();
    let current = '';
    for (const line of dump.split('\n')) {
      const header = /^# dcmdump \(\d+\/\d+\): (.+)$/u.exec(line);
      if (header) current = header[1]!;
      const sop = /^\(0008,0018\) UI \[([^\]]*)\]/u.exec(line);
      if (sop) sopByFile.set(current, sop[1]!);
      const name = /^\(0010,0010\) PN \[([^\]]*)\]/u.exec(line);
      if (name) nameByFile.set(current, name[1]!);
    }
    for (const patient of media.patients) {
      for (const study of patient.studies) {
        for (const series of study.series) {
          series.files.forEach((file, index) => {
            expect(sopByFile.get(file)).toBe(series.sopInstanceUids[index]);
            expect(nameByFile.get(file)).toBe(patient.patientName);
          });
        }
      }
    }
  });

  it('is read by pydicom with the Latin-1 patient name', async (context) => {
    if (skipFor(await missingPydicomReader())) return context.skip();
    const series = media.patients[0]!.studies[0]!.series[0]!;
    const script = [
      'import json, sys, pydicom',
      'ds = pydicom.dcmread(sys.argv[1])',
      'pixels = ds.pixel_array',
      'print(json.dumps({"name": str(ds.PatientName), "charset": ds.SpecificCharacterSet,',
      '  "sop": ds.SOPInstanceUID, "modality": ds.Modality, "shape": list(pixels.shape),',
      '  "max": int(pixels.max()), "ts": str(ds.file_meta.TransferSyntaxUID)}))',
    ].join('\n');
    const result = JSON.parse(
      await run(systemPython, ['-c', script, path.join(media.root, series.files[0]!)]),
    ) as Record<string, unknown>;
    expect(result).toEqual({
      name: 'Müller^Jürgen',
      charset: 'ISO_IR 100',
      sop: series.sopInstanceUids[0],
      modality: series.modality,
      shape: [64, 64],
      max: expect.any(Number),
      ts: '1.2.840.10008.1.2.1',
    });
    expect(result.max).toBeGreaterThan(0);
    expect(result.max).toBeLessThanOrEqual(4095);
  });

  it('packs the last patient into a STUDIES.ZIP that an independent reader extracts', async () => {
    const lastPatient = media.patients.at(-1)!;
    expect(media.zip?.patientIds).toEqual([lastPatient.patientId]);
    const contents = await readZip(path.join(media.root, 'STUDIES.ZIP'));
    const expected = lastPatient.studies.flatMap((study) => study.series.flatMap((s) => s.files));
    expect([...contents.keys()].sort()).toEqual([...expected].sort());
    for (const [name, bytes] of contents) {
      expect(bytes.equals(await readFile(path.join(media.root, name)))).toBe(true);
    }
  });

  it('writes a PDF whose cross-reference offsets point at its objects', async () => {
    const pdf = (await readFile(path.join(media.root, 'REPORT.PDF'))).toString('latin1');
    expect(pdf.startsWith('%PDF-1.4\n')).toBe(true);
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/u.exec(pdf)?.[1]);
    expect(pdf.slice(startxref, startxref + 4)).toBe('xref');
    const offsets = [...pdf.slice(startxref).matchAll(/^(\d{10}) 00000 n $/gmu)].map((m) =>
      Number(m[1]),
    );
    expect(offsets).toHaveLength(5);
    offsets.forEach((offset, index) => {
      expect(pdf.slice(offset, offset + 8)).toBe(`${index + 1} 0 obj\n`);
    });
  });

  it('gives the same UIDs for the same seed and different ones for another', async () => {
    const small = (seed: number, name: string) =>
      makeMedia({
        outDir: path.join(workDir, name),
        patients: 1,
        studiesPerPatient: 1,
        seriesPerStudy: 1,
        instancesPerSeries: 2,
        withDicomdir: false,
        extras: false,
        seed,
      });
    const [first, again, other] = await Promise.all([
      small(7, 'seed-a'),
      small(7, 'seed-b'),
      small(8, 'seed-c'),
    ]);
    expect(again.patients).toEqual(first.patients);
    expect(other.patients[0]!.studies[0]!.studyInstanceUid).not.toBe(
      first.patients[0]!.studies[0]!.studyInstanceUid,
    );
    expect(first.dicomdirPath).toBeUndefined();
    expect(await readdir(first.root)).toEqual(['DICOM']);
  });

  it('refuses a name the character set cannot hold, and a folder that is not empty', async () => {
    await expect(
      makeMedia({
        outDir: path.join(workDir, 'ascii'),
        patients: 1,
        studiesPerPatient: 1,
        seriesPerStudy: 1,
        instancesPerSeries: 1,
        patientNames: ['Müller^Jürgen'],
      }),
    ).rejects.toThrow(/cannot be written/u);
    expect(existsSync(path.join(workDir, 'ascii'))).toBe(false);
    await expect(
      makeMedia({
        outDir: media.root,
        patients: 1,
        studiesPerPatient: 1,
        seriesPerStudy: 1,
        instancesPerSeries: 1,
      }),
    ).rejects.toThrow(/not empty/u);
  });

  it(
    'builds a 10,000-instance disc (2 x 5 x 10 x 100) with its DICOMDIR',
    { timeout: 300_000 },
    async () => {
      const started = performance.now();
      const big = await makeMedia({
        outDir: path.join(workDir, 'big'),
        patients: 2,
        studiesPerPatient: 5,
        seriesPerStudy: 10,
        instancesPerSeries: 100,
        seed: 1,
      });
      const seconds = (performance.now() - started) / 1000;
      const { writeMs, dicomdirMs } = big.timings;
      console.log(
        `make-media: 10,000 instances, ${(big.totalBytes / 1_048_576).toFixed(1)} MiB in ` +
          `${seconds.toFixed(2)} s (files ${(writeMs / 1000).toFixed(2)} s, ` +
          `DICOMDIR ${(dicomdirMs / 1000).toFixed(2)} s)`,
      );
      expect(big.totalInstances).toBe(10_000);
      expect(existsSync(path.join(big.root, 'DICOMDIR'))).toBe(true);
      await rm(big.root, { recursive: true, force: true });
    },
  );
});
