/**
 * The options of PS3.15 E.3, the resolution of combined action codes, the recorded method,
 * pseudonym and reconcile policies, burned-in flags and masking.
 */
import { describe, expect, it } from 'vitest';

import { parseDicom, type DicomDataset } from '../../../main/core/dicom/parse.ts';
import { getText } from '../../../main/core/dicom/values.ts';
import type { DeidentifyPolicy, IdentityPolicy } from '../../../main/core/deid/engine.ts';
import { DeidError } from '../../../main/core/deid/engine.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import { resolveBasic, type DeidOption } from '../../../main/core/deid/profile.ts';
import { shiftDa, shiftDt } from '../../../main/core/deid/dates.ts';
import { TextCleaner } from '../../../main/core/deid/text.ts';
import { encodeDataset } from '../../../main/core/dicom/write.ts';
import { image, part10, text } from './planted.ts';

const key = new Uint8Array(32).fill(9);

function policy(options: DeidOption[], extra: Partial<DeidentifyPolicy> = {}): DeidentifyPolicy {
  return { kind: 'deidentify', profile: 'basic', options, key, ...extra };
}

async function run(
  bytes: Uint8Array,
  identity: IdentityPolicy,
  masks?: { x: number; y: number; width: number; height: number }[],
): Promise<{ ds: DicomDataset; bytes: Uint8Array }> {
  const preview = await previewInstance({ kind: 'bytes', bytes }, identity, masks ? { masks } : {});
  return { ds: parseDicom(preview.bytes).dataset, bytes: preview.bytes };
}

const dated = (studyDate: string, patientId = 'ID123456'): Uint8Array =>
  part10(
    image(2, 2, 1, [
      text(0x00080020, 'DA', studyDate),
      text(0x00080030, 'TM', '101530'),
      text(0x0008002a, 'DT', `${studyDate}101530.5`),
      text(0x00081030, 'LO', 'CT HEAD for DOE JANE 20240101 ID123456'),
      text(0x00081090, 'LO', 'SCANNER 9000'),
      text(0x00181000, 'LO', 'SN-42'),
      text(0x00080080, 'LO', 'FERRY GENERAL'),
      text(0x00101010, 'AS', '042Y'),
      text(0x00100040, 'CS', 'F'),
    ]).map((element) => (element.tag === 0x00100020 ? text(0x00100020, 'LO', patientId) : element)),
  );

describe('combined action codes', () => {
  it('choose by type, or the valid-whatever-the-type action when the type is unknown', () => {
    const unknown = { type: undefined, typeOneSomewhere: false };
    expect(resolveBasic('X/Z', false, true, unknown)).toBe('Z');
    expect(resolveBasic('X/D', false, true, { type: 1, typeOneSomewhere: false })).toBe('D');
    expect(resolveBasic('X/D', true, true, { type: 3, typeOneSomewhere: false })).toBe('X');
    expect(resolveBasic('Z/D', false, false, { type: 1, typeOneSomewhere: false })).toBe('Z');
    expect(resolveBasic('X/Z/D', false, true, { type: undefined, typeOneSomewhere: true })).toBe(
      'D',
    );
    expect(resolveBasic('X/Z/D', true, true, unknown)).toBe('Z');
    expect(resolveBasic('X/Z/U*', true, true, unknown)).toBe('U*');
  });
});

describe('options', () => {
  it('basic: dates removed or dummy, Longitudinal Temporal Information REMOVED', async () => {
    const { ds } = await run(dated('20200315'), policy([]));
    expect(getText(ds, 0x00080020)).toBe('');
    expect(getText(ds, 0x0008002a)).toBeUndefined(); // X/Z/D, Type 3 in the SC Image IOD
    expect(getText(ds, 0x00280303)).toBe('REMOVED');
    expect(getText(ds, 0x00081030)).toBeUndefined();
    expect(getText(ds, 0x00101010)).toBeUndefined();
  });

  it('retain-full-dates keeps dates; retain-modified-dates shifts them, one offset per patient', async () => {
    const full = (await run(dated('20200315'), policy(['retain-full-dates']))).ds;
    expect(getText(full, 0x00080020)).toBe('20200315');
    expect(getText(full, 0x00280303)).toBe('UNMODIFIED');
    const a = (await run(dated('20200315'), policy(['retain-modified-dates']))).ds;
    const b = (await run(dated('20210315'), policy(['retain-modified-dates']))).ds;
    const other = (await run(dated('20200315', 'OTHER999'), policy(['retain-modified-dates']))).ds;
    expect(getText(a, 0x00280303)).toBe('MODIFIED');
    const day = (text: string | undefined): number =>
      Date.UTC(
        Number(text!.slice(0, 4)),
        Number(text!.slice(4, 6)) - 1,
        Number(text!.slice(6, 8)),
      ) / 86_400_000;
    const shiftA = day(getText(a, 0x00080020)) - day('20200315');
    expect(shiftA).toBeLessThan(0);
    expect(day(getText(b, 0x00080020)) - day(getText(a, 0x00080020))).toBe(365);
    expect(getText(a, 0x0008002a)?.slice(8)).toBe('101530.5');
    expect(getText(a, 0x00080030)).toBe('101530');
    expect(day(getText(other, 0x00080020)) - day('20200315')).not.toBe(shiftA);
    await expect(policyCheck(['retain-full-dates', 'retain-modified-dates'])).rejects.toThrow(
      DeidError,
    );
  });

  it('retain-uids, device, institution, patient characteristics', async () => {
    const { ds } = await run(
      dated('20200315'),
      policy([
        'retain-uids',
        'retain-device-identity',
        'retain-institution-identity',
        'retain-patient-characteristics',
      ]),
    );
    expect(getText(ds, 0x00080018)).toBe('1.2.826.0.1.3680043.10.999.1');
    expect(getText(ds, 0x00181000)).toBe('SN-42');
    expect(getText(ds, 0x00080080)).toBe('FERRY GENERAL');
    expect(getText(ds, 0x00101010)).toBe('042Y');
    expect(getText(ds, 0x00100040)).toBe('F');
    const codes = (ds.elements.get(0x00120064)?.items ?? []).map((item) =>
      getText(item, 0x00080100),
    );
    expect(codes).toEqual(['113100', '113110', '113109', '113112', '113108']);
  });

  it('clean-descriptors keeps the description without the identifying parts', async () => {
    const { ds } = await run(dated('20200315'), policy(['clean-descriptors']));
    const cleaned = getText(ds, 0x00081030) ?? '';
    expect(cleaned.startsWith('CT HEAD for')).toBe(true);
    for (const leaked of ['DOE', 'JANE', '20240101', 'ID123456'])
      expect(cleaned).not.toContain(leaked);
  });

  it('retain-safe-private keeps only the safe list, with its creator', async () => {
    const bytes = part10(
      image(2, 2, 1, [
        text(0x00190010, 'LO', 'SIEMENS MR HEADER'),
        text(0x0019100c, 'IS', '1000'),
        text(0x00191008, 'CS', 'IMAGE NUM 4'),
        text(0x00290010, 'LO', 'SIEMENS CSA HEADER'),
        text(0x00291010, 'LO', 'DOE^JANE'),
      ]),
    );
    const kept = (await run(bytes, policy(['retain-safe-private']))).ds;
    expect(getText(kept, 0x00190010)).toBe('SIEMENS MR HEADER');
    expect(getText(kept, 0x0019100c)).toBe('1000');
    expect(kept.elements.has(0x00191008)).toBe(false);
    expect(kept.elements.has(0x00290010)).toBe(false);
    expect(kept.elements.has(0x00291010)).toBe(false);
    const basic = (await run(bytes, policy([]))).ds;
    expect([...basic.elements.keys()].some((tag) => (tag >>> 16) % 2 === 1)).toBe(false);
  });

  it('clean-graphics keeps overlays and flags them', async () => {
    const bytes = part10(
      image(2, 2, 1, [
        { kind: 'value', tag: 0x60000010, vr: 'US', value: Uint8Array.of(2, 0) },
        { kind: 'value', tag: 0x60003000, vr: 'OW', value: new Uint8Array(2) },
      ]),
    );
    const preview = await previewInstance({ kind: 'bytes', bytes }, policy(['clean-graphics']));
    expect(parseDicom(preview.bytes).dataset.elements.has(0x60003000)).toBe(true);
    expect(preview.burnedIn.map((flag) => flag.reason)).toContain('overlay-kept');
  });
});

async function policyCheck(options: DeidOption[]): Promise<void> {
  await previewInstance({ kind: 'bytes', bytes: part10(image(2, 2)) }, policy(options));
}

describe('identity policies', () => {
  it('pseudonym: the portal subject replaces name and ID', async () => {
    const { ds } = await run(
      dated('20200315'),
      policy([], { pseudonym: { patientId: 'SUBJ-0042' } }),
    );
    expect(getText(ds, 0x00100010)).toBe('SUBJ-0042');
    expect(getText(ds, 0x00100020)).toBe('SUBJ-0042');
    expect(getText(ds, 0x00120062)).toBe('YES');
  });

  it('reconcile: hospital MRN in Patient ID, outside ID in Other Patient IDs Sequence', async () => {
    const { ds } = await run(dated('20200315'), {
      kind: 'reconcile',
      patientId: 'MRN777',
      issuerOfPatientId: 'HOSPITAL',
    });
    expect(getText(ds, 0x00100020)).toBe('MRN777');
    expect(getText(ds, 0x00100021)).toBe('HOSPITAL');
    expect(getText(ds, 0x00100010)).toBe('DOE^JANE');
    const other = ds.elements.get(0x00101002)?.items?.[0];
    expect(other && getText(other, 0x00100020)).toBe('ID123456');
    expect(getText(ds, 0x00080018)).toBe('1.2.826.0.1.3680043.10.999.1');
    expect(ds.elements.has(0x00120062)).toBe(false);
  });

  it('refuses a DICOMDIR', async () => {
    const bytes = part10([
      text(0x00080016, 'UI', '1.2.840.10008.1.3.10'),
      text(0x00080018, 'UI', '1.2.3'),
      { kind: 'sequence', tag: 0x00041220, items: [] },
    ]);
    await expect(previewInstance({ kind: 'bytes', bytes }, policy([]))).rejects.toMatchObject({
      code: 'dicomdir',
    });
  });
});

describe('pixels', () => {
  it('masks a rectangle in every frame, records it, leaves the rest', async () => {
    const bytes = part10(image(8, 10, 2));
    const { ds, bytes: out } = await run(bytes, policy(['clean-pixel-data']), [
      { x: 2, y: 1, width: 3, height: 2 },
    ]);
    const parsed = parseDicom(out);
    const pixel = parsed.pixelData!;
    const view = new DataView(out.buffer, out.byteOffset + pixel.valueOffset, pixel.length);
    for (let frame = 0; frame < 2; frame++) {
      for (let row = 0; row < 8; row++) {
        for (let column = 0; column < 10; column++) {
          const index = frame * 80 + row * 10 + column;
          const inside = row >= 1 && row < 3 && column >= 2 && column < 5;
          const expected = inside ? 0 : 0x4000 | ((index + 1) & 0x0fff);
          expect(view.getUint16(index * 2, true)).toBe(expected);
        }
      }
    }
    expect(getText(ds, 0x00280301)).toBe('NO');
    const codes = (ds.elements.get(0x00120064)?.items ?? []).map((item) =>
      getText(item, 0x00080100),
    );
    expect(codes).toEqual(['113100', '113101']);
  });

  it('refuses to mask compressed pixel data, and rectangles outside the image', async () => {
    const elements = image(2, 2).filter((element) => element.tag !== 0x7fe00010);
    // An encapsulated Pixel Data element by hand: empty offset table, one fragment.
    const pixel = Uint8Array.from([
      0xe0, 0x7f, 0x10, 0x00, 0x4f, 0x42, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0,
      0, 0, 0, 0xfe, 0xff, 0x00, 0xe0, 4, 0, 0, 0, 1, 2, 3, 4, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0,
    ]);
    const header = encodeDataset({ elements });
    const dataset = new Uint8Array(header.length + pixel.length);
    dataset.set(header);
    dataset.set(pixel, header.length);
    const jpeg = part10(elements, '1.2.840.10008.1.2.4.50', dataset);
    await expect(
      previewInstance({ kind: 'bytes', bytes: jpeg }, policy([]), {
        masks: [{ x: 0, y: 0, width: 1, height: 1 }],
      }),
    ).rejects.toMatchObject({ code: 'mask-compressed' });
    await expect(
      previewInstance({ kind: 'bytes', bytes: part10(image(4, 4)) }, policy([]), {
        masks: [{ x: 3, y: 0, width: 2, height: 1 }],
      }),
    ).rejects.toMatchObject({ code: 'mask-outside' });
  });

  it('flags ultrasound, burned-in annotation, derived images and documents', async () => {
    const flags = async (
      extra: ReturnType<typeof text>[],
      sopClass?: string,
    ): Promise<string[]> => {
      const elements = image(2, 2, 1, extra)
        .map((element) => (element.tag === 0x00080060 ? text(0x00080060, 'CS', 'CT') : element))
        .map((element) =>
          element.tag === 0x00080016
            ? text(0x00080016, 'UI', sopClass ?? '1.2.840.10008.5.1.4.1.1.2')
            : element,
        );
      const preview = await previewInstance({ kind: 'bytes', bytes: part10(elements) }, policy([]));
      return preview.burnedIn.map((flag) => flag.reason);
    };
    expect(await flags([])).toEqual([]);
    expect(await flags([text(0x00280301, 'CS', 'YES')])).toEqual(['burned-in-annotation']);
    expect(await flags([text(0x00080008, 'CS', 'DERIVED\\SECONDARY')])).toEqual(['derived-image']);
    expect(await flags([], '1.2.840.10008.5.1.4.1.1.6.1')).toEqual(['ultrasound']);
    expect(await flags([], '1.2.840.10008.5.1.4.1.1.104.1')).toEqual(['encapsulated-document']);
  });
});

describe('dates and cleaning', () => {
  it('shifts DA and DT values across month and year ends', () => {
    expect(shiftDa('20200301', -1)).toBe('20200229');
    expect(shiftDa('2020.03.01', -1)).toBe('20200229');
    expect(shiftDa('notadate', -1)).toBeUndefined();
    expect(shiftDt('20210101120000.5+0100', -1)).toBe('20201231120000.5+0100');
    expect(shiftDt('202101', -1)).toBe('202012');
  });

  it('cleans names (whole words), IDs, dates and e-mail addresses from free text', () => {
    const cleaner = new TextCleaner(['DOE^JANE', 'MRN0001']);
    expect(cleaner.clean('Jane Doe seen 03/04/2021, MRN0001, mail jd@example.org, JANET ok')).toBe(
      '*** *** seen ***, ***, mail ***, JANET ok',
    );
  });
});
