/**
 * What validation remembers from one instance to the next (byte-memo.ts: passed values,
 * repeated texts; values.ts: the tags met at each position) only saves work: every instance's
 * findings are those it gets when checked alone, whatever came before it. Checked on pydicom's
 * real files, read the way the scan reads them (one reused buffer), in runs and interleaved.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { HEAD_BYTES, readFileHeadSync } from '../../../main/core/media/read-head.ts';
import { InstanceMemo, PassedValues } from '../../../main/core/validate/byte-memo.ts';
import { checkInstance, type InstanceReport } from '../../../main/core/validate/instance-rules.ts';
import { missingPydicom, pydicomDataDir, skipFor } from '../../support/tools.ts';

const scratch = Buffer.alloc(HEAD_BYTES);

function dicomFiles(): string[] {
  const dir = pydicomDataDir()!;
  const files: string[] = [];
  for (const folder of ['test_files', 'charset_files']) {
    for (const name of readdirSync(path.join(dir, folder)).sort()) {
      if (name.endsWith('.dcm')) files.push(path.join(dir, folder, name));
    }
  }
  return files;
}

/** Reads a file into the shared buffer and checks it at once, as the scan's callback does. */
function check(file: string, memo: InstanceMemo): InstanceReport | undefined {
  let head;
  try {
    head = readFileHeadSync(file, scratch);
  } catch {
    return undefined;
  }
  if (head.read.kind !== 'dicom') return undefined;
  return checkInstance(path.basename(file), head.read.parsed, head.size, memo);
}

describe('validation memory across instances', () => {
  it('gives every instance the findings it gets alone, in runs and interleaved', () => {
    if (skipFor(missingPydicom())) return;
    const alone = new Map<string, InstanceReport>();
    for (const file of dicomFiles()) {
      const report = check(file, new InstanceMemo());
      if (report) alone.set(file, report);
    }
    const files = [...alone.keys()];
    expect(files.length).toBeGreaterThan(40);
    // Some of them have findings, so a memory that hid one would show.
    expect(
      [...alone.values()].filter((report) => report.findings.length > 0).length,
    ).toBeGreaterThan(10);

    const memo = new InstanceMemo();
    const order: string[] = [];
    // Runs of one file (values remembered as passed), then the files interleaved (tags at other
    // positions, values that change every time and are no longer compared), several rounds.
    for (const file of files) for (let i = 0; i < 5; i++) order.push(file);
    for (let round = 0; round < 4; round++) order.push(...files);
    for (let round = 0; round < 3; round++) order.push(...[...files].reverse());
    for (const file of order) expect(check(file, memo), file).toEqual(alone.get(file));
  });
});

describe('PassedValues', () => {
  const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

  it('matches only the same VR and the same bytes', () => {
    const passed = new PassedValues();
    const value = bytes('1.2.840.10008.5.1.4.1.1.2');
    passed.remember(7, 'UI', value, 0, value.length);
    expect(passed.has(7, 'UI', value, 0, value.length)).toBe(true);
    const shifted = bytes(`xx${'1.2.840.10008.5.1.4.1.1.2'}`);
    expect(passed.has(7, 'UI', shifted, 2, shifted.length)).toBe(true);
    expect(passed.has(7, 'LO', value, 0, value.length)).toBe(false);
    expect(passed.has(7, 'UI', value, 0, value.length - 1)).toBe(false);
    const other = bytes('1.2.840.10008.5.1.4.1.1.4');
    expect(passed.has(7, 'UI', other, 0, other.length)).toBe(false);
  });

  it('stops comparing a value that changes every time, and never passes a different one', () => {
    const passed = new PassedValues();
    const values = Array.from({ length: 200 }, (_, i) => bytes(`1.2.3.${i}`));
    let hits = 0;
    for (const value of values) {
      if (passed.has(3, 'UI', value, 0, value.length)) hits++;
      passed.remember(3, 'UI', value, 0, value.length);
    }
    expect(hits).toBe(0);
    // Repeating again: after at most one retry period it is remembered and matched.
    const same = bytes('1.2.3.999');
    let matched = 0;
    for (let i = 0; i < PassedValues.retry + 4; i++) {
      if (passed.has(3, 'UI', same, 0, same.length)) matched++;
      else passed.remember(3, 'UI', same, 0, same.length);
    }
    expect(matched).toBeGreaterThan(0);
  });
});
