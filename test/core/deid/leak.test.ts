/**
 * The leak test (issue 5): a unique marker in every attribute of PS3.15 Table E.1-1, at the top
 * level and two levels deep, in private blocks and private sequences, overlays, curves and the
 * file meta information. After the Basic Profile: 0 markers in the output bytes, no original
 * instance UID anywhere, no planted value left under its tag at any depth.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { parseDicom, type DicomDataset } from '../../../main/core/dicom/parse.ts';
import { getText, getTexts } from '../../../main/core/dicom/values.ts';
import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { collectBytes, deidentifyInstance } from '../../../main/core/deid/instance.ts';
import { missingCommands, skipFor } from '../../support/tools.ts';
import { plantedFile, type Planted } from './planted.ts';

const policy: DeidentifyPolicy = {
  kind: 'deidentify',
  profile: 'basic',
  options: [],
  key: new Uint8Array(32).fill(0x5a),
};

const work = mkdtempSync(path.join(tmpdir(), 'ferry-leak-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

function survivors(planted: Planted, output: Uint8Array): string[] {
  const text = latin1(output);
  return planted.markers.filter((marker) => text.includes(marker));
}

function* walk(dataset: DicomDataset): Generator<{ dataset: DicomDataset; tag: number }> {
  for (const element of dataset.elements.values()) {
    yield { dataset, tag: element.tag };
    for (const item of element.items ?? []) yield* walk(item);
  }
}

/** Planted values still present under their own tag, anywhere in the output. */
function plantedValuesLeft(planted: Planted, output: Uint8Array): string[] {
  const parsed = parseDicom(output);
  const left: string[] = [];
  for (const { dataset, tag } of walk(parsed.dataset)) {
    const values = planted.values.get(tag);
    if (!values) continue;
    const element = dataset.elements.get(tag)!;
    const bytes = dataset.bytes.subarray(element.valueOffset, element.valueOffset + element.length);
    for (const value of values) {
      const padded = value.length % 2 === 1 ? value.length + 1 : value.length;
      if (bytes.length === padded && latin1(bytes).startsWith(latin1(value))) {
        left.push(tag.toString(16).padStart(8, '0'));
      }
    }
  }
  return left;
}

function checkOutput(planted: Planted, output: Uint8Array): void {
  expect(survivors(planted, output)).toEqual([]);
  const text = latin1(output);
  for (const uid of planted.instanceUids) expect(text.includes(uid)).toBe(false);
  expect(plantedValuesLeft(planted, output)).toEqual([]);
  const parsed = parseDicom(output);
  const ds = parsed.dataset;
  expect(getText(ds, 0x00120062)).toBe('YES');
  expect(getText(ds, 0x00280303)).toBe('REMOVED');
  const codes = (ds.elements.get(0x00120064)?.items ?? []).map((item) => getText(item, 0x00080100));
  expect(codes).toEqual(['113100']);
  for (const { tag } of walk(ds)) {
    const group = tag >>> 16;
    expect(group % 2, `private ${tag.toString(16)}`).toBe(0);
    expect((group & 0xff00) === 0x6000 || (group & 0xff00) === 0x5000).toBe(false);
  }
  expect([...parsed.meta!.elements.keys()].map((tag) => tag.toString(16))).toEqual([
    '20000',
    '20001',
    '20002',
    '20003',
    '20010',
    '20012',
    '20013',
  ]);
  expect(getText(parsed.meta!, 0x00020003)).toBe(getText(ds, 0x00080018));
  expect(getText(ds, 0x00080018)).toMatch(/^2\.25\.\d+$/u);
  expect(latin1(output.subarray(0, 128))).toBe('\0'.repeat(128));
}

describe('leak test: Basic Profile', () => {
  const planted = plantedFile();

  it('plants a marker in every table attribute (sanity)', () => {
    expect(planted.markers.length).toBeGreaterThan(900);
    const input = latin1(planted.bytes);
    const missing = planted.markers.filter((marker) => !input.includes(marker));
    expect(missing).toEqual([]);
    expect(input.includes(planted.sopInstanceUid)).toBe(true);
  });

  it('leaves 0 markers and no original UID (explicit VR little endian, in memory)', async () => {
    const instance = await deidentifyInstance({ kind: 'bytes', bytes: planted.bytes }, policy);
    checkOutput(planted, await collectBytes(instance));
    // The report lists every change; before values exist only in the report.
    expect(instance.changes.length).toBeGreaterThan(1000);
  });

  it('leaves 0 markers when the source is a file (header read, pixel data streamed)', async () => {
    const file = path.join(work, 'planted.dcm');
    writeFileSync(file, planted.bytes);
    const instance = await deidentifyInstance({ kind: 'file', path: file }, policy);
    checkOutput(planted, await collectBytes(instance));
  });

  for (const [label, flag] of [
    ['implicit VR little endian', '+ti'],
    ['explicit VR big endian', '+tb'],
  ] as const) {
    it(`leaves 0 markers from ${label} (re-encoded by dcmconv)`, async (context) => {
      if (skipFor(missingCommands({ dcmconv: 'dcmtk' }))) return context.skip();
      const source = path.join(work, `planted-${flag}.src.dcm`);
      const converted = path.join(work, `planted-${flag}.dcm`);
      writeFileSync(source, planted.bytes);
      execFileSync('dcmconv', ['-q', '-ig', flag, source, converted], { stdio: 'pipe' });
      const instance = await deidentifyInstance({ kind: 'file', path: converted }, policy);
      const output = await collectBytes(instance);
      checkOutput(planted, output);
      // Pixel data survives the re-encoding (big endian OW is swapped back).
      const pixel = parseDicom(output).pixelData!;
      const expected = Uint8Array.from({ length: 128 }, (_, i) => (i * 7) & 0xff);
      expect([...output.subarray(pixel.valueOffset, pixel.valueOffset + 128)]).toEqual([
        ...expected,
      ]);
      expect(readFileSync(converted).length).toBeGreaterThan(0);
    });
  }

  it('keeps DICOM well-known values: SOP Class, image attributes, pixel data', async () => {
    const instance = await deidentifyInstance({ kind: 'bytes', bytes: planted.bytes }, policy);
    const output = parseDicom(await collectBytes(instance));
    expect(getText(output.dataset, 0x00080016)).toBe('1.2.840.10008.5.1.4.1.1.2');
    expect(getTexts(output.dataset, 0x00280004)).toEqual(['MONOCHROME2']);
    expect(output.pixelData?.length).toBe(128);
  });
});
