/**
 * The header memo (header-memo.ts) reuses the findings of the last header checked in full for a
 * header that differs only in values no rule reads beyond their own checks. It must only save
 * work: every instance gets the findings it gets when checked alone, from the whole dataset, in
 * a fresh run. Series are made from pydicom's real files (explicit and implicit VR, big endian,
 * a sequence) by rewriting values as a series does (UIDs, instance numbers and positions of
 * other lengths), then faults in those values and in the values the rules read, and checked the
 * way the scan hands them over: a header-only parse in one reused buffer, the whole dataset
 * parsed only on request.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { Tag, TransferSyntax } from '../../../main/core/dicom/dictionary.ts';
import { readInstanceHeader } from '../../../main/core/dicom/instance.ts';
import type { ParsedDicom } from '../../../main/core/dicom/parse.ts';
import { InstanceMemo } from '../../../main/core/validate/byte-memo.ts';
import { checkInstance, type InstanceReport } from '../../../main/core/validate/instance-rules.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

// Not in dictionary.ts's Tag.
const ImagePositionPatient = 0x00200032;
const SliceLocation = 0x00201041;
const AcquisitionNumber = 0x00200012;
const OtherPatientIdsSequence = 0x00101002;

function parse(bytes: Uint8Array, headerOnly = false): ParsedDicom {
  const read = readInstanceHeader(bytes, { fileSize: bytes.length, headerOnly });
  if (read.kind !== 'dicom') throw new Error(`not a DICOM header: ${read.kind}`);
  return read.parsed;
}

/**
 * `bytes` with the value of a top-level element (of the meta information for group 0002)
 * replaced, its length field rewritten as its encoding has it (PS3.5 7.1.1-7.1.3).
 */
function withValue(bytes: Uint8Array, tag: number, value: string | Uint8Array): Uint8Array {
  const parsed = parse(bytes);
  const inMeta = tag >>> 16 === 0x0002;
  const dataset = inMeta ? parsed.meta! : parsed.dataset;
  const element = dataset.elements.get(tag);
  if (!element) throw new Error(`no element ${tag.toString(16)}`);
  const encoded = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const header = Uint8Array.from(bytes.subarray(element.offset, element.valueOffset));
  const view = new DataView(header.buffer);
  if (header.length === 12) view.setUint32(8, encoded.length, dataset.littleEndian);
  else if (inMeta || parsed.transferSyntaxUid !== TransferSyntax.ImplicitVrLittleEndian)
    view.setUint16(6, encoded.length, dataset.littleEndian);
  else view.setUint32(4, encoded.length, dataset.littleEndian);
  return Buffer.concat([
    bytes.subarray(0, element.offset),
    header,
    encoded,
    bytes.subarray(element.valueOffset + element.length),
  ]);
}

/** The same instance with another SOP Instance UID, in the meta information and the dataset. */
function withUid(bytes: Uint8Array, uid: string): Uint8Array {
  const padded = uid.length % 2 === 1 ? `${uid}\0` : uid;
  return withValue(
    withValue(bytes, Tag.MediaStorageSopInstanceUid, padded),
    Tag.SopInstanceUid,
    padded,
  );
}

function even(text: string): string {
  return text.length % 2 === 1 ? `${text} ` : text;
}

function uint16(value: number, littleEndian: boolean): Uint8Array {
  const bytes = new Uint8Array(2);
  new DataView(bytes.buffer).setUint16(0, value, littleEndian);
  return bytes;
}

/** A series made from one file: what changes from instance to instance, then faults in it. */
function series(base: Uint8Array): Uint8Array[] {
  const littleEndian = parse(base).dataset.littleEndian;
  const has = (tag: number): boolean => parse(base).dataset.elements.has(tag);
  const instance = (i: number): Uint8Array => {
    let bytes = withUid(base, `1.2.826.0.1.3680043.2.1125.${1000 + i * 37}.${i}`);
    bytes = withValue(bytes, Tag.InstanceNumber, even(String(i)));
    if (has(ImagePositionPatient))
      bytes = withValue(
        bytes,
        ImagePositionPatient,
        even(`-83.5\\-91.25\\${(i * 2.5).toFixed(i % 3)}`),
      );
    if (has(SliceLocation)) bytes = withValue(bytes, SliceLocation, even((i * 2.5).toFixed(i % 4)));
    // A fact validation keeps (completeness by acquisition), read from the bytes on a reuse.
    if (has(AcquisitionNumber))
      bytes = withValue(bytes, AcquisitionNumber, even(String(i > 6 ? 100 + i : 2)));
    return bytes;
  };
  const out: Uint8Array[] = [];
  for (let i = 1; i <= 12; i++) out.push(instance(i));
  // Faults, each followed by instances that are fine again.
  const faults: Array<(bytes: Uint8Array) => Uint8Array> = [
    (b) => withValue(b, Tag.SopInstanceUid, even('1.2.03.4')), // leading zero, and meta disagrees
    (b) => withUid(b, '1.2.3.4.x'), // not digits
    (b) => withValue(b, Tag.InstanceNumber, 'ab'), // not an integer
    (b) => withValue(b, Tag.InstanceNumber, '1'), // odd length
    (b) => withValue(b, Tag.InstanceNumber, '  '), // empty now
    (b) => withValue(b, Tag.InstanceNumber, '1\u00012 '), // a control character
    (b) => withValue(b, Tag.PatientSex, 'X '), // not an enumerated value
    (b) => withValue(b, Tag.PatientSex, ''), // empty
    (b) => withValue(b, Tag.PatientName, 'M\u00e9ller^Ana '), // text beyond ASCII
    (b) => withValue(b, Tag.Rows, uint16(0, littleEndian)), // the pixel description
    (b) => withValue(b, Tag.Rows, uint16(32, littleEndian)), // pixel data longer than described
  ];
  if (has(ImagePositionPatient)) {
    faults.push((b) => withValue(b, ImagePositionPatient, '')); // Type 1 empty
    faults.push((b) => withValue(b, ImagePositionPatient, even('1\\2'))); // two values of three
    faults.push((b) => withValue(b, ImagePositionPatient, even('1\\2\\x'))); // not a decimal
  }
  if (has(OtherPatientIdsSequence)) {
    faults.push((b) => {
      // One byte inside an item: a change the memo may not pass over.
      const element = parse(b).dataset.elements.get(OtherPatientIdsSequence)!;
      const copy = Uint8Array.from(b);
      copy[element.valueOffset + element.length - 2] = 0x01;
      return copy;
    });
  }
  let i = 20;
  for (const fault of faults) {
    out.push(fault(instance(i++)));
    out.push(instance(i++), instance(i++));
  }
  return out;
}

function alone(bytes: Uint8Array): InstanceReport {
  return checkInstance('x.dcm', parse(bytes), bytes.length, new InstanceMemo());
}

describe('header memo', () => {
  it('gives every instance of a series the findings it gets alone', () => {
    if (skipFor(missingPydicom())) return;
    const files = [
      'CT_small.dcm',
      'MR_small_implicit.dcm',
      'MR_small_bigendian.dcm',
      'JPEG2000.dcm',
    ];
    const instances: Uint8Array[] = [];
    // Where each series starts: its next eleven instances differ only in their own values.
    const starts: number[] = [];
    for (const name of files) {
      starts.push(instances.length);
      instances.push(...series(readFileSync(path.join(pydicomTestFiles(), name))));
    }
    const expected = instances.map(alone);
    // Some instances have findings the others lack, so a memo that hid one would show.
    const distinct = new Set(expected.map((report) => JSON.stringify(report.findings)));
    expect(distinct.size).toBeGreaterThan(20);

    // As the scan hands them over: one reused buffer, a header-only parse, `whole` on request.
    const scratch = Buffer.alloc(64 * 1024);
    const memo = new InstanceMemo();
    const parsedWhole: number[] = [];
    // And with the whole dataset from the start (a scan without the option, missing reports).
    const fullMemo = new InstanceMemo();
    instances.forEach((bytes, index) => {
      scratch.set(bytes);
      const view = scratch.subarray(0, bytes.length);
      const whole = (): ParsedDicom => {
        parsedWhole.push(index);
        return parse(view);
      };
      const report = checkInstance('x.dcm', parse(view, true), bytes.length, memo, whole);
      expect(report, `instance ${index}`).toEqual(expected[index]);
      const full = checkInstance('x.dcm', parse(view), bytes.length, fullMemo);
      expect(full, `instance ${index}`).toEqual(expected[index]);
    });
    // The memo did its work: the first of each series went through every rule, the eleven
    // after it (other UIDs, numbers and positions, of other lengths) did not.
    const clean = starts.flatMap((start) => Array.from({ length: 12 }, (_, i) => start + i));
    expect(parsedWhole.filter((index) => clean.includes(index))).toEqual(starts);
  });
});
