/**
 * A Part 10 file with a unique marker planted in every attribute of PS3.15 Table E.1-1, at the
 * top level and two levels deep in sequences, in private blocks and private sequences, in
 * overlays and curves, and in the file meta information. The leak test de-identifies it and
 * looks for the markers in the output bytes.
 */
import { lookupAttribute } from '../../../main/core/dicom/dictionary.ts';
import {
  asciiValue,
  ByteWriter,
  encodeDataset,
  type OutputDataset,
  type OutputElement,
} from '../../../main/core/dicom/write.ts';
import { profileEntry, profileTags } from '../../../main/core/deid/profile.ts';

export interface Planted {
  readonly bytes: Uint8Array;
  /** Text markers long enough to search for in bytes (each unique). */
  readonly markers: string[];
  /** Every planted (path, tag) with its value bytes: checked after parsing the output. */
  readonly values: Map<number, Uint8Array[]>;
  readonly sopInstanceUid: string;
  readonly instanceUids: string[];
}

/** Two sequences that Table E.1-1 does not list (kept, recursed into). */
export const outerSequence = 0x00081115; // Referenced Series Sequence
export const innerSequence = 0x00081199; // Referenced SOP Sequence

class Markers {
  private counter = 0;
  readonly markers: string[] = [];
  readonly values = new Map<number, Uint8Array[]>();

  next(): number {
    return ++this.counter;
  }

  text(): string {
    const marker = `LEAKMARK${String(1000 + this.next())}`;
    this.markers.push(marker);
    return marker;
  }

  remember(tag: number, value: Uint8Array): void {
    const list = this.values.get(tag) ?? [];
    list.push(value);
    this.values.set(tag, list);
  }
}

function valueFor(vr: string, marks: Markers): { value: Uint8Array; searchable: boolean } {
  const n = marks.next();
  const fixed = String(1000 + n);
  switch (vr) {
    case 'AE':
    case 'CS':
    case 'SH':
    case 'LO':
    case 'LT':
    case 'ST':
    case 'UT':
    case 'UC':
    case 'PN':
    case 'UR': {
      const marker = marks.text();
      return { value: asciiValue(vr === 'PN' ? `${marker}^${marker}X` : marker), searchable: true };
    }
    case 'DA': {
      const date = new Date(Date.UTC(1950, 0, 1) + n * 86_400_000 * 3);
      const text = date.toISOString().slice(0, 10).replace(/-/gu, '');
      marks.markers.push(text);
      return { value: asciiValue(text), searchable: true };
    }
    case 'TM': {
      const text = `13${String(Math.floor(n / 60) % 60).padStart(2, '0')}${String(n % 60).padStart(2, '0')}.424242`;
      marks.markers.push(text);
      return { value: asciiValue(text), searchable: true };
    }
    case 'DT': {
      const date = new Date(Date.UTC(1950, 0, 1) + n * 86_400_000 * 3);
      const text = `${date.toISOString().slice(0, 10).replace(/-/gu, '')}131313.4242`;
      marks.markers.push(text);
      return { value: asciiValue(text), searchable: true };
    }
    case 'UI': {
      const text = `1.2.826.0.1.3680043.10.999.${fixed}`;
      marks.markers.push(text);
      return { value: asciiValue(text), searchable: true };
    }
    case 'DS': {
      const text = `4242.${fixed}`;
      marks.markers.push(text);
      return { value: asciiValue(text), searchable: true };
    }
    case 'IS': {
      const text = `74242${fixed}`;
      marks.markers.push(text);
      return { value: asciiValue(text), searchable: true };
    }
    case 'AS':
      return { value: asciiValue('042Y'), searchable: false };
    case 'US':
    case 'SS':
      return { value: Uint8Array.of(n & 0xff, 0x42), searchable: false };
    case 'UL':
    case 'SL':
    case 'FL':
    case 'AT':
      return { value: Uint8Array.of(n & 0xff, (n >> 8) & 0xff, 0x42, 0x42), searchable: false };
    case 'FD':
    case 'SV':
    case 'UV':
      return {
        value: Uint8Array.of(n & 0xff, (n >> 8) & 0xff, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42),
        searchable: false,
      };
    default: {
      // OB, OW, OF, OD, OL, OV, UN: a text marker in the bytes.
      const marker = marks.text();
      return { value: asciiValue(marker), searchable: true };
    }
  }
}

/** Every exact row of the table, planted with a marker (sequences get a marked item). */
function plantedSet(marks: Markers, depth: number): OutputElement[] {
  const elements: OutputElement[] = [];
  for (const tag of profileTags()) {
    const group = tag >>> 16;
    if (group === 0x0002) continue; // meta: planted in the meta information
    if (tag >>> 0 >= 0x7fe00000 && group === 0x7fe0) continue;
    if (depth > 0 && (group === 0xfffa || group === 0xfffc)) continue; // top-level only attributes
    const vr = lookupAttribute(tag)?.vr ?? 'UN';
    if (vr === 'SQ') {
      const entry = profileEntry(tag);
      const item: OutputElement[] = [];
      // Inside the item: a table attribute and (unless the sequence is one of references, kept
      // with its UIDs replaced) a free-text attribute the table does not list.
      const uid = valueFor('UI', marks);
      item.push({ kind: 'value', tag: 0x00081155, vr: 'UI', value: uid.value });
      marks.remember(0x00081155, uid.value);
      if (entry?.basic !== 'X/Z/U*') {
        const text = valueFor('LO', marks);
        item.push({ kind: 'value', tag: 0x00080104, vr: 'LO', value: text.value });
        marks.remember(0x00080104, text.value);
      }
      elements.push({ kind: 'sequence', tag, items: [{ elements: item }] });
      continue;
    }
    const { value } = valueFor(vr, marks);
    marks.remember(tag, value);
    elements.push({ kind: 'value', tag, vr, value });
  }
  // Private blocks: a creator, a value, a private sequence holding identity and more privates.
  const creator = marks.text();
  const privateText = valueFor('LO', marks).value;
  const privateBytes = valueFor('OB', marks).value;
  const nestedName = valueFor('PN', marks).value;
  const nestedPrivate = valueFor('LO', marks).value;
  const orphan = valueFor('LO', marks).value;
  marks.remember(0x00091001, privateText);
  marks.remember(0x00100010, nestedName);
  elements.push(
    { kind: 'value', tag: 0x00090010, vr: 'LO', value: asciiValue(creator) },
    { kind: 'value', tag: 0x00091001, vr: 'LO', value: privateText },
    { kind: 'value', tag: 0x00091002, vr: 'OB', value: privateBytes },
    {
      kind: 'sequence',
      tag: 0x00091003,
      items: [
        {
          elements: [
            { kind: 'value', tag: 0x00100010, vr: 'PN', value: nestedName },
            { kind: 'value', tag: 0x00110010, vr: 'LO', value: asciiValue(creator) },
            { kind: 'value', tag: 0x00111001, vr: 'LO', value: nestedPrivate },
          ],
        },
      ],
    },
    // A private element without its creator (seen on real discs).
    { kind: 'value', tag: 0x00131001, vr: 'LO', value: orphan },
  );
  // Overlays and curves (repeating groups).
  for (const group of [0x6000, 0x6002]) {
    const base = group << 16;
    elements.push(
      { kind: 'value', tag: base | 0x0010, vr: 'US', value: Uint8Array.of(8, 0) },
      { kind: 'value', tag: base | 0x0011, vr: 'US', value: Uint8Array.of(8, 0) },
      { kind: 'value', tag: base | 0x0022, vr: 'LO', value: valueFor('LO', marks).value },
      { kind: 'value', tag: base | 0x0040, vr: 'CS', value: asciiValue('G ') },
      { kind: 'value', tag: base | 0x0050, vr: 'SS', value: Uint8Array.of(1, 0, 1, 0) },
      { kind: 'value', tag: base | 0x0100, vr: 'US', value: Uint8Array.of(1, 0) },
      { kind: 'value', tag: base | 0x0102, vr: 'US', value: Uint8Array.of(0, 0) },
      { kind: 'value', tag: base | 0x1500, vr: 'LO', value: valueFor('LO', marks).value },
      { kind: 'value', tag: base | 0x3000, vr: 'OW', value: valueFor('OW', marks).value },
      { kind: 'value', tag: base | 0x4000, vr: 'LT', value: valueFor('LT', marks).value },
    );
  }
  elements.push(
    { kind: 'value', tag: 0x50000022, vr: 'LO', value: valueFor('LO', marks).value },
    { kind: 'value', tag: 0x50003000, vr: 'OW', value: valueFor('OW', marks).value },
  );
  return elements;
}

function meta(elements: OutputElement[]): Uint8Array {
  const body = encodeDataset({ elements });
  const group = new ByteWriter(16);
  group.u32(body.length);
  const out = new ByteWriter();
  out.bytes(new Uint8Array(128));
  out.ascii('DICM');
  const length = encodeDataset({
    elements: [{ kind: 'value', tag: 0x00020000, vr: 'UL', value: group.result() }],
  });
  out.bytes(length);
  out.bytes(body);
  return out.result();
}

/** The planted file, explicit VR little endian, with a small native image. */
export function plantedFile(): Planted {
  const marks = new Markers();
  const top = plantedSet(marks, 0);
  const nested = plantedSet(marks, 2);
  const inner: OutputDataset = { elements: nested };
  top.push({
    kind: 'sequence',
    tag: outerSequence,
    items: [{ elements: [{ kind: 'sequence', tag: innerSequence, items: [inner] }] }],
  });
  const sopInstance = top.find((element) => element.tag === 0x00080018);
  if (sopInstance?.kind !== 'value') throw new Error('no SOP Instance UID planted');
  const sopInstanceUid = new TextDecoder().decode(sopInstance.value);
  const instanceUids = top
    .filter((element) => [0x00080018, 0x0020000d, 0x0020000e, 0x00200052].includes(element.tag))
    .map((element) => (element.kind === 'value' ? new TextDecoder().decode(element.value) : ''));
  const image: OutputElement[] = [
    { kind: 'value', tag: 0x00080016, vr: 'UI', value: asciiValue('1.2.840.10008.5.1.4.1.1.2') },
    { kind: 'value', tag: 0x00080060, vr: 'CS', value: asciiValue('CT') },
    { kind: 'value', tag: 0x00280002, vr: 'US', value: Uint8Array.of(1, 0) },
    { kind: 'value', tag: 0x00280004, vr: 'CS', value: asciiValue('MONOCHROME2 ') },
    { kind: 'value', tag: 0x00280010, vr: 'US', value: Uint8Array.of(8, 0) },
    { kind: 'value', tag: 0x00280011, vr: 'US', value: Uint8Array.of(8, 0) },
    { kind: 'value', tag: 0x00280100, vr: 'US', value: Uint8Array.of(16, 0) },
    { kind: 'value', tag: 0x00280101, vr: 'US', value: Uint8Array.of(12, 0) },
    { kind: 'value', tag: 0x00280102, vr: 'US', value: Uint8Array.of(11, 0) },
    { kind: 'value', tag: 0x00280103, vr: 'US', value: Uint8Array.of(0, 0) },
    {
      kind: 'value',
      tag: 0x7fe00010,
      vr: 'OW',
      value: Uint8Array.from({ length: 128 }, (_, i) => (i * 7) & 0xff),
    },
  ];
  const dataset = encodeDataset({
    elements: [...top.filter((e) => !image.some((i) => i.tag === e.tag)), ...image],
  });
  const metaBytes = meta([
    { kind: 'value', tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) },
    { kind: 'value', tag: 0x00020002, vr: 'UI', value: asciiValue('1.2.840.10008.5.1.4.1.1.2') },
    { kind: 'value', tag: 0x00020003, vr: 'UI', value: asciiValue(sopInstanceUid) },
    { kind: 'value', tag: 0x00020010, vr: 'UI', value: asciiValue('1.2.840.10008.1.2.1') },
    { kind: 'value', tag: 0x00020012, vr: 'UI', value: asciiValue('1.2.3.4') },
    { kind: 'value', tag: 0x00020016, vr: 'AE', value: asciiValue(marks.text()) },
    { kind: 'value', tag: 0x00020100, vr: 'UI', value: valueFor('UI', marks).value },
    { kind: 'value', tag: 0x00020102, vr: 'OB', value: asciiValue(marks.text()) },
  ]);
  const bytes = new Uint8Array(metaBytes.length + dataset.length);
  bytes.set(metaBytes);
  bytes.set(dataset, metaBytes.length);
  return { bytes, markers: marks.markers, values: marks.values, sopInstanceUid, instanceUids };
}

/** A small Part 10 file (explicit VR little endian unless told) from output elements. */
export function part10(
  elements: OutputElement[],
  transferSyntaxUid = '1.2.840.10008.1.2.1',
  datasetBytes?: Uint8Array,
): Uint8Array {
  const text = (tag: number): string => {
    const element = elements.find((candidate) => candidate.tag === tag);
    return element?.kind === 'value' ? new TextDecoder().decode(element.value) : '';
  };
  const metaBytes = meta([
    { kind: 'value', tag: 0x00020001, vr: 'OB', value: Uint8Array.of(0, 1) },
    { kind: 'value', tag: 0x00020002, vr: 'UI', value: asciiValue(text(0x00080016)) },
    { kind: 'value', tag: 0x00020003, vr: 'UI', value: asciiValue(text(0x00080018)) },
    { kind: 'value', tag: 0x00020010, vr: 'UI', value: asciiValue(transferSyntaxUid) },
  ]);
  const dataset = datasetBytes ?? encodeDataset({ elements });
  const bytes = new Uint8Array(metaBytes.length + dataset.length);
  bytes.set(metaBytes);
  bytes.set(dataset, metaBytes.length);
  return bytes;
}

/** Shorthand for a text element. */
export function text(tag: number, vr: string, value: string): OutputElement {
  return { kind: 'value', tag, vr, value: asciiValue(value) };
}

/** Shorthand for a US element. */
export function us(tag: number, value: number): OutputElement {
  return { kind: 'value', tag, vr: 'US', value: Uint8Array.of(value & 0xff, value >> 8) };
}

/** A native 16-bit MONOCHROME2 image of `frames` frames, pixel value = index & 0xffff. */
export function image(
  rows: number,
  columns: number,
  frames = 1,
  extra: OutputElement[] = [],
): OutputElement[] {
  const pixels = new Uint8Array(rows * columns * frames * 2);
  for (let i = 0; i < pixels.length / 2; i++) {
    pixels[i * 2] = (i + 1) & 0xff;
    pixels[i * 2 + 1] = 0x40 | (((i + 1) >> 8) & 0x0f);
  }
  return [
    text(0x00080016, 'UI', '1.2.840.10008.5.1.4.1.1.7'),
    text(0x00080018, 'UI', '1.2.826.0.1.3680043.10.999.1'),
    text(0x00080060, 'CS', 'OT'),
    text(0x00100010, 'PN', 'DOE^JANE'),
    text(0x00100020, 'LO', 'ID123456'),
    text(0x0020000d, 'UI', '1.2.826.0.1.3680043.10.999.2'),
    text(0x0020000e, 'UI', '1.2.826.0.1.3680043.10.999.3'),
    us(0x00280002, 1),
    text(0x00280004, 'CS', 'MONOCHROME2'),
    ...(frames > 1 ? [text(0x00280008, 'IS', String(frames))] : []),
    us(0x00280010, rows),
    us(0x00280011, columns),
    us(0x00280100, 16),
    us(0x00280101, 16),
    us(0x00280102, 15),
    us(0x00280103, 0),
    ...extra,
    { kind: 'value', tag: 0x7fe00010, vr: 'OW', value: pixels },
  ];
}
