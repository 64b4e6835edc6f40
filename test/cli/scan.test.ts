import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScanJson } from '../../main/core/media/report.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../support/tools.ts';

const ferry = path.join(import.meta.dirname, '..', '..', 'bin', 'ferry.cjs');

function run(...args: string[]) {
  const result = spawnSync(process.execPath, [ferry, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const skip = skipFor(missingPydicom());

describe.skipIf(skip)('ferry scan', () => {
  const disc = skip ? '' : path.join(pydicomTestFiles(), 'dicomdirtests');

  it('prints one JSON document with the documented shape', () => {
    const { status, stdout } = run('scan', disc, '--json');
    expect(status).toBe(0);
    const doc = JSON.parse(stdout) as ScanJson;
    expect(doc.source).toBe('dicomdir');
    expect(doc.summary).toEqual({
      patients: 3,
      studies: 7,
      series: 14,
      instances: 81,
      bytes: expect.any(Number) as number,
      nonDicomFiles: 10,
      unreadableFiles: 0,
    });
    const doe = doc.patients.find((patient) => patient.patientId === '77654033');
    expect(doe?.patientName).toBe('Doe^Archibald');
    const study = doe?.studies.find((s) => s.description === 'XR C Spine Comp Min 4 Views');
    expect(study).toMatchObject({ date: '20010101', modalities: ['CR'] });
    expect(
      study?.series.map((series) => [series.number, series.description, series.instances]),
    ).toEqual([
      [1, 'Cervical LAT', 1],
      [2, 'Cervical OBLI 1', 1],
      [3, 'Cervical OBLI 2', 1],
    ]);
    expect(study?.series[0]?.sopClassUids).toEqual(['1.2.840.10008.5.1.4.1.1.1']);
    const seriesBytes = doc.patients.flatMap((p) =>
      p.studies.flatMap((s) => s.series.map((x) => x.bytes)),
    );
    expect(seriesBytes.reduce((a, b) => a + b, 0)).toBe(doc.summary.bytes);
  });

  it('prints a readable tree for people', () => {
    const { status, stdout } = run('scan', disc);
    expect(status).toBe(0);
    expect(stdout).toContain("from the disc's DICOMDIR");
    expect(stdout).toContain('Archibald Doe, ID 77654033');
    expect(stdout).toContain('2001-01-01  XR C Spine Comp Min 4 Views  [CR]');
    expect(stdout).toMatch(/3 patients, 7 studies, 14 series, 81 images/u);
  });
});

describe('ferry usage errors', () => {
  it('says what is wrong with a missing path', () => {
    const { status, stderr } = run('scan', '/nonexistent/ferry/disc');
    expect(status).toBe(2);
    expect(stderr).toContain('nothing to scan at /nonexistent/ferry/disc');
  });

  it('rejects an unknown option and an unknown command', () => {
    expect(run('scan', '.', '--bogus').status).toBe(2);
    const unknown = run('fly');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown command "fly"');
  });
});
