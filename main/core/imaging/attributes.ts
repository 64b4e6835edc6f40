/**
 * Image attributes the imaging layer reads (PS3.6), and lookups that follow the
 * multi-frame functional groups (PS3.3 C.7.6.16): per-frame item first, then shared, then
 * the top-level dataset.
 */
import type { DicomDataset, DicomElement } from '../dicom/parse.ts';
import { getItems, getTexts, valueBytes } from '../dicom/values.ts';

export const ImageTag = {
  SamplesPerPixel: 0x00280002,
  PhotometricInterpretation: 0x00280004,
  PlanarConfiguration: 0x00280006,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  Columns: 0x00280011,
  BitsAllocated: 0x00280100,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  WindowCenter: 0x00281050,
  WindowWidth: 0x00281051,
  RescaleIntercept: 0x00281052,
  RescaleSlope: 0x00281053,
  VoiLutFunction: 0x00281056,
  RedPaletteLutDescriptor: 0x00281101,
  GreenPaletteLutDescriptor: 0x00281102,
  BluePaletteLutDescriptor: 0x00281103,
  RedPaletteLutData: 0x00281201,
  GreenPaletteLutData: 0x00281202,
  BluePaletteLutData: 0x00281203,
  SegmentedRedPaletteLutData: 0x00281221,
  SegmentedGreenPaletteLutData: 0x00281222,
  SegmentedBluePaletteLutData: 0x00281223,
  ModalityLutSequence: 0x00283000,
  LutDescriptor: 0x00283002,
  ModalityLutType: 0x00283004,
  LutData: 0x00283006,
  VoiLutSequence: 0x00283010,
  FrameVoiLutSequence: 0x00289132,
  PixelValueTransformationSequence: 0x00289145,
  SharedFunctionalGroupsSequence: 0x52009229,
  PerFrameFunctionalGroupsSequence: 0x52009230,
  ExtendedOffsetTable: 0x7fe00001,
  ExtendedOffsetTableLengths: 0x7fe00002,
} as const;

/**
 * The dataset holding `tag` for `frame`: the functional group macro `groupTag` in the
 * per-frame item, else in the shared item, else the top level (PS3.3 C.7.6.16.1).
 */
export function frameScope(
  dataset: DicomDataset,
  frame: number,
  groupTag: number,
  tag: number,
): DicomDataset {
  const perFrame = getItems(dataset, ImageTag.PerFrameFunctionalGroupsSequence)[frame];
  const shared = getItems(dataset, ImageTag.SharedFunctionalGroupsSequence)[0];
  for (const container of [perFrame, shared]) {
    const macro = container ? getItems(container, groupTag)[0] : undefined;
    if (macro?.elements.has(tag)) return macro;
  }
  return dataset;
}

/** First value of a DS/IS/FL/FD attribute as a number; undefined when absent or not numeric. */
export function getNumber(dataset: DicomDataset, tag: number, index = 0): number | undefined {
  const element = dataset.elements.get(tag);
  if (!element || element.items) return undefined;
  if (element.vr === 'FL' || element.vr === 'FD') {
    const size = element.vr === 'FL' ? 4 : 8;
    if (element.length < (index + 1) * size) return undefined;
    const view = dataView(dataset, element);
    return size === 4
      ? view.getFloat32(index * 4, dataset.littleEndian)
      : view.getFloat64(index * 8, dataset.littleEndian);
  }
  const text = getTexts(dataset, tag)[index];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text.trim());
  return Number.isFinite(value) ? value : undefined;
}

export function dataView(dataset: DicomDataset, element: DicomElement): DataView {
  const bytes = valueBytes(dataset, element);
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Unsigned 16-bit words of a US/OW/SS value (LUT descriptors and data). */
export function getWords(dataset: DicomDataset, tag: number): Uint16Array | undefined {
  const element = dataset.elements.get(tag);
  if (!element || element.items) return undefined;
  const view = dataView(dataset, element);
  const words = new Uint16Array(Math.floor(element.length / 2));
  for (let i = 0; i < words.length; i++) words[i] = view.getUint16(i * 2, dataset.littleEndian);
  return words;
}
