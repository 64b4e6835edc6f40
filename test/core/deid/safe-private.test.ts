/**
 * Retain Safe Private (PS3.15 E.3.10): the list checked against Table E.3.10-1, matching by
 * Private Creator and element byte (not by absolute tag), and only numeric or code values kept.
 */
import { describe, expect, it } from 'vitest';

import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import {
  isSafePrivate,
  safePrivateAttributes,
  tableE3101,
} from '../../../main/core/deid/safe-private.ts';
import { parseDicom, type DicomDataset } from '../../../main/core/dicom/parse.ts';
import { getText } from '../../../main/core/dicom/values.ts';
import type { OutputElement } from '../../../main/core/dicom/write.ts';
import { image, part10, text } from './planted.ts';

const policy = (retain: boolean): DeidentifyPolicy => ({
  kind: 'deidentify',
  profile: 'basic',
  options: retain ? ['retain-safe-private'] : [],
  key: new Uint8Array(32).fill(0x31),
});

async function run(extra: OutputElement[], retain = true): Promise<DicomDataset> {
  const preview = await previewInstance(
    { kind: 'bytes', bytes: part10(image(2, 2, 1, extra)) },
    policy(retain),
  );
  return parseDicom(preview.bytes).dataset;
}

const binary = (tag: number, vr: string, bytes: number[]): OutputElement => ({
  kind: 'value',
  tag,
  vr,
  value: Uint8Array.from(bytes),
});

describe('safe private list', () => {
  it('holds Table E.3.10-1 and keeps only its numeric and code rows', () => {
    expect(tableE3101.length).toBe(130);
    // The rows Ferry kept before the check are all in the table.
    for (const [creator, tag] of [
      ['SIEMENS MR HEADER', '0019,xx0C'],
      ['SIEMENS MR HEADER', '0019,xx0D'],
      ['SIEMENS MR HEADER', '0019,xx0E'],
      ['SIEMENS MR HEADER', '0019,xx27'],
      ['GEMS_PARM_01', '0043,xx39'],
      ['Philips PET Private Group', '7053,xx00'],
      ['Philips PET Private Group', '7053,xx09'],
    ] as const) {
      expect(tableE3101.some((row) => row[0] === tag && row[1] === creator)).toBe(true);
    }
    const vrs = new Set(safePrivateAttributes.map((entry) => entry.vr));
    expect([...vrs].sort()).toEqual(['CS', 'DS', 'FD', 'FL', 'IS', 'SL', 'SS', 'UL', 'US']);
    expect(isSafePrivate('GEMS_ACQU_01', 0x0019, 0x23)).toBe(true); // DS table speed
    expect(isSafePrivate('GEMS_ACQU_01', 0x0019, 0x9e)).toBe(false); // LO pulse sequence name
    expect(isSafePrivate('NQHeader', 0x0099, 0x02)).toBe(false); // UI: an original UID
    expect(isSafePrivate('HOLOGIC, Inc.', 0x7e01, 0x12)).toBe(false); // OB codec content
    expect(isSafePrivate('SIEMENS Ultrasound SC2000', 0x0149, 0x02)).toBe(false); // time stamps
    expect(isSafePrivate('Philips MR Imaging DD 001', 0x2005, 0x0e)).toBe(true); // scale slope
  });

  it('matches by Private Creator and element byte, in any block', async () => {
    const ds = await run([
      text(0x00190010, 'LO', 'GEMS_ACQU_01'),
      text(0x00190011, 'LO', 'SIEMENS MR HEADER'),
      // Block 10 is GE's: (0019,100C) is not GE's B value; (0019,1023) is GE's table speed.
      text(0x0019100c, 'IS', '1000'),
      text(0x00191023, 'DS', '39.375'),
      // Block 11 is Siemens': (0019,110C) is the B value; (0019,1123) is nothing safe.
      text(0x0019110c, 'IS', '800'),
      text(0x00191123, 'DS', '12.5'),
    ]);
    expect(ds.elements.has(0x0019100c)).toBe(false);
    expect(getText(ds, 0x00191023)).toBe('39.375');
    expect(getText(ds, 0x0019110c)).toBe('800');
    expect(ds.elements.has(0x00191123)).toBe(false);
    expect(getText(ds, 0x00190010)).toBe('GEMS_ACQU_01');
    expect(getText(ds, 0x00190011)).toBe('SIEMENS MR HEADER');
  });

  it('keeps binary numbers whole, refuses text in a number and a wrong VR', async () => {
    const ds = await run([
      text(0x00190010, 'LO', 'SIEMENS MR HEADER'),
      text(0x0019100c, 'IS', 'DOE JANE'),
      binary(0x0019100e, 'FD', [...new Array(24).keys()]),
      text(0x0019100d, 'LO', 'DIRECTIONAL'),
      text(0x70530010, 'LO', 'Philips PET Private Group'),
      text(0x70531000, 'DS', '0.000551'),
      binary(0x00450010, 'LO', [...Buffer.from('GEMS_HELIOS_01')]),
      binary(0x00451001, 'SS', [1, 0]),
      binary(0x00451002, 'FL', [0, 0, 0x80, 0x3f, 0, 0]),
    ]);
    expect(ds.elements.has(0x0019100c)).toBe(false);
    expect(ds.elements.get(0x0019100e)?.length).toBe(24);
    expect(ds.elements.has(0x0019100d)).toBe(false); // LO where the table says CS
    expect(getText(ds, 0x70531000)).toBe('0.000551');
    expect(ds.elements.get(0x00451001)?.length).toBe(2);
    expect(ds.elements.has(0x00451002)).toBe(false); // 6 bytes: not whole FL values
  });

  it('removes every private attribute without the option', async () => {
    const ds = await run(
      [text(0x00190010, 'LO', 'SIEMENS MR HEADER'), text(0x0019100c, 'IS', '1000')],
      false,
    );
    expect([...ds.elements.keys()].some((tag) => (tag >>> 16) % 2 === 1)).toBe(false);
  });
});
