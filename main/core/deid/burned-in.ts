/**
 * Instances that may carry identity in their pixels (PS3.15 E.3.1 Clean Pixel Data, and the
 * kinds of images where burned-in text is usual). The user must confirm them or mask them
 * before they leave the computer.
 */
import { Tag } from '../dicom/dictionary.ts';
import type { DicomDataset } from '../dicom/parse.ts';
import { getText, getTexts } from '../dicom/values.ts';

export type BurnedInReason =
  | 'burned-in-annotation'
  | 'ultrasound'
  | 'angiography'
  | 'secondary-capture'
  | 'other-modality'
  | 'derived-image'
  | 'screen-save'
  | 'encapsulated-document'
  | 'overlay-kept';

export interface BurnedInFlag {
  readonly reason: BurnedInReason;
  /** Plain words, no patient values. */
  readonly message: string;
}

const messages: Readonly<Record<BurnedInReason, string>> = {
  'burned-in-annotation': 'The image says it has text burned into its pixels.',
  ultrasound: 'Ultrasound images usually show the patient name and dates in the image.',
  angiography: 'X-ray angiography and fluoroscopy images often show text in the image.',
  'secondary-capture': 'A captured screen or scanned document: it may show names in the image.',
  'other-modality': 'An image of an unspecified kind: it may show names in the image.',
  'derived-image': 'A derived or saved view: it may have text drawn into it.',
  'screen-save': 'A saved screen: it may show names in the image.',
  'encapsulated-document': 'A document (PDF or CDA) inside the file: it may name the patient.',
  'overlay-kept': 'Overlays were kept (Clean Graphics): they may carry drawn text.',
};

const secondaryCapture = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.7(\.[1-4])?$/u;
const ultrasound = new Set([
  '1.2.840.10008.5.1.4.1.1.6.1',
  '1.2.840.10008.5.1.4.1.1.6.2',
  '1.2.840.10008.5.1.4.1.1.3.1',
  '1.2.840.10008.5.1.4.1.1.6',
  '1.2.840.10008.5.1.4.1.1.3',
]);
const angiography = new Set([
  '1.2.840.10008.5.1.4.1.1.12.1',
  '1.2.840.10008.5.1.4.1.1.12.1.1',
  '1.2.840.10008.5.1.4.1.1.12.2',
  '1.2.840.10008.5.1.4.1.1.12.2.1',
  '1.2.840.10008.5.1.4.1.1.12.3',
]);
const encapsulatedDocument = /^1\.2\.840\.10008\.5\.1\.4\.1\.1\.104\.\d+$/u;

export function burnedInFlags(
  dataset: DicomDataset,
  sopClassUid: string,
  overlaysKept: boolean,
): BurnedInFlag[] {
  const reasons = new Set<BurnedInReason>();
  const modality = (getText(dataset, Tag.Modality) ?? '').toUpperCase();
  if ((getText(dataset, Tag.BurnedInAnnotation) ?? '').toUpperCase() === 'YES') {
    reasons.add('burned-in-annotation');
  }
  if (modality === 'US' || modality === 'IVUS' || ultrasound.has(sopClassUid))
    reasons.add('ultrasound');
  if (modality === 'XA' || modality === 'RF' || angiography.has(sopClassUid))
    reasons.add('angiography');
  if (secondaryCapture.test(sopClassUid)) reasons.add('secondary-capture');
  if (modality === 'OT' || modality === 'DOC') reasons.add('other-modality');
  if (encapsulatedDocument.test(sopClassUid) || dataset.elements.has(0x00420011)) {
    reasons.add('encapsulated-document');
  }
  const imageType = getTexts(dataset, Tag.ImageType).map((value) => value.toUpperCase());
  if (imageType[0] === 'DERIVED') reasons.add('derived-image');
  if (imageType.some((value) => value.includes('SAVE') || value.includes('SCREEN'))) {
    reasons.add('screen-save');
  }
  if (overlaysKept) reasons.add('overlay-kept');
  return [...reasons].map((reason) => ({ reason, message: messages[reason] }));
}

/** Overlays kept in the output (Clean Graphics keeps them): their bitmaps may carry text. */
export function hasOverlays(dataset: DicomDataset): boolean {
  for (const tag of dataset.elements.keys()) {
    const group = tag >>> 16;
    if ((group & 0xff00) === 0x6000 && group % 2 === 0 && (tag & 0xffff) === 0x3000) return true;
  }
  return false;
}
