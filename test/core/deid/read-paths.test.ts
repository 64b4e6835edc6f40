/**
 * The two ways an instance is read from a file give the same bytes: read whole (files up to
 * `wholeFileBytes`) and header first with the pixel data streamed from the file (larger ones);
 * and `writeInstanceFile` (gathered writes) writes exactly those bytes.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import type { DeidentifyPolicy } from '../../../main/core/deid/engine.ts';
import {
  collectBytes,
  deidentifyInstance,
  previewInstance,
  wholeFileBytes,
  writeInstanceFile,
} from '../../../main/core/deid/instance.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';
import { image, part10, text } from './planted.ts';

const policy: DeidentifyPolicy = {
  kind: 'deidentify',
  profile: 'basic',
  options: [],
  key: new Uint8Array(32).fill(0x41),
};
const work = mkdtempSync(path.join(tmpdir(), 'ferry-read-paths-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function instanceFile(name: string, rows: number, columns: number): string {
  const bytes = part10(image(rows, columns, 1, [text(0x00080080, 'LO', 'FERRY GENERAL')]));
  const file = path.join(work, name);
  writeFileSync(file, bytes);
  return file;
}

describe('repeatable chunks', () => {
  it('a big-endian source (from a Buffer and from a file) gives the same bytes every time', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    const file = path.join(pydicomTestFiles(), 'MR_small_bigendian.dcm');
    const original = readFileSync(file);
    for (const input of [
      { kind: 'bytes', bytes: readFileSync(file) } as const,
      { kind: 'file', path: file } as const,
    ]) {
      const instance = await deidentifyInstance(input, policy);
      const first = await collectBytes(instance);
      const second = await collectBytes(instance);
      expect(Buffer.compare(first, second)).toBe(0);
      if (input.kind === 'bytes') expect(Buffer.compare(input.bytes, original)).toBe(0);
    }
  });
});

describe('read paths', () => {
  it.each([
    ['read whole', 64, 64],
    ['header first, pixel data streamed', 1536, 1536],
  ])('%s: same bytes as from memory, and as written', async (_name, rows, columns) => {
    const file = instanceFile(`${rows}.dcm`, rows, columns);
    const size = readFileSync(file).length;
    expect(size > wholeFileBytes).toBe(rows > 1000);
    const fromFile = await previewInstance({ kind: 'file', path: file }, policy);
    const fromBytes = await previewInstance(
      { kind: 'bytes', bytes: new Uint8Array(readFileSync(file)) },
      policy,
    );
    expect(Buffer.compare(fromFile.bytes, fromBytes.bytes)).toBe(0);
    const out = path.join(work, `${rows}.out.dcm`);
    const instance = await deidentifyInstance({ kind: 'file', path: file }, policy);
    await writeInstanceFile(instance, out);
    expect(Buffer.compare(readFileSync(out), fromFile.bytes)).toBe(0);
    expect((await collectBytes(instance)).length).toBe(fromFile.bytes.length);
  });
});
