/**
 * Combined action codes of PS3.15 Table E.1-1 (X/Z, X/D, Z/D, X/Z/D, X/Z/U*) resolved by the
 * attribute's type in the instance's IOD, at the top level and inside sequence items, with the
 * conservative choice when the type is unknown; dciodvfy finds no new error in the output.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  attributeType,
  iodOf,
  isTypeOneSomewhere,
} from '../../../main/core/deid/attribute-types.ts';
import { iodCombinedTypes, typeOneInSomeIod } from '../../../main/core/deid/iod-types.generated.ts';
import type { AttributeChange, DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import { previewInstance } from '../../../main/core/deid/instance.ts';
import { profileEntry, profileTags, resolveBasic } from '../../../main/core/deid/profile.ts';
import { parseDicom, type DicomDataset } from '../../../main/core/dicom/parse.ts';
import { getText } from '../../../main/core/dicom/values.ts';
import type { OutputElement } from '../../../main/core/dicom/write.ts';
import { requirementsOf } from '../../../main/core/validate/iods.ts';
import { sopClassData } from '../../../main/core/validate/sop-classes.generated.ts';
import { makeCtFile } from '../../support/broken-files.ts';
import { missingDicomTools } from '../../support/make-media.ts';
import { missingCommands, skipFor } from '../../support/tools.ts';
import { image, part10, text } from './planted.ts';

const policy: DeidentifyPolicy = {
  kind: 'deidentify',
  profile: 'basic',
  options: [],
  key: new Uint8Array(32).fill(0x21),
};

const secondaryCapture = '1.2.840.10008.5.1.4.1.1.7';
const pet = '1.2.840.10008.5.1.4.1.1.128';
const privateClass = '1.2.826.0.1.3680043.10.999.77';
const referencedSeries = 0x00081115; // not in Table E.1-1: its items go through the profile
const derivationImage = 0x00089124;
const contentSequence = 0x0040a730;

function sequence(tag: number, ...items: OutputElement[][]): OutputElement {
  return { kind: 'sequence', tag, items: items.map((elements) => ({ elements })) };
}

function reference(uid: string): OutputElement[] {
  return [text(0x00081150, 'UI', secondaryCapture), text(0x00081155, 'UI', uid)];
}

/** An instance of `sopClassUid` with `extra` elements, de-identified under the Basic Profile. */
async function deidentify(
  sopClassUid: string,
  extra: OutputElement[],
): Promise<{ ds: DicomDataset; changes: readonly AttributeChange[] }> {
  const elements = image(2, 2, 1, extra).map((element) =>
    element.tag === 0x00080016 ? text(0x00080016, 'UI', sopClassUid) : element,
  );
  const preview = await previewInstance({ kind: 'bytes', bytes: part10(elements) }, policy);
  return { ds: parseDicom(preview.bytes).dataset, changes: preview.changes };
}

function item(ds: DicomDataset, tag: number, index = 0): DicomDataset {
  const items = ds.elements.get(tag)?.items;
  if (!items?.[index]) throw new Error(`no item ${index} in ${tag.toString(16)}`);
  return items[index];
}

function ruleOf(changes: readonly AttributeChange[], path: string): string | undefined {
  return changes.find((change) => change.path === path)?.rule;
}

describe('attribute types', () => {
  it('carry the IOD tables as they are (run scripts/gen-deid-profile.ts when this fails)', () => {
    const combined = profileTags().filter((tag) => profileEntry(tag)!.basic.includes('/'));
    const typeOne = new Set<number>();
    for (const line of sopClassData.split('\n')) {
      const [uid = '', , iod = ''] = line.split('|');
      expect(iodOf(uid)).toBe(iod);
      const requirements = requirementsOf(iod);
      for (const tag of requirements.type1) typeOne.add(tag);
      for (const tag of combined) {
        const live = requirements.type1.includes(tag)
          ? 1
          : requirements.type2.includes(tag)
            ? 2
            : undefined;
        const carried = iodCombinedTypes[iod]?.[tag.toString(16).padStart(8, '0')];
        expect(carried, `${iod} ${tag.toString(16)}`).toBe(live);
      }
    }
    expect([...typeOneInSomeIod].sort()).toEqual(combined.filter((tag) => typeOne.has(tag)).sort());
  });

  it('come from the IOD tables, the conditional modules and sequence items', () => {
    expect(attributeType('CT Image', undefined, 0x00080021)).toBe(3); // Series Date, General Series
    expect(attributeType('Positron Emission Tomography Image', undefined, 0x00080021)).toBe(1);
    expect(attributeType('CT Image', undefined, 0x00100020)).toBe(2); // Patient ID
    expect(attributeType('CT Image', undefined, 0x00180010)).toBe(2); // Contrast/Bolus Agent
    expect(attributeType('CT Image', undefined, 0x00080023)).toBe(2); // Content Date, 2C
    expect(attributeType('RT Plan', undefined, 0x300a0006)).toBe(2); // RT Plan Date
    expect(attributeType('RT Plan', undefined, 0x00080080)).toBeUndefined(); // not verified
    expect(attributeType(undefined, undefined, 0x00080080)).toBeUndefined();
    expect(attributeType('CT Image', referencedSeries, 0x00081140)).toBe(1);
    expect(attributeType('CT Image', derivationImage, 0x00082112)).toBe(2);
    expect(attributeType('CT Image', 0x00540016, 0x00081140)).toBeUndefined();
    expect(isTypeOneSomewhere(0x00181000)).toBe(true); // Enhanced General Equipment
    expect(isTypeOneSomewhere(0x00080021)).toBe(true); // PET Series
    expect(isTypeOneSomewhere(0x00080080)).toBe(false);
  });

  it('choose among each code by type: 1 -> D (U*), 2 -> Z, 3 -> X', () => {
    const by = (code: Parameters<typeof resolveBasic>[0], isSequence = false): string[] =>
      ([1, 2, 3, undefined] as const).map((type) =>
        resolveBasic(code, isSequence, true, { type, typeOneSomewhere: false }),
      );
    expect(by('X/Z')).toEqual(['Z', 'Z', 'X', 'Z']);
    expect(by('X/D')).toEqual(['D', 'D', 'X', 'Z']);
    expect(by('Z/D')).toEqual(['D', 'Z', 'Z', 'Z']);
    expect(by('X/Z/D')).toEqual(['D', 'Z', 'X', 'Z']);
    expect(by('X/Z/U*', true)).toEqual(['U*', 'Z', 'X', 'U*']);
    const somewhere = { type: undefined, typeOneSomewhere: true };
    expect(resolveBasic('X/D', false, true, somewhere)).toBe('D');
    expect(resolveBasic('Z/D', false, true, somewhere)).toBe('D');
    expect(resolveBasic('X/Z/D', false, true, somewhere)).toBe('D');
    expect(resolveBasic('X/Z', false, true, somewhere)).toBe('Z');
    const listed = { type: 3 as const, typeOneSomewhere: false, listsReferences: true };
    expect(resolveBasic('X/Z/U*', true, true, listed)).toBe('U*');
  });
});

describe('combined codes in instances', () => {
  it('X/Z: Acquisition Date removed (Type 3), emptied in PET (Type 2) and in an item', async () => {
    const extra = [
      text(0x00080022, 'DA', '20200101'),
      sequence(referencedSeries, [text(0x00080022, 'DA', '20200102')]),
    ];
    const sc = await deidentify(secondaryCapture, extra);
    expect(sc.ds.elements.has(0x00080022)).toBe(false);
    expect(ruleOf(sc.changes, '(0008,0022)')).toBe('X/Z -> X (Type 3)');
    expect(getText(item(sc.ds, referencedSeries), 0x00080022)).toBe('');
    const petOut = await deidentify(pet, extra);
    expect(getText(petOut.ds, 0x00080022)).toBe('');
  });

  it('X/D: Series Date removed (Type 3), dummy in PET (Type 1), unknown -> D or Z', async () => {
    const extra = [
      text(0x00080021, 'DA', '20200101'),
      sequence(referencedSeries, [
        text(0x00080021, 'DA', '20200102'),
        text(0x00080012, 'DA', '20200103'),
      ]),
    ];
    const sc = await deidentify(secondaryCapture, extra);
    expect(sc.ds.elements.has(0x00080021)).toBe(false);
    const petOut = await deidentify(pet, extra);
    expect(getText(petOut.ds, 0x00080021)).toBe('19000101');
    expect(ruleOf(petOut.changes, '(0008,0021)')).toBe('X/D -> D (Type 1)');
    // In an item Ferry has no table for: Series Date is Type 1 somewhere (PET Series) -> D;
    // Instance Creation Date is Type 1 nowhere -> Z.
    const inItem = item(sc.ds, referencedSeries);
    expect(getText(inItem, 0x00080021)).toBe('19000101');
    expect(getText(inItem, 0x00080012)).toBe('');
    const unknownClass = await deidentify(privateClass, extra);
    expect(getText(unknownClass.ds, 0x00080021)).toBe('19000101');
  });

  it('Z/D: Content Date emptied (2C), dummy where Type 1 somewhere and the type is unknown', async () => {
    const extra = [
      text(0x00080023, 'DA', '20200101'),
      sequence(referencedSeries, [text(0x00080023, 'DA', '20200102')]),
    ];
    const sc = await deidentify(secondaryCapture, extra);
    expect(getText(sc.ds, 0x00080023)).toBe('');
    expect(getText(sc.ds, 0x00100020)).toBe(''); // Patient ID, Type 2
    expect(getText(item(sc.ds, referencedSeries), 0x00080023)).toBe('19000101');
    const unknownClass = await deidentify(privateClass, extra);
    expect(getText(unknownClass.ds, 0x00080023)).toBe('19000101');
    expect(getText(unknownClass.ds, 0x00100020)).toBe(''); // Type 1 nowhere -> Z
  });

  it('X/Z/D: Institution Name and Code Sequence removed (Type 3), emptied when unknown', async () => {
    const extra = [
      text(0x00080080, 'LO', 'FERRY GENERAL'),
      sequence(0x00080082, [text(0x00080100, 'SH', 'X1'), text(0x00080104, 'LO', 'FERRY')]),
      text(0x00181000, 'LO', 'SN-42'),
      sequence(referencedSeries, [text(0x00081070, 'PN', 'OPERATOR^ONE')]),
    ];
    const sc = await deidentify(secondaryCapture, extra);
    expect(sc.ds.elements.has(0x00080080)).toBe(false);
    expect(sc.ds.elements.has(0x00080082)).toBe(false);
    expect(sc.ds.elements.has(0x00181000)).toBe(false);
    expect(getText(item(sc.ds, referencedSeries), 0x00081070)).toBe('');
    const unknownClass = await deidentify(privateClass, extra);
    expect(getText(unknownClass.ds, 0x00080080)).toBe('');
    expect(unknownClass.ds.elements.get(0x00080082)?.items).toEqual([]);
    expect(getText(unknownClass.ds, 0x00181000)).toBe('ANONYMIZED'); // Type 1 somewhere
  });

  it('X/Z/U*: references removed (Type 3), kept with new UIDs where Type 1, emptied where 2', async () => {
    const extra = [
      sequence(0x00081140, reference('1.2.826.0.1.3680043.10.999.50')),
      sequence(referencedSeries, [
        text(0x0020000e, 'UI', '1.2.826.0.1.3680043.10.999.3'),
        sequence(0x00081140, reference('1.2.826.0.1.3680043.10.999.51')),
      ]),
      sequence(derivationImage, [sequence(0x00082112, reference('1.2.826.0.1.3680043.10.999.52'))]),
      sequence(contentSequence, [sequence(0x00081140, reference('1.2.826.0.1.3680043.10.999.53'))]),
    ];
    // Without a Common Instance Reference: by type.
    const noList = extra.filter((element) => element.tag !== referencedSeries);
    const sc = await deidentify(secondaryCapture, noList);
    expect(sc.ds.elements.has(0x00081140)).toBe(false);
    expect(item(sc.ds, derivationImage).elements.get(0x00082112)?.items).toEqual([]);
    // Content Sequence is X in the table itself; the same item under an unlisted sequence
    // (type unknown) keeps its references with new UIDs.
    const unknownItem = await deidentify(secondaryCapture, [
      sequence(0x00540016, [sequence(0x00081140, reference('1.2.826.0.1.3680043.10.999.54'))]),
    ]);
    const kept = item(item(unknownItem.ds, 0x00540016), 0x00081140);
    expect(getText(kept, 0x00081155)).toMatch(/^2\.25\.\d+$/u);
    // In a presentation state's Referenced Series Sequence the references are Type 1; and an
    // instance that lists its references keeps every X/Z/U* sequence (U*).
    const listed = await deidentify(secondaryCapture, extra);
    const inSeries = item(item(listed.ds, referencedSeries), 0x00081140);
    expect(getText(inSeries, 0x00081155)).toMatch(/^2\.25\.\d+$/u);
    expect(getText(item(listed.ds, 0x00081140), 0x00081155)).toMatch(/^2\.25\.\d+$/u);
    const source = item(item(listed.ds, derivationImage), 0x00082112);
    expect(getText(source, 0x00081155)).toMatch(/^2\.25\.\d+$/u);
  });
});

describe('combined codes: validity', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'ferry-combined-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  function errorsOf(file: string): Set<string> {
    const result = spawnSync('dciodvfy', ['-new', file], { encoding: 'utf8' });
    return new Set(
      `${result.stdout}\n${result.stderr}`
        .split('\n')
        .filter((line) => line.startsWith('Error'))
        .map((line) => line.replace(/<[^<>]*>\s*$/u, '<>').trim()),
    );
  }

  it('a CT carrying every common combined-code attribute: no new dciodvfy error', async (context) => {
    if (skipFor(missingCommands({ dciodvfy: 'dicom3tools' }) ?? missingDicomTools(['dcmodify'])))
      return context.skip();
    const input = await makeCtFile(path.join(work, 'media'), 11);
    const ref = (sequenceTag: string, uid: string): string[] => [
      '-i',
      `(${sequenceTag})[0].(0008,1150)=1.2.840.10008.5.1.4.1.1.2`,
      '-i',
      `(${sequenceTag})[0].(0008,1155)=${uid}`,
    ];
    const modified = spawnSync(
      'dcmodify',
      [
        '-nb',
        ...['(0008,0012)=20200101', '(0008,0013)=101010', '(0008,0021)=20200101'],
        ...['(0008,0031)=101010', '(0008,0022)=20200101', '(0008,0032)=101010'],
        ...['(0008,002A)=20200101101010', '(0008,0023)=20200101', '(0008,0033)=101010'],
        ...['(0008,0080)=FERRY GENERAL', '(0008,1010)=STATION 7', '(0008,1070)=OPERATOR^ONE'],
        ...['(0018,1000)=SN-42', '(0018,1030)=HEAD ROUTINE', '(0018,0010)=IODINE'],
        ...['(0008,0082)[0].(0008,0100)=X1', '(0008,0082)[0].(0008,0102)=99FERRY'],
        '(0008,0082)[0].(0008,0104)=FERRY GENERAL',
      ]
        .flatMap((assignment) => (assignment.startsWith('-') ? [assignment] : ['-i', assignment]))
        .concat(ref('0008,1140', '1.2.826.0.1.3680043.10.999.60'))
        .concat(ref('0008,2112', '1.2.826.0.1.3680043.10.999.61'))
        .concat(ref('0008,1110', '1.2.826.0.1.3680043.10.999.62'))
        .concat(ref('0008,1111', '1.2.826.0.1.3680043.10.999.63'))
        .concat([input]),
      { encoding: 'utf8' },
    );
    expect(modified.status, modified.stderr).toBe(0);
    const preview = await previewInstance(
      { kind: 'bytes', bytes: new Uint8Array(readFileSync(input)) },
      policy,
    );
    const output = path.join(work, 'out.dcm');
    writeFileSync(output, preview.bytes);
    const ds = parseDicom(preview.bytes).dataset;
    // CT Image IOD: Type 3 removed, Type 2 (and 2C) emptied.
    for (const tag of [0x00080012, 0x00080021, 0x00080022, 0x0008002a, 0x00080080, 0x00081010]) {
      expect(ds.elements.has(tag), tag.toString(16)).toBe(false);
    }
    for (const tag of [0x00081070, 0x00181000, 0x00181030, 0x00081140, 0x00082112, 0x00081110]) {
      expect(ds.elements.has(tag), tag.toString(16)).toBe(false);
    }
    expect(getText(ds, 0x00080023)).toBe('');
    expect(getText(ds, 0x00180010)).toBe('');
    const before = errorsOf(input);
    const added = [...errorsOf(output)].filter((line) => !before.has(line));
    expect(added).toEqual([]);
  }, 60_000);
});
