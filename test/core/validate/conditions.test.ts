/**
 * Conditional attributes, enumerated values, pixel descriptions and sequence items
 * (docs/validation.md): real instances from the media generator and pydicom's test files,
 * each changed in one way with dcmtk's dcmodify, then validated as a disc would be.
 */
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Finding, FindingCode } from '../../../main/core/findings.ts';
import { scanAndValidate } from '../../../main/core/validate/index.ts';
import { makeMedia, missingDicomTools } from '../../support/make-media.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const execFileAsync = promisify(execFile);

let tmp: string;
let ct: string;
let sc: string;

/** A copy of `source` changed by dcmodify (`-i`/`-m`/`-e` arguments), named `name`. */
async function variant(source: string, name: string, edits: string[]): Promise<string> {
  const file = path.join(tmp, 'variants', name);
  await copyFile(source, file);
  await execFileAsync('dcmodify', ['-nb', '-q', ...edits, file]);
  return file;
}

/** The findings of one file, privacy notices aside (they are not about conformance). */
async function findingsOf(file: string): Promise<Finding[]> {
  const result = await scanAndValidate(file);
  const privacy: readonly FindingCode[] = ['burned-in-text-likely', 'free-text-comments'];
  return result.findings.filter((finding) => !privacy.includes(finding.code));
}

async function only(file: string, code: FindingCode): Promise<string> {
  const findings = await findingsOf(file);
  expect(
    findings.map((finding) => finding.code),
    path.basename(file),
  ).toEqual([code]);
  return findings[0]!.detail ?? '';
}

const reason = missingDicomTools(['dcmodify']);

describe.skipIf(skipFor(reason))('conditions, enumerations and sequence items', () => {
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'ferry-conditions-'));
    await mkdir(path.join(tmp, 'variants'));
    const media = await makeMedia({
      outDir: path.join(tmp, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 1,
      modalities: ['CT', 'OT'],
      specificCharacterSet: 'ISO_IR 100',
      patientNames: ['Müller^Jürgen'],
      withDicomdir: false,
      extras: false,
      seed: 7,
    });
    const entries = await readdir(media.root, { recursive: true, withFileTypes: true });
    const files = entries
      .filter((entry) => entry.isFile())
      .map((entry) => path.join(entry.parentPath, entry.name))
      .sort();
    [ct, sc] = files as [string, string];
  });

  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('the generated CT and secondary capture have no conformance finding', async () => {
    expect(await findingsOf(ct)).toEqual([]);
    expect(await findingsOf(sc)).toEqual([]);
  });

  it('names a wrong enumerated value or defined term by attribute, never by value', async () => {
    const sex = await only(
      await variant(ct, 'sex', ['-m', '(0010,0040)=Q']),
      'enumerated-value-invalid',
    );
    expect(sex).toBe('Patient Sex (0010,0040): not one of its enumerated values (PS3.3 C.7.1.1)');
    const imageType = await only(
      await variant(ct, 'image-type', ['-m', '(0008,0008)=COPIED\\PRIMARY\\AXIAL']),
      'enumerated-value-invalid',
    );
    expect(imageType).toContain('Image Type (0008,0008): value 1 not one of its enumerated values');
    expect(imageType).not.toContain('COPIED');
    const secondary = await only(
      await variant(ct, 'image-type-2', ['-m', '(0008,0008)=ORIGINAL\\TERTIARY\\AXIAL']),
      'enumerated-value-invalid',
    );
    expect(secondary).toContain('value 2 not one of its enumerated values');
    const modality = await only(
      await variant(ct, 'modality', ['-m', '(0008,0060)=CAT']),
      'enumerated-value-invalid',
    );
    expect(modality).toBe('Modality (0008,0060): not one of its defined terms (PS3.3 C.7.3.1.1.1)');
    const burnedIn = await only(
      await variant(ct, 'burned-in', ['-i', '(0028,0301)=MAYBE']),
      'enumerated-value-invalid',
    );
    expect(burnedIn).toContain('Burned In Annotation (0028,0301)');
    const highBit = await only(
      await variant(ct, 'high-bit', ['-m', '(0028,0102)=10']),
      'enumerated-value-invalid',
    );
    expect(highBit).toContain('High Bit 10 with Bits Stored 12');
  });

  it('blocks pixels a receiver cannot interpret', async () => {
    const rgb = await variant(ct, 'rgb-one-sample', ['-m', '(0028,0004)=RGB']);
    const result = await scanAndValidate(rgb);
    const errors = result.findings.filter((finding) => finding.severity === 'error');
    expect(errors.map((finding) => finding.code)).toEqual(['pixel-description-invalid']);
    expect(errors[0]!.detail).toBe('Photometric Interpretation RGB with Samples per Pixel 1');
    expect(result.blockedPaths).toEqual(['rgb-one-sample']);
    const representation = await only(
      await variant(ct, 'representation', ['-m', '(0028,0103)=2']),
      'pixel-description-invalid',
    );
    expect(representation).toBe('Pixel Representation 2');
  });

  it('reports conditional attributes whose condition holds', async () => {
    const charset = await only(
      await variant(ct, 'no-charset', ['-e', '(0008,0005)']),
      'conditional-attribute-missing',
    );
    expect(charset).toBe(
      'Type 1C absent: Specific Character Set (0008,0005), required with text beyond ASCII (PS3.3 C.12.1, PS3.5 6.1.2.3)',
    );
    const orientation = await only(
      await variant(sc, 'no-orientation', ['-e', '(0020,0020)']),
      'conditional-attribute-missing',
    );
    expect(orientation).toContain('Type 2C absent: Patient Orientation (0020,0020)');
    const slope = await only(
      await variant(sc, 'slope-alone', ['-i', '(0028,1053)=2']),
      'conditional-attribute-missing',
    );
    expect(slope).toContain('Type 1C absent: Rescale Intercept (0028,1052)');
    const padding = await only(
      await variant(ct, 'padding-range', ['-i', '(0028,0121)=100']),
      'conditional-attribute-missing',
    );
    expect(padding).toContain('Pixel Padding Value (0028,0120)');
    // With Pixel Padding Value present the range is complete.
    expect(
      await findingsOf(
        await variant(ct, 'padding-both', ['-i', '(0028,0120)=0', '-i', '(0028,0121)=100']),
      ),
    ).toEqual([]);
  });

  it('reports an attribute the standard forbids in the situation', async () => {
    const detail = await only(
      await variant(ct, 'lut-and-rescale', ['-i', '(0028,3000)[0].(0028,3003)=identity']),
      'attribute-not-allowed',
    );
    expect(detail).toBe(
      'Modality LUT Sequence (0028,3000) with Rescale Intercept present: one modality transformation only (PS3.3 C.11.1)',
    );
  });

  it('checks the items of reference and code sequences', async () => {
    const reference = await only(
      await variant(ct, 'reference', [
        '-i',
        '(0008,1140)[0].(0008,1150)=1.2.840.10008.5.1.4.1.1.2',
      ]),
      'sequence-item-invalid',
    );
    expect(reference).toBe(
      '(0008,1140) Referenced Image Sequence: item Type 1 absent: Referenced SOP Instance UID (0008,1155) (PS3.3 Table 10-11)',
    );
    const frame = await only(
      await variant(ct, 'frame', [
        '-i',
        '(0008,1140)[0].(0008,1150)=1.2.840.10008.5.1.4.1.1.2',
        '-i',
        '(0008,1140)[0].(0008,1155)=1.2.826.0.1.3680043.10.1078.7',
        '-i',
        '(0008,1140)[0].(0008,1160)=3',
      ]),
      'sequence-item-invalid',
    );
    expect(frame).toContain('Referenced Frame Number (0008,1160) for a single-frame CT Image');
    const code = await only(
      await variant(ct, 'code', [
        '-i',
        '(0008,2218)[0].(0008,0100)=39607008',
        '-i',
        '(0008,2218)[0].(0008,0102)=SCT',
      ]),
      'sequence-item-invalid',
    );
    expect(code).toBe(
      '(0008,2218) Anatomic Region Sequence: item Type 1 absent: Code Meaning (0008,0104) (PS3.3 Table 8.8-1)',
    );
    // A complete item is fine.
    expect(
      await findingsOf(
        await variant(ct, 'code-complete', [
          '-i',
          '(0008,2218)[0].(0008,0100)=39607008',
          '-i',
          '(0008,2218)[0].(0008,0102)=SCT',
          '-i',
          '(0008,2218)[0].(0008,0104)=Lung structure',
        ]),
      ),
    ).toEqual([]);
  });

  it.skipIf(skipFor(missingPydicom()))('colour images need Planar Configuration', async () => {
    const source = path.join(pydicomTestFiles(), 'SC_rgb_rle.dcm');
    expect(await findingsOf(source)).toEqual([]);
    const detail = await only(
      await variant(source, 'rgb-no-planar', ['-e', '(0028,0006)']),
      'conditional-attribute-missing',
    );
    expect(detail).toBe(
      'Type 1C absent: Planar Configuration (0028,0006), required with Samples per Pixel above 1 (PS3.3 C.7.6.3)',
    );
  });

  it('reads Smallest/Largest Image Pixel Value with the VR Pixel Representation gives', async () => {
    // dcmodify writes (0028,0106) as US; Pixel Representation 1 wants SS.
    const detail = await only(
      await variant(ct, 'smallest-us', ['-i', '(0028,0106)=0', '-m', '(0028,0103)=1']),
      'invalid-value',
    );
    expect(detail).toBe(
      '(0028,0106) Smallest Image Pixel Value: encoded as US, Pixel Representation 1 needs SS (PS3.3 C.7.6.3)',
    );
  });
});
