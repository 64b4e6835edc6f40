/**
 * The data dictionary is indexed on first use and each line parsed when first looked up
 * (dictionary.ts): every attribute of the generated table must come back as the table says,
 * repeating groups must match their ranges, and a tag the table lacks must find nothing.
 */
import { describe, expect, it } from 'vitest';

import { attributeName, lookupAttribute, vrOf } from '../../../main/core/dicom/dictionary.ts';
import { dictionaryData } from '../../../main/core/dicom/dictionary.generated.ts';

const lines = dictionaryData.split('\n').map((line) => line.split('|'));

describe('data dictionary lookup', () => {
  it('finds every exact attribute of the table with its VR, keyword, VM and retirement', () => {
    const exact = lines.filter((fields) => fields[5] === '');
    expect(exact.length).toBeGreaterThan(4800);
    for (const [tagHex = '', vr, keyword, vm, retired] of exact) {
      expect(lookupAttribute(Number.parseInt(tagHex, 16))).toEqual({
        tag: Number.parseInt(tagHex, 16),
        vr,
        keyword,
        vm,
        retired: retired === 'R',
      });
    }
  });

  it('matches repeating groups by their ranges, odd groups only where the table says so', () => {
    expect(lookupAttribute(0x60003000)?.keyword).toBe('OverlayData');
    expect(lookupAttribute(0x60fe3000)?.keyword).toBe('OverlayData');
    expect(lookupAttribute(0x60013000)).toBeUndefined(); // odd: a private group
    expect(lookupAttribute(0x7fe20011)?.keyword).toBe('VariableNextDataGroup'); // retired 7Fxx
    expect(lookupAttribute(0x50100010)?.keyword).toBe('NumberOfPoints');
    expect(vrOf(0x60220010)).toBe('US'); // Overlay Rows of the 12th overlay
    const ranged = lines.filter((fields) => (fields[5] ?? '') !== '');
    expect(ranged.length).toBeGreaterThan(50);
    for (const [tagHex = '', vr, keyword] of ranged) {
      expect(lookupAttribute(Number.parseInt(tagHex, 16))).toMatchObject({ vr, keyword });
    }
  });

  it('finds nothing for tags the table lacks, before, between and after its lines', () => {
    for (const tag of [0x00000005, 0x00100011, 0x00190010, 0x7fe00003, 0xfffffffe]) {
      expect(lookupAttribute(tag)).toBeUndefined();
    }
    expect(attributeName(0x00190010)).toBe('Private attribute');
    expect(attributeName(0x00100011)).toBe('Unknown attribute');
    expect(attributeName(0x00100030)).toBe('Patient Birth Date');
    // Looked up twice: the parsed line is kept and is the same.
    expect(lookupAttribute(0x00100010)).toBe(lookupAttribute(0x00100010));
  });
});
