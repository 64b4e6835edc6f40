/**
 * Validity preserved (issue 5): dciodvfy (Debian dicom3tools) reports no error on the output
 * that it did not report on the input, over pydicom's test files and generated media; dcentvfy
 * finds no new inconsistency within a study.
 *
 * The baseline for an input is what dciodvfy says of it as it is, and of the same input
 * re-encoded by dcmconv (explicit VR little endian): dciodvfy cannot read deflated files and
 * stops early on out-of-order tags, so without the re-encoded baseline errors it never got to
 * check would look new. Values inside messages (UIDs change) are not compared.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { collectBytes, deidentifyInstance } from '../../../main/core/deid/instance.ts';
import { makeMedia, missingDicomTools } from '../../support/make-media.ts';
import { missingCommands, missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const policy: DeidentifyPolicy = {
  kind: 'deidentify',
  profile: 'basic',
  options: [],
  key: new Uint8Array(32).fill(0x11),
};
const work = mkdtempSync(path.join(tmpdir(), 'ferry-validity-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const tools = (): string | undefined =>
  missingCommands({ dciodvfy: 'dicom3tools', dcentvfy: 'dicom3tools', dcmconv: 'dcmtk' });

function normalise(line: string): string {
  return line
    .replace(/= <[^<>]*>/gu, '= <>')
    .replace(/<[^<>]*>\s*$/u, '<>')
    .trim();
}

function errorsOf(command: string, files: string[]): Set<string> {
  const result = spawnSync(command, files, { encoding: 'utf8' });
  return new Set(
    `${result.stdout}\n${result.stderr}`
      .split('\n')
      .filter((line) => line.startsWith('Error'))
      .map(normalise),
  );
}

function baseline(file: string): Set<string> {
  const errors = errorsOf('dciodvfy', ['-new', file]);
  const converted = path.join(work, `${path.basename(file)}.baseline`);
  const result = spawnSync('dcmconv', ['-q', '+te', file, converted]);
  if (result.status === 0)
    for (const line of errorsOf('dciodvfy', ['-new', converted])) errors.add(line);
  return errors;
}

async function deidentifyTo(file: string, out: string): Promise<boolean> {
  try {
    const instance = await deidentifyInstance({ kind: 'file', path: file }, policy);
    writeFileSync(out, await collectBytes(instance));
    return true;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'unreadable' || code === 'not-an-instance') return false;
    throw error;
  }
}

describe('validity: dciodvfy', () => {
  it('no new error over pydicom test files', async (context) => {
    if (skipFor(missingPydicom() ?? tools())) return context.skip();
    const dir = pydicomTestFiles();
    const newErrors: string[] = [];
    let checked = 0;
    for (const name of readdirSync(dir)
      .filter((file) => file.endsWith('.dcm'))
      .sort()) {
      const out = path.join(work, `pydicom-${name}`);
      if (!(await deidentifyTo(path.join(dir, name), out))) continue;
      checked++;
      const before = baseline(path.join(dir, name));
      for (const line of errorsOf('dciodvfy', ['-new', out])) {
        if (!before.has(line)) newErrors.push(`${name}: ${line}`);
      }
    }
    expect(checked).toBeGreaterThanOrEqual(55);
    expect(newErrors).toEqual([]);
  }, 120_000);

  it('no new error, and no new dcentvfy inconsistency, over generated media', async (context) => {
    if (skipFor(tools() ?? missingDicomTools(['dcmdump']))) return context.skip();
    const media = await makeMedia({
      outDir: path.join(work, 'media'),
      patients: 2,
      studiesPerPatient: 1,
      seriesPerStudy: 3,
      instancesPerSeries: 3,
      withDicomdir: false,
      extras: false,
      modalities: ['CT', 'MR', 'CR', 'US'],
      specificCharacterSet: 'ISO_IR 100',
      patientNames: ['Müller^Jürgen', 'Ødegård^Åse'],
      seed: 7,
    });
    const newErrors: string[] = [];
    for (const patient of media.patients) {
      for (const study of patient.studies) {
        const inputs: string[] = [];
        const outputs: string[] = [];
        for (const series of study.series) {
          for (const file of series.files) {
            const input = path.join(media.root, file);
            const out = path.join(work, `gen-${file.replace(/\//gu, '_')}`);
            expect(await deidentifyTo(input, out)).toBe(true);
            inputs.push(input);
            outputs.push(out);
            const before = baseline(input);
            for (const line of errorsOf('dciodvfy', ['-new', out])) {
              if (!before.has(line)) newErrors.push(`${file}: ${line}`);
            }
          }
        }
        const consistencyBefore = errorsOf('dcentvfy', inputs);
        for (const line of errorsOf('dcentvfy', outputs)) {
          if (!consistencyBefore.has(line)) newErrors.push(`dcentvfy: ${line}`);
        }
      }
    }
    expect(newErrors).toEqual([]);
  }, 120_000);
});
