/**
 * The scan's fast path: without a per-instance callback it keeps only the header's attributes
 * of each file (every element still read and checked), reads small files with one read and no
 * stat, and reads Integer Strings straight from their bytes. None of it may change what the
 * scan reports: these tests compare the fast path with the full one on real and damaged files.
 */
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Tag } from '../../../main/core/dicom/dictionary.ts';
import {
  headerTags,
  readInstanceHeader,
  type HeaderRead,
} from '../../../main/core/dicom/instance.ts';
import {
  parseDicom,
  type DicomDataset,
  type DicomElement,
} from '../../../main/core/dicom/parse.ts';
import { getInteger } from '../../../main/core/dicom/values.ts';
import { HEAD_BYTES, readFileHeadSync } from '../../../main/core/media/read-head.ts';
import { scanMedia } from '../../../main/core/media/scan.ts';
import { brokenCorpus, validCtInstance } from '../../support/broken-files.ts';
import { makeMedia, missingDicomTools } from '../../support/make-media.ts';
import { missingPydicom, pydicomDataDir, pydicomTestFiles, skipFor } from '../../support/tools.ts';

const temps: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** A read without its parsed dataset (compared apart), as plain data. */
function verdict(read: HeaderRead): unknown {
  if (read.kind !== 'dicom') return read;
  const { parsed, ...rest } = read;
  return { ...rest, anomalies: parsed.anomalies, headerBytes: parsed.headerBytes };
}

const skipPydicom = skipFor(missingPydicom());
const skipDcmtk = skipFor(missingDicomTools());

describe.skipIf(skipPydicom)('header-only reads of pydicom files and their prefixes', () => {
  it('give the same header, verdict and Pixel Data end as the full read', () => {
    const dataDir = pydicomDataDir()!;
    const files = [
      ...filesUnder(pydicomTestFiles()),
      ...filesUnder(path.join(dataDir, 'charset_files')),
    ];
    expect(files.length).toBeGreaterThan(100);
    let dicom = 0;
    const differ: string[] = [];
    for (const file of files) {
      const whole = readFileSync(file);
      const cuts = [0, 100, 132, 300, 1000, whole.length >> 1, whole.length - 1];
      for (const cut of [whole.length, ...cuts.filter((at) => at < whole.length)]) {
        const bytes = whole.subarray(0, cut);
        // As a whole file, and as the first bytes of a longer one ('need-more').
        for (const fileSize of [cut, cut + 4096]) {
          const full = readInstanceHeader(bytes, { fileSize });
          const fast = readInstanceHeader(bytes, { fileSize, headerOnly: true });
          if (JSON.stringify(verdict(full)) !== JSON.stringify(verdict(fast))) {
            differ.push(`${path.basename(file)} cut at ${cut} of ${fileSize}`);
          }
          if (fast.kind === 'dicom') {
            dicom++;
            const kept = [...fast.parsed.dataset.elements.keys()].filter(
              (tag) =>
                !headerTags.has(tag) &&
                tag !== Tag.SpecificCharacterSet &&
                tag !== Tag.PixelData &&
                tag !== Tag.FloatPixelData &&
                tag !== Tag.DoubleFloatPixelData,
            );
            if (kept.length > 0) differ.push(`${path.basename(file)} kept ${kept.length} others`);
          }
        }
      }
    }
    expect(dicom).toBeGreaterThan(200);
    expect(differ).toEqual([]);
  });
});

describe.skipIf(skipPydicom || skipDcmtk)('a scan without a per-instance callback', () => {
  let root: string;

  beforeAll(async () => {
    root = tempDir('ferry-fast-scan-');
    cpSync(pydicomTestFiles(), path.join(root, 'pydicom'), { recursive: true });
    cpSync(path.join(pydicomDataDir()!, 'charset_files'), path.join(root, 'charsets'), {
      recursive: true,
    });
    const base = await validCtInstance(tempDir('ferry-fast-base-'));
    mkdirSync(path.join(root, 'broken'));
    for (const broken of brokenCorpus(base)) {
      writeFileSync(path.join(root, 'broken', broken.name), broken.bytes);
    }
    await makeMedia({
      outDir: path.join(root, 'disc'),
      patients: 2,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 3,
      seed: 7,
      patientNames: ['Müller^Jürgen', 'Øster^Åse'],
      specificCharacterSet: 'ISO_IR 100',
      zip: true,
    });
  }, 120_000);

  it('reports exactly what the full parse reports: tree, sizes, findings, other files', async () => {
    const fast = await scanMedia(root);
    const full = await scanMedia(root, { onInstanceHeader: () => {} });
    expect(fast.summary.instances).toBeGreaterThan(100);
    expect(fast.findings.length).toBeGreaterThan(50);
    expect(fast).toEqual(full);
  });
});

describe('readFileHeadSync', () => {
  let dir: string;
  let base: Uint8Array;
  beforeAll(async () => {
    if (skipDcmtk) return;
    dir = tempDir('ferry-read-head-');
    base = await validCtInstance(path.join(dir, 'base'));
  }, 60_000);

  it.skipIf(skipDcmtk)('reports a short file as truncated, with its real size', () => {
    const file = path.join(dir, 'cut.dcm');
    writeFileSync(file, base.subarray(0, base.length - 100));
    const head = readFileHeadSync(file, Buffer.alloc(HEAD_BYTES), { headerOnly: true });
    expect(head.size).toBe(base.length - 100);
    expect(head.read.kind).toBe('dicom');
    if (head.read.kind === 'dicom') expect(head.read.pixelDataEnd).toBe(base.length);
  });

  it.skipIf(skipDcmtk)('reads a header longer than the first read, and a size past it', () => {
    // A private block of 100 KiB before the patient module: the header outgrows 64 KiB.
    const parsed = parseDicom(base, { untilPixelData: true });
    const patientName = parsed.dataset.elements.get(Tag.PatientName)!;
    const creator = element(0x00090010, 'LO', Buffer.from('FERRY TEST  ', 'latin1'));
    const blob = element(0x00091000, 'OB', Buffer.alloc(100 * 1024, 0x41));
    const bytes = Buffer.concat([
      base.subarray(0, patientName.offset),
      creator,
      blob,
      base.subarray(patientName.offset),
    ]);
    const file = path.join(dir, 'long-header.dcm');
    writeFileSync(file, bytes);
    const expected = readInstanceHeader(base);
    expect(expected.kind).toBe('dicom');
    for (const headerOnly of [false, true]) {
      const head = readFileHeadSync(file, Buffer.alloc(HEAD_BYTES), { headerOnly });
      expect(head.size).toBe(bytes.length);
      expect(head.read.kind).toBe('dicom');
      if (head.read.kind === 'dicom' && expected.kind === 'dicom') {
        expect(head.read.header).toEqual(expected.header);
        expect(head.read.pixelDataEnd).toBe(bytes.length);
        expect(head.read.headerBytes).toBeGreaterThan(HEAD_BYTES);
      }
    }
  });

  it('gives a small file that is not DICOM its size from the one read', () => {
    const own = tempDir('ferry-read-text-');
    const file = path.join(own, 'README.TXT');
    writeFileSync(file, 'Insert the disc and run the viewer.\r\n');
    const head = readFileHeadSync(file, Buffer.alloc(HEAD_BYTES));
    expect(head.size).toBe(37);
    expect(head.read.kind).toBe('not-dicom');
  });
});

/** An explicit VR little endian element (PS3.5 7.1.2); OB and the like take a 32-bit length. */
function element(tag: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB' || vr === 'UN' || vr === 'SQ';
  const head = Buffer.alloc(long ? 12 : 8);
  head.writeUInt16LE(tag >>> 16, 0);
  head.writeUInt16LE(tag & 0xffff, 2);
  head.write(vr, 4, 'latin1');
  if (long) head.writeUInt32LE(value.length, 8);
  else head.writeUInt16LE(value.length, 6);
  return Buffer.concat([head, value]);
}

/** A one-element dataset over `bytes`, as the parser would locate it. */
function oneElement(vr: string, bytes: Buffer, littleEndian = true): DicomDataset {
  const only: DicomElement = {
    tag: Tag.InstanceNumber,
    vr,
    offset: 0,
    valueOffset: 0,
    length: bytes.length,
    undefinedLength: false,
  };
  return {
    elements: new Map([[Tag.InstanceNumber, only]]),
    bytes,
    littleEndian,
    offset: 0,
    characterSet: [],
  };
}

describe('getInteger on binary integers', () => {
  const value = Buffer.from([0xfe, 0xff, 0x12, 0x80]);
  it('reads US, SS, UL and SL in either byte order as Buffer does', () => {
    const read = (vr: string, littleEndian: boolean): number | undefined =>
      getInteger(oneElement(vr, value, littleEndian), Tag.InstanceNumber);
    expect(read('US', true)).toBe(value.readUInt16LE(0));
    expect(read('US', false)).toBe(value.readUInt16BE(0));
    expect(read('SS', true)).toBe(value.readInt16LE(0));
    expect(read('SS', false)).toBe(value.readInt16BE(0));
    expect(read('UL', true)).toBe(value.readUInt32LE(0));
    expect(read('UL', false)).toBe(value.readUInt32BE(0));
    expect(read('SL', true)).toBe(value.readInt32LE(0));
    expect(read('SL', false)).toBe(value.readInt32BE(0));
    expect(read('SS', true)).toBeLessThan(0);
    expect(read('UL', false)).toBeGreaterThan(0x7fffffff);
  });

  it('has no value when the element is shorter than its VR', () => {
    expect(getInteger(oneElement('UL', value.subarray(0, 2)), Tag.InstanceNumber)).toBe(undefined);
    expect(getInteger(oneElement('US', value.subarray(0, 1)), Tag.InstanceNumber)).toBe(undefined);
  });
});

describe('getInteger on Integer Strings', () => {
  /** The rule the fast path must keep: first value, trimmed, an optional sign and digits. */
  const cases: Array<[string, number | undefined]> = [
    ['12', 12],
    [' 12 ', 12],
    ['+5', 5],
    ['-7 ', -7],
    ['1\\2', 1],
    ['3 \\4', 3],
    ['12\0', 12],
    ['', undefined],
    ['  ', undefined],
    ['1 2', undefined],
    ['1.5', undefined],
    ['x1', undefined],
    ['\t4', 4], // the general path trims any white space around the first value
    ['\\4', undefined],
    ['-', undefined],
    ['123456789012345', 123456789012345],
    ['1234567890123456', 1234567890123456],
    ['00042', 42],
  ];
  for (const [text, expected] of cases) {
    it(`reads ${JSON.stringify(text)} as ${expected}`, () => {
      const dataset = oneElement('IS', Buffer.from(text, 'latin1'));
      expect(getInteger(dataset, Tag.InstanceNumber)).toBe(expected);
    });
  }
});
