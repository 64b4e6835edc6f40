import { copyFile, mkdir, mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Io } from '../../../main/commands/io.ts';
import { main } from '../../../main/cli.ts';
import { Tag } from '../../../main/core/dicom/dictionary.ts';
import { parseDicom } from '../../../main/core/dicom/parse.ts';
import type { Finding, FindingCode } from '../../../main/core/findings.ts';
import { scanMedia } from '../../../main/core/media/scan.ts';
import { scanAndValidate, validateMedia } from '../../../main/core/validate/index.ts';
import { makeMedia, missingDicomTools, type GeneratedMedia } from '../../support/make-media.ts';
import { missingPydicom, pydicomDataDir, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const codes = (findings: readonly Finding[]): FindingCode[] =>
  [...new Set(findings.map((f) => f.code))].sort();
const withCode = (findings: readonly Finding[], code: FindingCode): Finding[] =>
  findings.filter((finding) => finding.code === code);

/** Overwrites an element's value in place (same length), e.g. a different Patient ID. */
async function rewriteValue(file: string, tag: number, value: string): Promise<void> {
  const bytes = await readFile(file);
  const element = parseDicom(bytes, { untilPixelData: true }).dataset.elements.get(tag)!;
  const padded = Buffer.from(value.padEnd(element.length, ' ').slice(0, element.length), 'latin1');
  padded.copy(bytes, element.valueOffset);
  await writeFile(file, bytes);
}

function captureIo(): Io & { out: string; err: string } {
  const io = {
    out: '',
    err: '',
    isTty: false,
    stdout: (text: string) => {
      io.out += text;
    },
    stderr: (text: string) => {
      io.err += text;
    },
  };
  return io;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'ferry-validate-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe.skipIf(skipFor(missingDicomTools(['dcmmkdir'])))('validating generated media', () => {
  let media: GeneratedMedia;

  beforeAll(async () => {
    media = await makeMedia({
      outDir: path.join(tmp, 'disc'),
      patients: 2,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      modalities: ['CT', 'MR'],
      specificCharacterSet: 'ISO_IR 192',
      patientNames: ['Müller^Jürgen', 'Yamada^Tarou=山田^太郎=やまだ^たろう'],
      zip: true,
      seed: 61,
    });
  });

  it('sends identical copies once (the zip repeats the last patient)', async () => {
    const result = await scanAndValidate(media.root);
    // One finding per kind of fault: every copy is listed under it.
    const duplicates = withCode(result.findings, 'duplicate-instance');
    expect(duplicates).toHaveLength(1);
    expect(duplicates[0]!.paths).toHaveLength(2 * media.zip!.entries.length);
    expect(result.duplicatePaths).toEqual(
      media.zip!.entries.map((entry) => `STUDIES.ZIP!/${entry}`).sort(),
    );
    expect(result.summary.duplicateFiles).toBe(media.zip!.entries.length);
    expect(codes(result.findings)).toEqual(['duplicate-instance', 'not-dicom', 'several-patients']);
    expect(result.summary.errors).toBe(0);
  });

  it('checks identity against the link patient, tolerantly, and asks for confirmation', async () => {
    const scan = await scanMedia(media.root);
    const jurgen = scan.patients.find((patient) => patient.patientName.startsWith('Müller'))!;
    const expectedPatient = { expectedName: 'Jurgen Muller', expectedBirthDate: jurgen.birthDate };
    // validateMedia on a scan made without the hook: it reads the headers itself.
    const result = await validateMedia(scan, { expectedPatient });
    const mismatch = withCode(result.findings, 'patient-mismatch');
    expect(mismatch).toHaveLength(1);
    expect(mismatch[0]!.paths.every((p) => !p.includes('PA000001/'))).toBe(true);
    expect(result.needsConfirmation).toBe(true);
    // The other patient, by its ideographic name and birth date, matches too.
    const yamada = scan.patients.find((patient) => patient.patientName.startsWith('Yamada'))!;
    const second = await validateMedia(scan, {
      expectedPatient: { expectedName: '山田 太郎', expectedBirthDate: yamada.birthDate },
    });
    expect(
      withCode(second.findings, 'patient-mismatch')[0]!.paths.some((p) => p.includes('PA000001/')),
    ).toBe(true);
    expect(
      withCode(second.findings, 'patient-mismatch')[0]!.paths.some((p) => p.includes('PA000002/')),
    ).toBe(false);
  });

  it('never puts patient values in messages or details', async () => {
    const scan = await scanMedia(media.root);
    const result = await validateMedia(scan, {
      expectedPatient: { expectedName: 'Someone Else', expectedBirthDate: '1901-01-01' },
    });
    const text = JSON.stringify(result.findings.map((f) => [f.message, f.detail ?? '']));
    for (const patient of scan.patients) {
      for (const value of [
        patient.patientId,
        patient.patientName,
        patient.birthDate,
        'Müller',
        '山田',
      ]) {
        if (value) expect(text).not.toContain(value);
      }
      for (const study of patient.studies) {
        expect(text).not.toContain(study.studyInstanceUid);
        expect(text).not.toContain(study.date);
      }
    }
  });

  it('reuses the scan findings (DICOMDIR vs files) and blocks conflicts and hierarchy faults', async () => {
    const copy = path.join(tmp, 'disc-broken');
    await mkdir(copy);
    const broken = await makeMedia({
      outDir: copy,
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      modalities: ['CT'],
      extras: false,
      seed: 62,
    });
    const [first, second] = broken.patients[0]!.studies[0]!.series[0]!.files;
    // A file the DICOMDIR lists goes missing; another is copied and then changed: same SOP
    // Instance UID, different content, and filed under another patient.
    await unlink(path.join(copy, second!));
    await mkdir(path.join(copy, 'EXTRA'));
    await copyFile(path.join(copy, first!), path.join(copy, 'EXTRA', 'COPY1'));
    await rewriteValue(path.join(copy, 'EXTRA', 'COPY1'), Tag.PatientName, 'OTHER^PERSON');
    const result = await scanAndValidate(copy);
    expect(codes(result.findings)).toEqual([
      'conflicting-instance',
      'dicomdir-missing-file',
      'dicomdir-unreferenced-file',
      'several-patients',
      'uid-hierarchy-conflict',
    ]);
    expect(result.blockedPaths).toContain('EXTRA/COPY1');
    expect(result.blockedPaths).toContain(first);
    expect(result.blockedPaths).not.toContain(second); // not on the disc: nothing to block
  });

  it('ferry validate: --json, exit 1 on errors, 0 when clean, 2 on bad options', async () => {
    const clean = path.join(tmp, 'disc-clean');
    await makeMedia({
      outDir: clean,
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 1,
      instancesPerSeries: 2,
      modalities: ['CT'],
      extras: false,
      seed: 63,
    });
    let io = captureIo();
    expect(await main(['validate', clean, '--json'], io)).toBe(0);
    const json = JSON.parse(io.out);
    expect(json.summary).toMatchObject({ instances: 2, errors: 0, patients: 1, studies: 1 });
    expect(json.findings).toEqual([]);
    expect(json.identityChecked).toBe(false);

    io = captureIo();
    expect(
      await main(
        ['validate', clean, '--expect-name', 'Nobody Else', '--expect-birth-date', '1901-01-01'],
        io,
      ),
    ).toBe(1);
    expect(io.out).toContain('patient-mismatch');
    expect(io.out).toContain('confirm before sending');

    io = captureIo();
    expect(await main(['validate', clean, '--expect-name', 'X Y'], io)).toBe(2);
    io = captureIo();
    expect(await main(['validate', path.join(tmp, 'nothing-here')], io)).toBe(2);
    io = captureIo();
    expect(await main(['validate'], io)).toBe(2);
  });

  describe('--link', () => {
    let server: Server;
    let base: string;
    const token = 'tok_0123456789abcdefXYZ';

    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === `/api/v1/links/${token}`) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              protocol: 1,
              accountId: 'acc_1',
              provider: { name: 'Dr. Test', department: '', organization: '' },
              recipient: { name: 'DOE^JANE', email: 'jane@example.org' },
              patient: { name: 'DOE^JANE', birthDate: '19700101' },
              expiresAt: '2030-01-17T09:00:00.000Z',
              policy: { kind: 'none' },
              limits: { maxBytes: 1e10, maxInstances: 1e5, maxRequestBytes: 1e9 },
              stowUrl: `${base}/dicomweb/studies`,
              transfersUrl: `${base}/api/v1/transfers`,
              statusUrl: null,
              transfers: [],
            }),
          );
        } else {
          res.writeHead(404, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'link-unknown', message: 'unknown link' }));
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('resolves the link and checks the patient it was made for', async () => {
      const io = captureIo();
      expect(
        await main(
          ['validate', path.join(tmp, 'disc-clean'), '--link', `${base}/u/${token}`, '--json'],
          io,
        ),
      ).toBe(1);
      const json = JSON.parse(io.out);
      expect(json.identityChecked).toBe(true);
      expect(json.needsConfirmation).toBe(true);
      expect(json.findings.map((f: Finding) => f.code)).toEqual(['patient-mismatch']);
    });

    it('says plainly when the link is not valid', async () => {
      const io = captureIo();
      expect(
        await main(['validate', path.join(tmp, 'disc-clean'), '--link', 'not a link'], io),
      ).toBe(2);
      expect(io.err).toContain('not an upload link');
    });
  });
});

describe.skipIf(skipFor(missingPydicom()))('validating real files (pydicom)', () => {
  const one = async (name: string): Promise<readonly Finding[]> => {
    const result = await scanAndValidate(path.join(pydicomTestFiles(), name));
    return result.findings;
  };

  it('pixel data checked against its description, 4:2:2 subsampling included', async () => {
    expect(codes(await one('MR_small_padded.dcm'))).toContain('pixel-data-long');
    expect(codes(await one('SC_ybr_full_422_uncompressed.dcm'))).not.toContain('pixel-data-short');
    expect(codes(await one('MR_small.dcm'))).toEqual(['free-text-comments']);
  });

  it('Part 10, UIDs, values, required attributes', async () => {
    expect(codes(await one('rtplan.dcm'))).toEqual(['file-meta-mismatch']);
    const bigEndian = withCode(await one('ExplVR_BigEnd.dcm'), 'invalid-value')[0]!;
    expect(bigEndian.detail).toContain('(0008,0020) Study Date: not a date as YYYYMMDD (DA)');
    expect(withCode(await one('rtdose_rle.dcm'), 'invalid-uid')[0]!.detail).toContain(
      'leading zero',
    );
    expect(
      withCode(await one('liver_1frame.dcm'), 'required-attribute-missing')[0]!.detail,
    ).toContain('Number Of Frames (0028,0008)');
    expect(codes(await one('SC_rgb_jpeg.dcm'))).toContain('encoding-anomaly');
    expect(codes(await one('meta_missing_tsyntax.dcm'))).toEqual(['missing-identifier']);
  });

  it('privacy risks for the preview: reports, burned-in text', async () => {
    expect(codes(await one('test-SR.dcm'))).toContain('free-text-report');
    expect(codes(await one('SC_rgb_rle.dcm'))).toContain('burned-in-text-likely');
  });

  it('study completeness from the headers (Images in Acquisition)', async () => {
    const result = await scanAndValidate(
      path.join(pydicomDataDir()!, 'test_files', 'dicomdirtests', '98892003'),
    );
    const incomplete = withCode(result.findings, 'study-incomplete');
    expect(incomplete.map((f) => f.detail)).toEqual([
      'series 700 (MR), acquisition 6: 7 of 12 instances on the disc',
    ]);
  });
});
