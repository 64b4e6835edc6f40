/**
 * A corpus of broken DICOM files, derived from one valid CT instance (written by make-media):
 * truncated at many offsets, header bytes flipped, lengths that lie, deep and endless sequences,
 * huge declared lengths. Each case says which finding code(s) may report it; validation must
 * give exactly one finding for each file, with one of those codes.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { Tag } from '../../main/core/dicom/dictionary.ts';
import { parseDicom, type DicomElement } from '../../main/core/dicom/parse.ts';
import type { FindingCode } from '../../main/core/findings.ts';
import { makeMedia } from './make-media.ts';

export interface BrokenFile {
  /** File name in the corpus folder, e.g. 'truncate-000300.dcm'. */
  readonly name: string;
  readonly bytes: Uint8Array;
  /** The codes that may report it: one finding with one of them is expected. */
  readonly expect: readonly FindingCode[];
  readonly kind: 'truncated' | 'flipped' | 'length' | 'sequence' | 'huge';
}

/**
 * One valid CT instance generated under `dir` (64 x 64, explicit VR little endian, everything its
 * IOD requires): the file's path.
 */
export async function makeCtFile(dir: string, seed = 42): Promise<string> {
  const media = await makeMedia({
    outDir: dir,
    patients: 1,
    studiesPerPatient: 1,
    seriesPerStudy: 1,
    instancesPerSeries: 1,
    modalities: ['CT'],
    withDicomdir: false,
    extras: false,
    seed,
  });
  return path.join(media.root, media.patients[0]!.studies[0]!.series[0]!.files[0]!);
}

/** The bytes of makeCtFile's instance. */
export async function validCtInstance(dir: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(await makeCtFile(dir)));
}

function u16(value: number): Buffer {
  const buffer = Buffer.alloc(2);
  buffer.writeUInt16LE(value);
  return buffer;
}
function u32(value: number): Buffer {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt32LE(value >>> 0);
  return buffer;
}
function tagBytes(tag: number): Buffer {
  return Buffer.concat([u16(tag >>> 16), u16(tag & 0xffff)]);
}
/** Explicit VR little endian SQ header with a 32-bit length (PS3.5 7.1.2). */
function sequenceHeader(tag: number, length: number): Buffer {
  return Buffer.concat([tagBytes(tag), Buffer.from('SQ\0\0', 'latin1'), u32(length)]);
}
function itemHeader(length: number): Buffer {
  return Buffer.concat([tagBytes(Tag.Item), u32(length)]);
}
const itemDelimiter = Buffer.concat([tagBytes(Tag.ItemDelimitationItem), u32(0)]);
const sequenceDelimiter = Buffer.concat([tagBytes(Tag.SequenceDelimitationItem), u32(0)]);

/** Request Attributes Sequence (0040,0275): a standard SQ between the header and Pixel Data. */
const requestAttributes = 0x00400275;
/** Referenced Image Sequence (0008,1140), used as the nested sequence. */
const referencedImages = 0x00081140;

function withInserted(base: Uint8Array, at: number, inserted: Buffer): Uint8Array {
  return Buffer.concat([base.subarray(0, at), inserted, base.subarray(at)]);
}

function elementOf(base: Uint8Array, tag: number): DicomElement {
  const parsed = parseDicom(base, { untilPixelData: true });
  const element =
    tag === Tag.PixelData
      ? parsed.pixelData
      : (parsed.dataset.elements.get(tag) ?? parsed.meta?.elements.get(tag));
  if (!element) throw new Error(`base file has no element ${tag.toString(16)}`);
  return element;
}

function patched(base: Uint8Array, at: number, bytes: Buffer | number[]): Uint8Array {
  const copy = new Uint8Array(base);
  copy.set(bytes, at);
  return copy;
}

/** Every case of the corpus, built from `base` (a valid instance from `validCtInstance`). */
export function brokenCorpus(base: Uint8Array): BrokenFile[] {
  const cases: BrokenFile[] = [];
  const pixel = elementOf(base, Tag.PixelData);
  const headerEnd = pixel.valueOffset;

  // Truncated at many offsets: every 7th byte of the header, then into the pixel data.
  const cuts = new Set<number>([0, 1, 4, 64, 128, 131, 132, 133, 136, 140]);
  for (let at = 141; at < headerEnd; at += 7) cuts.add(at);
  for (const at of [headerEnd - 1, headerEnd, headerEnd + 1, headerEnd + 100, base.length - 1]) {
    cuts.add(at);
  }
  for (const at of [...cuts].sort((a, b) => a - b)) {
    const expect: FindingCode[] =
      at === 0
        ? ['empty-file']
        : at < 132
          ? ['unrecognised-dicom-name']
          : ['truncated-file', 'pixel-data-missing', 'missing-identifier'];
    cases.push({
      name: `truncate-${String(at).padStart(6, '0')}.dcm`,
      bytes: base.subarray(0, at),
      expect,
      kind: 'truncated',
    });
  }

  // Header bytes flipped, each where its effect is known.
  const transferSyntax = elementOf(base, Tag.TransferSyntaxUid);
  const metaInstance = elementOf(base, Tag.MediaStorageSopInstanceUid);
  const sopClass = elementOf(base, Tag.SopClassUid);
  const rows = elementOf(base, Tag.Rows);
  const bitsAllocated = elementOf(base, Tag.BitsAllocated);
  const patientName = elementOf(base, Tag.PatientName);
  const lastDigit = (element: DicomElement): number => {
    let at = element.valueOffset + element.length - 1;
    while (base[at] === 0 || base[at] === 0x20) at--;
    return at;
  };
  const flips: Array<{ name: string; at: number; bytes: number[]; expect: FindingCode[] }> = [
    { name: 'dicm-marker', at: 128, bytes: [0x58], expect: ['unrecognised-dicom-name'] },
    {
      name: 'transfer-syntax',
      at: lastDigit(transferSyntax),
      bytes: [0x37],
      expect: ['unknown-transfer-syntax'],
    },
    {
      name: 'meta-instance-uid',
      at: lastDigit(metaInstance),
      bytes: [base[lastDigit(metaInstance)] === 0x31 ? 0x32 : 0x31],
      expect: ['file-meta-mismatch'],
    },
    {
      name: 'vr-unknown',
      at: patientName.offset + 4,
      bytes: [0x58, 0x58],
      expect: ['malformed-file'],
    },
    { name: 'rows', at: rows.valueOffset + 1, bytes: [0x10], expect: ['pixel-data-short'] },
    {
      name: 'bits-allocated',
      at: bitsAllocated.valueOffset,
      bytes: [12],
      expect: ['pixel-description-invalid'],
    },
    // (0008,0016) becomes (0808,0016): the SOP Class UID is gone and order is broken.
    { name: 'tag-group', at: sopClass.offset + 1, bytes: [0x08], expect: ['missing-identifier'] },
  ];
  for (const flip of flips) {
    cases.push({
      name: `flip-${flip.name}.dcm`,
      bytes: patched(base, flip.at, flip.bytes),
      expect: flip.expect,
      kind: 'flipped',
    });
  }

  // Lengths that lie.
  const shortLength = (element: DicomElement, delta: number): Uint8Array =>
    patched(base, element.offset + 6, u16(element.length + delta));
  cases.push(
    {
      name: 'length-longer.dcm',
      bytes: shortLength(patientName, 2),
      expect: ['malformed-file', 'truncated-file'],
      kind: 'length',
    },
    {
      name: 'length-shorter.dcm',
      bytes: shortLength(patientName, -2),
      expect: ['malformed-file', 'truncated-file'],
      kind: 'length',
    },
    {
      name: 'length-pixel-data-past-end.dcm',
      bytes: patched(base, pixel.offset + 8, u32(pixel.length + 1000)),
      expect: ['truncated-file'],
      kind: 'length',
    },
    {
      name: 'length-pixel-data-short.dcm',
      bytes: patched(base, pixel.offset + 8, u32(pixel.length / 2)),
      expect: ['pixel-data-short'],
      kind: 'length',
    },
    {
      name: 'length-undefined-on-text.dcm',
      bytes: withInserted(
        base,
        pixel.offset,
        Buffer.concat([tagBytes(0x00400280), Buffer.from('ST\0\0', 'latin1'), u32(0xffffffff)]),
      ),
      expect: ['malformed-file', 'truncated-file'],
      kind: 'length',
    },
    {
      // An item that claims more bytes than its sequence holds: read up to the sequence's end.
      name: 'length-item-past-sequence.dcm',
      bytes: withInserted(
        base,
        pixel.offset,
        Buffer.concat([sequenceHeader(requestAttributes, 16), itemHeader(64), Buffer.alloc(8)]),
      ),
      expect: ['encoding-anomaly'],
      kind: 'length',
    },
  );

  // Deep and endless sequences.
  const nested = (depth: number): Buffer => {
    let inner = Buffer.alloc(0);
    for (let level = 0; level < depth; level++) {
      inner = Buffer.concat([
        sequenceHeader(referencedImages, 0xffffffff),
        itemHeader(0xffffffff),
        inner,
        itemDelimiter,
        sequenceDelimiter,
      ]);
    }
    return Buffer.concat([
      sequenceHeader(requestAttributes, 0xffffffff),
      itemHeader(0xffffffff),
      inner,
      itemDelimiter,
      sequenceDelimiter,
    ]);
  };
  cases.push(
    {
      name: 'sequence-deep-200.dcm',
      bytes: withInserted(base, pixel.offset, nested(200)),
      expect: ['malformed-file'],
      kind: 'sequence',
    },
    {
      name: 'sequence-deep-10000.dcm',
      bytes: withInserted(base, pixel.offset, nested(10_000)),
      expect: ['malformed-file'],
      kind: 'sequence',
    },
    {
      // Undefined-length sequence whose items never end: runs into the end of the file.
      name: 'sequence-endless.dcm',
      bytes: Buffer.concat([
        base.subarray(0, pixel.offset),
        sequenceHeader(requestAttributes, 0xffffffff),
        ...Array.from({ length: 5000 }, () =>
          Buffer.concat([itemHeader(0xffffffff), itemDelimiter]),
        ),
      ]),
      expect: ['truncated-file'],
      kind: 'sequence',
    },
    {
      name: 'sequence-endless-item.dcm',
      bytes: Buffer.concat([
        base.subarray(0, pixel.offset),
        sequenceHeader(requestAttributes, 0xffffffff),
        itemHeader(0xffffffff),
        Buffer.alloc(4096, 0x20),
      ]),
      expect: ['malformed-file', 'truncated-file'],
      kind: 'sequence',
    },
  );

  // Huge declared lengths: nothing may allocate what a length field claims.
  for (const [name, length] of [
    ['huge-text-4g', 0xfffffff0],
    ['huge-text-2g', 0x7fffffff],
  ] as const) {
    cases.push({
      name: `${name}.dcm`,
      bytes: withInserted(
        base,
        pixel.offset,
        Buffer.concat([
          tagBytes(0x00400280),
          Buffer.from('UT\0\0', 'latin1'),
          u32(length),
          Buffer.alloc(64, 0x41),
        ]),
      ),
      expect: ['truncated-file'],
      kind: 'huge',
    });
  }
  cases.push(
    {
      name: 'huge-pixel-data.dcm',
      bytes: patched(base, pixel.offset + 8, u32(0xfffffff0)),
      expect: ['truncated-file'],
      kind: 'huge',
    },
    {
      name: 'huge-sequence.dcm',
      bytes: withInserted(base, pixel.offset, sequenceHeader(requestAttributes, 0x7ffffff0)),
      expect: ['truncated-file', 'malformed-file'],
      kind: 'huge',
    },
    {
      name: 'huge-item.dcm',
      bytes: withInserted(
        base,
        pixel.offset,
        Buffer.concat([sequenceHeader(requestAttributes, 0xffffffff), itemHeader(0x7ffffff0)]),
      ),
      expect: ['truncated-file', 'malformed-file'],
      kind: 'huge',
    },
  );
  return cases;
}

/** Seeded single-byte flips anywhere in the header, for robustness only (any outcome but a crash). */
export function randomFlips(base: Uint8Array, count: number, seed = 1): BrokenFile[] {
  const headerEnd = elementOf(base, Tag.PixelData).valueOffset;
  let state = seed >>> 0;
  const next = (): number => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state;
  };
  const cases: BrokenFile[] = [];
  for (let index = 0; index < count; index++) {
    const at = 128 + (next() % (headerEnd - 128));
    const copy = new Uint8Array(base);
    copy[at] = (copy[at]! ^ (1 << (next() % 8))) & 0xff;
    cases.push({
      name: `random-${String(index).padStart(3, '0')}-at-${at}.dcm`,
      bytes: copy,
      expect: [],
      kind: 'flipped',
    });
  }
  return cases;
}

/** The names in a folder, for tests that write the corpus out. */
export async function corpusNames(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}
