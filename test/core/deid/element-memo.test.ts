/**
 * The element memo (element-memo.ts) reuses what the profile did to an attribute for the next
 * instance holding the same bytes. Proof that it changes nothing: every instance de-identified
 * with a warm memo (a key object used before, in any order, under several option sets) gives
 * exactly the bytes and the change list of the same instance de-identified with a cold one (a
 * new key object with the same bytes: same UIDs, nothing remembered), including instances whose
 * repeated attributes differ in one byte from the instance before.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { afterEach, describe, expect, it, vi } from 'vitest';

import { parseDicom } from '../../../main/core/dicom/parse.ts';
import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { MemoContext } from '../../../main/core/deid/element-memo.ts';
import {
  collectBytes,
  deidentifyInstance,
  type DeidentifiedInstance,
} from '../../../main/core/deid/instance.ts';
import type { DeidOption } from '../../../main/core/deid/profile.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { plantedFile } from './planted.ts';

const sources = [
  'CT_small.dcm',
  'MR_small.dcm',
  'MR_small_bigendian.dcm',
  'MR_small_implicit.dcm',
  'rtplan.dcm',
  'rtstruct.dcm',
  'test-SR.dcm',
  'reportsi.dcm',
  'rtdose.dcm',
  'JPEG-lossy.dcm',
  'SC_rgb_jpeg_dcmtk.dcm',
  'JPEG2000.dcm',
  'waveform_ecg.dcm',
];

const optionSets: DeidOption[][] = [
  [],
  ['retain-device-identity', 'retain-institution-identity'],
  ['retain-modified-dates', 'retain-patient-characteristics'],
  ['clean-descriptors', 'clean-structured-content'],
  ['retain-safe-private', 'retain-uids'],
];

/** A copy of `bytes` with the value of `tag` (top level) changed in its last byte. */
function withChangedValue(bytes: Uint8Array, tag: number): Uint8Array {
  const copy = bytes.slice();
  const element = parseDicom(copy).dataset.elements.get(tag);
  if (!element || element.length === 0) throw new Error(`no ${tag.toString(16)} to change`);
  const last = element.valueOffset + element.length - 1;
  // A digit stays a digit (UIDs, numbers), a letter a letter: the value stays valid.
  const byte = copy[last]!;
  copy[last] = byte >= 0x30 && byte <= 0x38 ? byte + 1 : byte === 0x39 ? 0x30 : byte ^ 0x01;
  return copy;
}

async function outputOf(instance: DeidentifiedInstance): Promise<{
  bytes: Uint8Array;
  changes: unknown;
}> {
  return { bytes: await collectBytes(instance), changes: instance.changes };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('element memo: reused results are the results', () => {
  it('gives the bytes and changes of a cold run, for every file, option set and order', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const dir = pydicomTestFiles();
    const find = vi.spyOn(MemoContext.prototype, 'find');
    const keyBytes = new Uint8Array(32).fill(0x3c);
    const warmKey = new Uint8Array(keyBytes);
    const planted = plantedFile().bytes;
    const files: { name: string; bytes: Uint8Array }[] = [
      ...sources.map((name) => ({
        name,
        bytes: new Uint8Array(readFileSync(path.join(dir, name))),
      })),
      { name: 'planted', bytes: planted },
      // The same instance again, then with one repeated attribute changed by one byte: the
      // memo holds the first value and must not give it for the second.
      { name: 'planted again', bytes: planted },
      { name: 'planted, Study Instance UID changed', bytes: withChangedValue(planted, 0x0020000d) },
      {
        name: 'CT_small, Pixel Spacing changed',
        bytes: withChangedValue(readFileSync(path.join(dir, 'CT_small.dcm')), 0x00280030),
      },
      {
        name: 'CT_small, Institution Name changed',
        bytes: withChangedValue(readFileSync(path.join(dir, 'CT_small.dcm')), 0x00080080),
      },
      {
        name: 'CT_small, Patient ID changed',
        bytes: withChangedValue(readFileSync(path.join(dir, 'CT_small.dcm')), 0x00100020),
      },
    ];
    // Twice over, so that the second pass meets every file with the memo full of its values.
    for (const pass of [1, 2]) {
      for (const options of optionSets) {
        for (const file of files) {
          const warm: DeidentifyPolicy = {
            kind: 'deidentify',
            profile: 'basic',
            options,
            key: warmKey,
          };
          const cold: DeidentifyPolicy = { ...warm, key: new Uint8Array(keyBytes) };
          const label = `${file.name}, ${options.join('+') || 'basic'}, pass ${pass}`;
          const warmOut = await outputOf(
            await deidentifyInstance({ kind: 'bytes', bytes: file.bytes }, warm),
          );
          const coldOut = await outputOf(
            await deidentifyInstance({ kind: 'bytes', bytes: file.bytes }, cold),
          );
          expect(warmOut.changes, label).toEqual(coldOut.changes);
          expect(Buffer.compare(warmOut.bytes, coldOut.bytes), label).toBe(0);
        }
      }
    }
    // The memo was used: half the lookups are the cold runs' (all misses); of the warm runs',
    // the repeated files' attributes were found.
    const hits = find.mock.results.filter((result) => result.value !== undefined).length;
    expect(hits).toBeGreaterThan(find.mock.results.length / 5);
  });

  it('reuses nothing across keys: another key gives other UIDs from the first instance on', async () => {
    const planted = plantedFile().bytes;
    const policy = (fill: number): DeidentifyPolicy => ({
      kind: 'deidentify',
      profile: 'basic',
      options: [],
      key: new Uint8Array(32).fill(fill),
    });
    const first = parseDicom(
      await collectBytes(await deidentifyInstance({ kind: 'bytes', bytes: planted }, policy(1))),
    );
    const second = parseDicom(
      await collectBytes(await deidentifyInstance({ kind: 'bytes', bytes: planted }, policy(2))),
    );
    const uid = (parsed: typeof first, tag: number): string => {
      const element = parsed.dataset.elements.get(tag)!;
      return Buffer.from(
        parsed.dataset.bytes.subarray(element.valueOffset, element.valueOffset + element.length),
      ).toString('latin1');
    };
    for (const tag of [0x00080018, 0x0020000d, 0x0020000e]) {
      expect(uid(first, tag)).not.toBe(uid(second, tag));
    }
  });
});
