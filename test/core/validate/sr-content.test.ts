/**
 * Structured report content trees (PS3.3 C.17.3, C.18; docs/validation.md): a Comprehensive SR
 * written with pydicom (make-sr.py) that dciodvfy accepts, variants with one fault each, and
 * pydicom's own SR test files.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Finding } from '../../../main/core/findings.ts';
import { maxContentDepth } from '../../../main/core/validate/sr-rules.ts';
import { scanAndValidate } from '../../../main/core/validate/index.ts';
import {
  debianPython,
  missingCommands,
  missingPydicom,
  pydicomTestFiles,
  skipFor,
} from '../../support/tools.ts';

const execFileAsync = promisify(execFile);

let dir: string;

/** Conformance findings of one report (the privacy notice every report gets aside). */
async function findingsOf(file: string): Promise<Finding[]> {
  const result = await scanAndValidate(file);
  return result.findings.filter((finding) => finding.code !== 'free-text-report');
}

async function contentDetail(name: string): Promise<string> {
  const findings = await findingsOf(path.join(dir, `${name}.dcm`));
  expect(
    findings.map((finding) => finding.code),
    name,
  ).toEqual(['sr-content-invalid']);
  return findings[0]!.detail ?? '';
}

const reason = missingPydicom() ?? missingCommands({ dciodvfy: 'dicom3tools' });

describe.skipIf(skipFor(reason))('structured report content trees', () => {
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-sr-'));
    await execFileAsync(debianPython, [path.join(import.meta.dirname, 'make-sr.py'), dir]);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a well-formed report: dciodvfy finds no error, Ferry only the privacy notice', async () => {
    const file = path.join(dir, 'valid.dcm');
    const { stdout, stderr } = await execFileAsync('dciodvfy', [file]).catch(
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${stdout}${stderr}`.split('\n').filter((line) => line.startsWith('Error'))).toEqual([]);
    const result = await scanAndValidate(file);
    expect(result.findings.map((finding) => finding.code)).toEqual(['free-text-report']);
  });

  it('finds each fault of the content tree, naming attributes and sections', async () => {
    expect(await contentDetail('no-relationship')).toBe(
      'content item without Relationship Type (0040,A010) (PS3.3 Table C.17-6)',
    );
    expect(await contentDetail('no-text-value')).toBe(
      'TEXT content item without Text Value (0040,A160) (PS3.3 C.18)',
    );
    expect(await contentDetail('num-unnamed')).toBe(
      'NUM content item without Concept Name Code Sequence (0040,A043) (PS3.3 C.17.3.3)',
    );
    expect(await contentDetail('scoord-alone')).toBe(
      'SCOORD content item not SELECTED FROM an IMAGE content item (PS3.3 C.18.6)',
    );
    expect(await contentDetail('bad-value-type')).toBe(
      'Value Type (0040,A040) not one of its enumerated values (PS3.3 C.17.3.3)',
    );
    expect(await contentDetail('root-not-container')).toContain(
      'root content item is not a CONTAINER (PS3.3 C.17.3)',
    );
    expect(await contentDetail('no-evidence')).toContain(
      'not listed in Current Requested Procedure Evidence Sequence (0040,A375)',
    );
    expect(await contentDetail('deep')).toBe(
      `content tree nested deeper than ${maxContentDepth} levels; deeper items not checked`,
    );
  });

  it('checks code items inside the tree with the Code Sequence Macro', async () => {
    const findings = await findingsOf(path.join(dir, 'code-unexplained.dcm'));
    expect(findings.map((finding) => [finding.code, finding.detail])).toEqual([
      [
        'sequence-item-invalid',
        '(0040,A168) Concept Code Sequence: item Type 1 absent: Code Meaning (0008,0104) (PS3.3 Table 8.8-1)',
      ],
    ]);
  });

  it("pydicom's reports: the faults dciodvfy reports, and no patient value in a detail", async () => {
    const testSr = await findingsOf(path.join(pydicomTestFiles(), 'test-SR.dcm'));
    expect(testSr.map((finding) => finding.code).sort()).toEqual([
      'sequence-item-invalid',
      'sr-content-invalid',
    ]);
    const content = testSr.find((finding) => finding.code === 'sr-content-invalid')!.detail!;
    expect(content).toContain('SCOORD content item not SELECTED FROM an IMAGE');
    expect(content).toContain('not listed in Current Requested Procedure Evidence');
    expect(content).not.toMatch(/\d+\.\d+\.\d+\.\d+/u); // no UID of the report
    const reportsi = await findingsOf(path.join(pydicomTestFiles(), 'reportsi.dcm'));
    expect(reportsi.map((finding) => finding.code).sort()).toEqual([
      'invalid-uid',
      'sr-content-invalid',
    ]);
  });
});
