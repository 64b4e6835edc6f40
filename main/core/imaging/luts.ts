/**
 * The grayscale pipeline's lookup stages (PS3.3 C.11, PS3.4 N.2): Modality LUT (rescale or
 * LUT Sequence, C.11.1), VOI LUT (window with its function, or LUT Sequence, C.11.2), and
 * Palette Color LUTs including segmented ones (C.7.6.3.1.5-6, C.7.9.2).
 */
import type { DicomDataset } from '../dicom/parse.ts';
import { getItems, getText, valueBytes } from '../dicom/values.ts';
import { frameScope, getNumber, getWords, ImageTag } from './attributes.ts';
import type { VoiFunction } from './types.ts';

/** A LUT per PS3.3 C.11.1.1: entries, the stored value of the first entry, bits per entry. */
export interface Lut {
  readonly firstMapped: number;
  readonly bits: number;
  readonly data: Uint16Array;
}

export function lookup(lut: Lut, value: number): number {
  const index = Math.round(value) - lut.firstMapped;
  if (index <= 0) return lut.data[0] ?? 0;
  if (index >= lut.data.length) return lut.data[lut.data.length - 1] ?? 0;
  return lut.data[index]!;
}

/**
 * Reads a LUT item: Descriptor (entries, first mapped value, bits) and Data. The first mapped
 * value is SS when the pixels are signed (C.11.1.1.1); 0 entries means 65536.
 */
export function readLut(
  item: DicomDataset,
  descriptorTag: number,
  dataTag: number,
  signedInput: boolean,
): Lut | undefined {
  const descriptor = getWords(item, descriptorTag);
  if (!descriptor || descriptor.length < 3) return undefined;
  const entries = descriptor[0] === 0 ? 65536 : descriptor[0]!;
  const firstMapped =
    signedInput && descriptor[1]! >= 0x8000 ? descriptor[1]! - 0x10000 : descriptor[1]!;
  let bits = descriptor[2]!;
  const element = item.elements.get(dataTag);
  if (!element) return undefined;
  const bytes = valueBytes(item, element);
  let data: Uint16Array;
  if (bits <= 8 && bytes.length === entries) {
    // 8-bit entries packed two to a word (seen in palette LUTs written as OB).
    data = Uint16Array.from(bytes);
  } else {
    data = getWords(item, dataTag) ?? new Uint16Array(0);
    if (data.length > entries) data = data.subarray(0, entries);
  }
  if (bits !== 8 && bits !== 16) bits = 16;
  // Some writers say 16 bits yet store 8-bit values (dcmtk's +Mv heuristics): trust the data.
  if (bits === 16 && data.every((value) => value < 256)) bits = 8;
  return { firstMapped, bits, data };
}

export type ModalityTransform =
  | { readonly kind: 'identity' }
  | { readonly kind: 'rescale'; readonly slope: number; readonly intercept: number }
  | { readonly kind: 'lut'; readonly lut: Lut };

/** The Modality LUT for a frame: functional groups first, then the top level (C.7.6.16.2.9). */
export function modalityTransform(
  dataset: DicomDataset,
  frame: number,
  signedInput: boolean,
): ModalityTransform {
  const scope = frameScope(
    dataset,
    frame,
    ImageTag.PixelValueTransformationSequence,
    ImageTag.RescaleSlope,
  );
  const slope = getNumber(scope, ImageTag.RescaleSlope);
  const intercept = getNumber(scope, ImageTag.RescaleIntercept);
  if (slope !== undefined || intercept !== undefined) {
    const rescale = { kind: 'rescale' as const, slope: slope || 1, intercept: intercept ?? 0 };
    return rescale.slope === 1 && rescale.intercept === 0 ? { kind: 'identity' } : rescale;
  }
  const item = getItems(dataset, ImageTag.ModalityLutSequence)[0];
  if (item) {
    const lut = readLut(item, ImageTag.LutDescriptor, ImageTag.LutData, signedInput);
    if (lut) return { kind: 'lut', lut };
  }
  return { kind: 'identity' };
}

export function applyModality(transform: ModalityTransform, value: number): number {
  switch (transform.kind) {
    case 'identity':
      return value;
    case 'rescale':
      return value * transform.slope + transform.intercept;
    case 'lut':
      return lookup(transform.lut, value);
  }
}

export type VoiTransform =
  | {
      readonly kind: 'window';
      readonly center: number;
      readonly width: number;
      readonly function: VoiFunction;
    }
  | { readonly kind: 'lut'; readonly lut: Lut };

/** The header's VOI for a frame: first window (C.11.2.1.2), else the first VOI LUT. */
export function headerVoi(dataset: DicomDataset, frame: number): VoiTransform | undefined {
  const scope = frameScope(dataset, frame, ImageTag.FrameVoiLutSequence, ImageTag.WindowCenter);
  const center = getNumber(scope, ImageTag.WindowCenter);
  const width = getNumber(scope, ImageTag.WindowWidth);
  const functionText = getText(scope, ImageTag.VoiLutFunction)?.toUpperCase();
  const voiFunction: VoiFunction =
    functionText === 'SIGMOID'
      ? 'SIGMOID'
      : functionText === 'LINEAR_EXACT'
        ? 'LINEAR_EXACT'
        : 'LINEAR';
  if (center !== undefined && width !== undefined && width > 0) {
    return { kind: 'window', center, width, function: voiFunction };
  }
  const item = getItems(dataset, ImageTag.VoiLutSequence)[0];
  if (item) {
    const lut = readLut(item, ImageTag.LutDescriptor, ImageTag.LutData, true);
    if (lut && lut.data.length > 0) return { kind: 'lut', lut };
  }
  return undefined;
}

/** Window by min and max (as dcmtk's min-max window: the whole range maps to 0..1). */
export function minMaxWindow(min: number, max: number): VoiTransform & { kind: 'window' } {
  return {
    kind: 'window',
    center: (min + max + 1) / 2,
    width: Math.max(1, max - min + 1),
    function: 'LINEAR',
  };
}

/** VOI output in 0..1 (C.11.2.1.2.1 LINEAR, C.11.2.1.3.2 LINEAR_EXACT, C.11.2.1.3.1 SIGMOID). */
export function applyVoi(voi: VoiTransform, value: number): number {
  if (voi.kind === 'lut') return lookup(voi.lut, value) / (2 ** voi.lut.bits - 1);
  const { center, width } = voi;
  switch (voi.function) {
    case 'LINEAR': {
      if (width <= 1) return value < center - 0.5 ? 0 : 1;
      const y = (value - (center - 0.5)) / (width - 1) + 0.5;
      return y <= 0 ? 0 : y >= 1 ? 1 : y;
    }
    case 'LINEAR_EXACT': {
      const y = (value - center) / width + 0.5;
      return y <= 0 ? 0 : y >= 1 ? 1 : y;
    }
    case 'SIGMOID':
      return 1 / (1 + Math.exp((-4 * (value - center)) / width));
  }
}

export interface PaletteLuts {
  readonly red: Lut;
  readonly green: Lut;
  readonly blue: Lut;
}

/** The three palette LUTs (C.7.6.3.1.5), segmented ones expanded (C.7.9.2). */
export function readPalette(dataset: DicomDataset, signedInput: boolean): PaletteLuts | undefined {
  const channel = (
    descriptorTag: number,
    dataTag: number,
    segmentedTag: number,
  ): Lut | undefined => {
    if (dataset.elements.has(dataTag)) return readLut(dataset, descriptorTag, dataTag, signedInput);
    const descriptor = getWords(dataset, descriptorTag);
    const segments = getWords(dataset, segmentedTag);
    if (!descriptor || descriptor.length < 3 || !segments) return undefined;
    const entries = descriptor[0] === 0 ? 65536 : descriptor[0]!;
    const firstMapped =
      signedInput && descriptor[1]! >= 0x8000 ? descriptor[1]! - 0x10000 : descriptor[1]!;
    return {
      firstMapped,
      bits: descriptor[2] === 8 ? 8 : 16,
      data: expandSegmented(segments, entries),
    };
  };
  const red = channel(
    ImageTag.RedPaletteLutDescriptor,
    ImageTag.RedPaletteLutData,
    ImageTag.SegmentedRedPaletteLutData,
  );
  const green = channel(
    ImageTag.GreenPaletteLutDescriptor,
    ImageTag.GreenPaletteLutData,
    ImageTag.SegmentedGreenPaletteLutData,
  );
  const blue = channel(
    ImageTag.BluePaletteLutDescriptor,
    ImageTag.BluePaletteLutData,
    ImageTag.SegmentedBluePaletteLutData,
  );
  return red && green && blue ? { red, green, blue } : undefined;
}

/**
 * Segmented palette data (C.7.9.2): discrete (opcode 0), linear (1) and indirect (2)
 * segments. Indirect segments copy earlier segments by their offset in words.
 */
export function expandSegmented(words: Uint16Array, entries: number): Uint16Array {
  const out: number[] = [];
  const segmentStarts: number[] = [];
  const run = (from: number, to: number, depth: number): void => {
    let pos = from;
    while (pos + 1 < to && out.length < entries) {
      segmentStarts.push(pos);
      const opcode = words[pos]!;
      const length = words[pos + 1]!;
      if (opcode === 0) {
        for (let i = 0; i < length; i++) out.push(words[pos + 2 + i] ?? 0);
        pos += 2 + length;
      } else if (opcode === 1) {
        const start = out.at(-1) ?? 0;
        const end = words[pos + 2] ?? 0;
        for (let i = 1; i <= length; i++)
          out.push(Math.round(start + ((end - start) * i) / length));
        pos += 3;
      } else if (opcode === 2 && depth === 0) {
        const offset = (words[pos + 2] ?? 0) | ((words[pos + 3] ?? 0) << 16);
        let inner = offset;
        for (let i = 0; i < length && inner + 1 < words.length; i++) {
          const opcodeInner = words[inner]!;
          const size = opcodeInner === 0 ? 2 + words[inner + 1]! : opcodeInner === 1 ? 3 : 4;
          run(inner, inner + size, depth + 1);
          inner += size;
        }
        pos += 4;
      } else {
        return;
      }
    }
  };
  run(0, words.length, 0);
  const data = new Uint16Array(entries);
  for (let i = 0; i < entries; i++) data[i] = out[i] ?? out.at(-1) ?? 0;
  return data;
}
