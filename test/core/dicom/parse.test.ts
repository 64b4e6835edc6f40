import { readFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { Tag, TransferSyntax } from '../../../main/core/dicom/dictionary.ts';
import { readInstanceHeader } from '../../../main/core/dicom/instance.ts';
import { DicomParseError, parseDicom } from '../../../main/core/dicom/parse.ts';
import { getInteger, getItems, getText } from '../../../main/core/dicom/values.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../../support/tools.ts';

/** A tiny explicit/implicit element encoder for hand-made cases (PS3.5 7.1). */
function element(
  tag: number,
  vr: string,
  value: Uint8Array | string,
  options: { explicit?: boolean; littleEndian?: boolean; undefinedLength?: boolean } = {},
): Buffer {
  const explicit = options.explicit ?? true;
  const le = options.littleEndian ?? true;
  let bytes = typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value);
  if (bytes.length % 2 === 1)
    bytes = Buffer.concat([bytes, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
  const length = options.undefinedLength ? 0xffffffff : bytes.length;
  const head: number[] = [];
  const u16 = (n: number) => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(n);
    else b.writeUInt16BE(n);
    head.push(...b);
  };
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(n);
    else b.writeUInt32BE(n);
    head.push(...b);
  };
  u16(tag >>> 16);
  u16(tag & 0xffff);
  if (explicit) {
    head.push(vr.charCodeAt(0), vr.charCodeAt(1));
    if (['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr)) {
      head.push(0, 0);
      u32(length);
    } else u16(length);
  } else u32(length);
  return Buffer.concat([Buffer.from(head), bytes]);
}

function item(content: Buffer, undefinedLength = false): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0xfffe, 0);
  head.writeUInt16LE(0xe000, 2);
  head.writeUInt32LE(undefinedLength ? 0xffffffff : content.length, 4);
  const tail = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([head, content, ...(undefinedLength ? [tail] : [])]);
}

const sequenceEnd = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

function part10(transferSyntaxUid: string, dataset: Buffer): Buffer {
  const meta = Buffer.concat([
    element(0x00020001, 'OB', new Uint8Array([0, 1])),
    element(0x00020002, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    element(0x00020003, 'UI', '1.2.3.4'),
    element(0x00020010, 'UI', transferSyntaxUid),
  ]);
  const groupLength = element(
    0x00020000,
    'UL',
    new Uint8Array(new Uint32Array([meta.length]).buffer),
  );
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, meta, dataset]);
}

describe('parseDicom (PS3.5, PS3.10)', () => {
  const basic = (opts: { explicit?: boolean; littleEndian?: boolean } = {}) =>
    Buffer.concat([
      element(Tag.SopClassUid, 'UI', '1.2.840.10008.5.1.4.1.1.7', opts),
      element(Tag.SopInstanceUid, 'UI', '1.2.3.4', opts),
      element(Tag.PatientName, 'PN', 'Doe^Jane', opts),
      element(
        Tag.Rows,
        'US',
        new Uint8Array(opts.littleEndian === false ? [0, 64] : [64, 0]),
        opts,
      ),
    ]);

  it('reads explicit VR little endian Part 10', () => {
    const parsed = parseDicom(part10(TransferSyntax.ExplicitVrLittleEndian, basic()));
    expect(parsed.preamble).toBe(true);
    expect(getText(parsed.dataset, Tag.PatientName)).toBe('Doe^Jane');
    expect(getInteger(parsed.dataset, Tag.Rows)).toBe(64);
  });

  it('reads implicit VR little endian, taking VRs from the dictionary', () => {
    const parsed = parseDicom(
      part10(TransferSyntax.ImplicitVrLittleEndian, basic({ explicit: false })),
    );
    expect(parsed.dataset.elements.get(Tag.Rows)?.vr).toBe('US');
    expect(getInteger(parsed.dataset, Tag.Rows)).toBe(64);
    expect(getText(parsed.dataset, Tag.SopInstanceUid)).toBe('1.2.3.4');
  });

  it('reads explicit VR big endian', () => {
    const parsed = parseDicom(
      part10(TransferSyntax.ExplicitVrBigEndian, basic({ littleEndian: false })),
    );
    expect(getInteger(parsed.dataset, Tag.Rows)).toBe(64);
    expect(getText(parsed.dataset, Tag.PatientName)).toBe('Doe^Jane');
  });

  it('inflates the deflated transfer syntax', () => {
    const parsed = parseDicom(
      part10(TransferSyntax.DeflatedExplicitVrLittleEndian, deflateRawSync(basic())),
    );
    expect(getText(parsed.dataset, Tag.PatientName)).toBe('Doe^Jane');
  });

  it('reads raw datasets without preamble or meta, guessing the encoding', () => {
    const implicit = parseDicom(basic({ explicit: false }));
    expect(implicit.transferSyntaxGuessed).toBe(true);
    expect(implicit.transferSyntaxUid).toBe(TransferSyntax.ImplicitVrLittleEndian);
    expect(getText(implicit.dataset, Tag.PatientName)).toBe('Doe^Jane');
    const bigEndian = parseDicom(basic({ littleEndian: false }));
    expect(bigEndian.transferSyntaxUid).toBe(TransferSyntax.ExplicitVrBigEndian);
  });

  it('reads sequences of defined and undefined length, nested, with their items', () => {
    const inner = element(Tag.ReferencedSopInstanceUid, 'UI', '1.2.3.4.5');
    const nested = element(0x00081115, 'SQ', Buffer.concat([item(inner, true), sequenceEnd]), {
      undefinedLength: true,
    });
    const outer = element(0x00081110, 'SQ', item(Buffer.concat([inner, nested])));
    const parsed = parseDicom(part10(TransferSyntax.ExplicitVrLittleEndian, outer));
    const [first] = getItems(parsed.dataset, 0x00081110);
    expect(first && getText(first, Tag.ReferencedSopInstanceUid)).toBe('1.2.3.4.5');
    const [deep] = first ? getItems(first, 0x00081115) : [];
    expect(deep && getText(deep, Tag.ReferencedSopInstanceUid)).toBe('1.2.3.4.5');
  });

  it('reads UN of undefined length as an implicit VR sequence (CP-246)', () => {
    const inner = element(Tag.ReferencedSopInstanceUid, 'UI', '9.8.7', { explicit: false });
    const un = element(0x00081110, 'UN', Buffer.concat([item(inner, true), sequenceEnd]), {
      undefinedLength: true,
    });
    const parsed = parseDicom(part10(TransferSyntax.ExplicitVrLittleEndian, un));
    const [first] = getItems(parsed.dataset, 0x00081110);
    expect(first && getText(first, Tag.ReferencedSopInstanceUid)).toBe('9.8.7');
  });

  it('stops before pixel data when asked, and knows where it ends', () => {
    const pixels = element(Tag.PixelData, 'OW', new Uint8Array(1000));
    const file = part10(TransferSyntax.ExplicitVrLittleEndian, Buffer.concat([basic(), pixels]));
    const parsed = parseDicom(file.subarray(0, file.length - 900), {
      untilPixelData: true,
      fileSize: file.length,
    });
    expect(parsed.pixelData?.length).toBe(1000);
    expect(parsed.pixelData!.valueOffset + parsed.pixelData!.length).toBe(file.length);
  });

  it("tells 'need more bytes' from 'truncated'", () => {
    const file = part10(TransferSyntax.ExplicitVrLittleEndian, basic());
    const prefix = file.subarray(0, file.length - 5);
    expect(() => parseDicom(prefix, { fileSize: file.length })).toThrowError(
      expect.objectContaining({ code: 'need-more' }) as Error,
    );
    expect(() => parseDicom(prefix)).toThrowError(
      expect.objectContaining({ code: 'truncated' }) as Error,
    );
  });

  it('bounds sequence nesting', () => {
    let nested = element(Tag.ReferencedSopInstanceUid, 'UI', '1.2');
    for (let depth = 0; depth < 40; depth++) nested = element(0x00081110, 'SQ', item(nested));
    expect(() => parseDicom(part10(TransferSyntax.ExplicitVrLittleEndian, nested))).toThrowError(
      expect.objectContaining({ code: 'too-deep' }) as Error,
    );
  });

  it('says not-dicom for other files', () => {
    expect(() => parseDicom(Buffer.from('%PDF-1.4 a report'))).toThrowError(DicomParseError);
    expect(readInstanceHeader(Buffer.from('%PDF-1.4 a report'))).toMatchObject({
      kind: 'not-dicom',
    });
  });
});

const skip = skipFor(missingPydicom());

describe.skipIf(skip)('readInstanceHeader never throws on damaged real files', () => {
  const files = [
    'CT_small.dcm',
    'MR_small_bigendian.dcm',
    'rtplan.dcm',
    'image_dfl.dcm',
    'MR_small_implicit.dcm',
  ];

  it.each(files)('%s cut at every offset in its header', (name) => {
    const bytes = readFileSync(path.join(pydicomTestFiles(), name));
    const full = readInstanceHeader(bytes, { fileSize: bytes.length });
    expect(full.kind).toBe('dicom');
    if (full.kind !== 'dicom') return;
    const kinds = new Set<string>();
    for (let cut = 0; cut < Math.min(bytes.length, full.headerBytes + 16); cut++) {
      const read = readInstanceHeader(bytes.subarray(0, cut), { fileSize: cut });
      kinds.add(read.kind);
      // A cut inside the header is never silently accepted as the whole file.
      if (cut < full.headerBytes - 8 && read.kind === 'dicom') {
        expect(read.headerBytes, `cut ${cut}`).toBeLessThanOrEqual(cut);
      }
    }
    expect(kinds.has('malformed') || kinds.has('not-dicom')).toBe(true);
  });

  it.each(files)('%s with bytes flipped in its header', (name) => {
    const bytes = readFileSync(path.join(pydicomTestFiles(), name));
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 300; trial++) {
      const copy = Buffer.from(bytes);
      for (let flips = 0; flips < 4; flips++) {
        const at = Math.floor(random() * Math.min(copy.length, 2048));
        copy[at] = Math.floor(random() * 256);
      }
      const read = readInstanceHeader(copy, { fileSize: copy.length });
      expect(['dicom', 'malformed', 'not-dicom', 'need-more']).toContain(read.kind);
    }
  });
});
