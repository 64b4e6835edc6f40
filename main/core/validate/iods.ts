/**
 * The attributes each IOD patients bring must carry, by module (PS3.3 Annex A tables, module
 * sections cited). Only unconditional Type 1 (present, not empty) and Type 2 (present, may be
 * empty) attributes of mandatory modules at the top level of the dataset are listed: conditional
 * types (1C/2C) depend on facts a header-only read cannot always settle, and attributes inside
 * sequence items are left to the receiving archive (docs/validation.md lists what is tolerated).
 */
import { dictionaryData } from '../dicom/dictionary.generated.ts';

type Requirement = readonly [keyword: string, type: 1 | 2];

// PS3.3 C.7.1.1 Patient, C.7.2.1 General Study, C.7.3.1 General Series.
const patient: readonly Requirement[] = [
  ['PatientName', 2],
  ['PatientID', 2],
  ['PatientBirthDate', 2],
  ['PatientSex', 2],
];
const generalStudy: readonly Requirement[] = [
  ['StudyInstanceUID', 1],
  ['StudyDate', 2],
  ['StudyTime', 2],
  ['ReferringPhysicianName', 2],
  ['StudyID', 2],
  ['AccessionNumber', 2],
];
const generalSeries: readonly Requirement[] = [
  ['Modality', 1],
  ['SeriesInstanceUID', 1],
  ['SeriesNumber', 2],
];
// C.7.4.1 Frame of Reference, C.7.5.1 General Equipment, C.7.5.2 Enhanced General Equipment.
const frameOfReference: readonly Requirement[] = [
  ['FrameOfReferenceUID', 1],
  ['PositionReferenceIndicator', 2],
];
const generalEquipment: readonly Requirement[] = [['Manufacturer', 2]];
const enhancedEquipment: readonly Requirement[] = [
  ['Manufacturer', 1],
  ['ManufacturerModelName', 1],
  ['DeviceSerialNumber', 1],
  ['SoftwareVersions', 1],
];
// C.7.6.1 General Image, C.7.6.2 Image Plane, C.7.6.3 Image Pixel, C.12.1 SOP Common.
const generalImage: readonly Requirement[] = [['InstanceNumber', 2]];
const imagePlane: readonly Requirement[] = [
  ['PixelSpacing', 1],
  ['ImageOrientationPatient', 1],
  ['ImagePositionPatient', 1],
  ['SliceThickness', 2],
];
export const imagePixel: readonly Requirement[] = [
  ['SamplesPerPixel', 1],
  ['PhotometricInterpretation', 1],
  ['Rows', 1],
  ['Columns', 1],
  ['BitsAllocated', 1],
  ['BitsStored', 1],
  ['HighBit', 1],
  ['PixelRepresentation', 1],
];
const sopCommon: readonly Requirement[] = [
  ['SOPClassUID', 1],
  ['SOPInstanceUID', 1],
];
// C.7.6.6 Multi-frame, C.7.6.16 Multi-frame Functional Groups.
const multiFrame: readonly Requirement[] = [
  ['NumberOfFrames', 1],
  ['FrameIncrementPointer', 1],
];
const functionalGroups: readonly Requirement[] = [
  ['NumberOfFrames', 1],
  ['PerFrameFunctionalGroupsSequence', 1],
  ['InstanceNumber', 1],
  ['ContentDate', 1],
  ['ContentTime', 1],
];
// C.8.6.1 SC Equipment.
const scEquipment: readonly Requirement[] = [['ConversionType', 1]];

// Modality-specific modules.
const ctImage: readonly Requirement[] = [
  ['ImageType', 1],
  ['KVP', 2],
  ['AcquisitionNumber', 2],
  ['RescaleIntercept', 1],
  ['RescaleSlope', 1],
]; // C.8.2.1
const mrImage: readonly Requirement[] = [
  ['ImageType', 1],
  ['ScanningSequence', 1],
  ['SequenceVariant', 1],
  ['ScanOptions', 2],
  ['MRAcquisitionType', 2],
  ['EchoTime', 2],
  ['EchoTrainLength', 2],
]; // C.8.3.1
const crSeries: readonly Requirement[] = [
  ['BodyPartExamined', 2],
  ['ViewPosition', 2],
]; // C.8.1.1
const dxImage: readonly Requirement[] = [
  ['ImageType', 1],
  ['PixelIntensityRelationship', 1],
  ['PixelIntensityRelationshipSign', 1],
  ['RescaleIntercept', 1],
  ['RescaleSlope', 1],
  ['RescaleType', 1],
  ['PresentationLUTShape', 1],
  ['BurnedInAnnotation', 1],
  ['ImagerPixelSpacing', 1],
  ['ImageLaterality', 1],
]; // C.8.11.3 DX Image, C.8.11.4 DX Detector, C.8.11.5 DX Anatomy Imaged
const mgImage: readonly Requirement[] = [['ViewCodeSequence', 1]]; // C.8.11.7
const xrayImage: readonly Requirement[] = [
  ['ImageType', 1],
  ['PixelIntensityRelationship', 1],
  ['KVP', 2],
  ['RadiationSetting', 1],
]; // C.8.7.1 X-Ray Image, C.8.7.2 X-Ray Acquisition
const nmImage: readonly Requirement[] = [['ImageType', 1]]; // C.8.4.8
const petImage: readonly Requirement[] = [
  ['SeriesDate', 1],
  ['SeriesTime', 1],
  ['Units', 1],
  ['CountsSource', 1],
  ['SeriesType', 1],
  ['DecayCorrection', 1],
  ['NumberOfSlices', 1],
  ['CorrectedImage', 2],
  ['ImageType', 1],
  ['RescaleIntercept', 1],
  ['RescaleSlope', 1],
  ['FrameReferenceTime', 1],
  ['ImageIndex', 1],
  ['AcquisitionDate', 2],
  ['AcquisitionTime', 2],
  ['ActualFrameDuration', 2],
  ['RadiopharmaceuticalInformationSequence', 2],
]; // C.8.9.1 PET Series, C.8.9.4 PET Image, C.8.9.2 PET Isotope
// C.17.1 SR Document Series, C.17.2 SR Document General, C.17.3 SR Document Content.
const srDocument: readonly Requirement[] = [
  ['Modality', 1],
  ['SeriesInstanceUID', 1],
  ['SeriesNumber', 1],
  ['InstanceNumber', 1],
  ['CompletionFlag', 1],
  ['VerificationFlag', 1],
  ['ContentDate', 1],
  ['ContentTime', 1],
  ['ValueType', 1],
];
// A.45 Encapsulated PDF and kin: C.24.1 Encapsulated Document Series, C.24.2 Encapsulated Document.
const encapsulatedDocument: readonly Requirement[] = [
  ['Modality', 1],
  ['SeriesInstanceUID', 1],
  ['SeriesNumber', 1],
  ['InstanceNumber', 1],
  ['ContentDate', 2],
  ['ContentTime', 2],
  ['AcquisitionDateTime', 2],
  ['BurnedInAnnotation', 1],
  ['DocumentTitle', 2],
  ['ConceptNameCodeSequence', 2],
  ['MIMETypeOfEncapsulatedDocument', 1],
  ['EncapsulatedDocument', 1],
];
// C.8.8.1 RT Series and the RT objects' own modules (C.8.8.3, C.8.8.5, C.8.8.6, C.8.8.8, C.8.8.9).
const rtSeries: readonly Requirement[] = [
  ['Modality', 1],
  ['SeriesInstanceUID', 1],
  ['SeriesNumber', 2],
  ['OperatorsName', 2],
];
const rtDose: readonly Requirement[] = [
  ['DoseUnits', 1],
  ['DoseType', 1],
  ['DoseSummationType', 1],
];
const rtStructureSet: readonly Requirement[] = [
  ['StructureSetLabel', 1],
  ['StructureSetDate', 2],
  ['StructureSetTime', 2],
  ['StructureSetROISequence', 1],
  ['ROIContourSequence', 1],
  ['RTROIObservationsSequence', 1],
];
const rtPlan: readonly Requirement[] = [
  ['RTPlanLabel', 1],
  ['RTPlanDate', 2],
  ['RTPlanTime', 2],
  ['RTPlanGeometry', 1],
];
const rtImage: readonly Requirement[] = [
  ['RTImageLabel', 1],
  ['RTImagePlane', 1],
];

const commonImage = [
  patient,
  generalStudy,
  generalSeries,
  generalEquipment,
  generalImage,
  imagePixel,
  sopCommon,
];

/** What an IOD requires; `image`: Pixel Data is mandatory (PS3.3 C.7.6.3 for image IODs). */
interface IodSpec {
  readonly modules: ReadonlyArray<readonly Requirement[]>;
  readonly image: boolean;
}

const byIod: Record<string, IodSpec> = {
  'CT Image': { modules: [...commonImage, frameOfReference, imagePlane, ctImage], image: true },
  'MR Image': { modules: [...commonImage, frameOfReference, imagePlane, mrImage], image: true },
  'Computed Radiography Image': { modules: [...commonImage, crSeries], image: true },
  'Digital X-Ray Image': { modules: [...commonImage, dxImage], image: true },
  'Digital Mammography X-Ray Image': { modules: [...commonImage, dxImage, mgImage], image: true },
  'Digital Intra-Oral X-Ray Image': { modules: [...commonImage, dxImage], image: true },
  'Ultrasound Image': { modules: commonImage, image: true },
  'Ultrasound Multi-frame Image': { modules: [...commonImage, multiFrame], image: true },
  'X-Ray Angiographic Image': { modules: [...commonImage, xrayImage], image: true },
  'X-Ray Radiofluoroscopic Image': { modules: [...commonImage, xrayImage], image: true },
  'Nuclear Medicine Image': { modules: [...commonImage, multiFrame, nmImage], image: true },
  'Positron Emission Tomography Image': {
    modules: [...commonImage, frameOfReference, imagePlane, petImage],
    image: true,
  },
  'Secondary Capture Image': {
    modules: [
      patient,
      generalStudy,
      generalSeries,
      generalImage,
      imagePixel,
      scEquipment,
      sopCommon,
    ],
    image: true,
  },
  'RT Dose': {
    modules: [
      patient,
      generalStudy,
      rtSeries,
      generalEquipment,
      frameOfReference,
      rtDose,
      sopCommon,
    ],
    image: false,
  },
  'RT Structure Set': {
    modules: [patient, generalStudy, rtSeries, generalEquipment, rtStructureSet, sopCommon],
    image: false,
  },
  'RT Plan': {
    modules: [patient, generalStudy, rtSeries, generalEquipment, rtPlan, sopCommon],
    image: false,
  },
  'RT Ion Plan': {
    modules: [patient, generalStudy, rtSeries, generalEquipment, rtPlan, sopCommon],
    image: false,
  },
  'RT Image': {
    modules: [
      patient,
      generalStudy,
      rtSeries,
      generalEquipment,
      generalImage,
      imagePixel,
      rtImage,
      sopCommon,
    ],
    image: true,
  },
};

const multiFrameSc = {
  modules: [
    patient,
    generalStudy,
    generalSeries,
    generalImage,
    imagePixel,
    scEquipment,
    multiFrame,
    sopCommon,
  ],
  image: true,
};
const srSpec: IodSpec = {
  modules: [patient, generalStudy, generalEquipment, srDocument, sopCommon],
  image: false,
};
const documentSpec: IodSpec = {
  modules: [patient, generalStudy, generalEquipment, scEquipment, encapsulatedDocument, sopCommon],
  image: false,
};
const enhancedSpec: IodSpec = {
  modules: [
    patient,
    generalStudy,
    generalSeries,
    enhancedEquipment,
    imagePixel,
    functionalGroups,
    sopCommon,
  ],
  image: true,
};
const genericImage: IodSpec = { modules: commonImage, image: true };
const rtGeneric: IodSpec = {
  modules: [patient, generalStudy, rtSeries, generalEquipment, sopCommon],
  image: false,
};
const otherComposite: IodSpec = { modules: [patient, generalStudy, sopCommon], image: false };

/** The kinds of object Ferry's rules treat apart (privacy checks, pixel data). */
export type IodFamily = 'image' | 'sr' | 'document' | 'rt' | 'other';

export interface ResolvedIod {
  readonly family: IodFamily;
  readonly type1: readonly number[];
  readonly type2: readonly number[];
  readonly image: boolean;
}

function specFor(iod: string): { spec: IodSpec; family: IodFamily } {
  const exact = byIod[iod];
  if (exact)
    return { spec: exact, family: iod.startsWith('RT ') ? 'rt' : exact.image ? 'image' : 'other' };
  if (/^Multi-frame .* Secondary Capture Image$/u.test(iod))
    return { spec: multiFrameSc, family: 'image' };
  if (/\bSR\b|^Key Object Selection|SR Document$/u.test(iod)) return { spec: srSpec, family: 'sr' };
  if (iod.startsWith('Encapsulated ')) return { spec: documentSpec, family: 'document' };
  if (iod.startsWith('RT ')) return { spec: rtGeneric, family: 'rt' };
  if (
    /^(Enhanced|Legacy Converted Enhanced) .*Image$|^(Breast Tomosynthesis Image|Segmentation|Parametric Map)$/u.test(
      iod,
    )
  ) {
    return { spec: enhancedSpec, family: 'image' };
  }
  if (/Image$/u.test(iod)) return { spec: genericImage, family: 'image' };
  return { spec: otherComposite, family: 'other' };
}

let keywordTags: Map<string, number> | undefined;

/** PS3.6 keyword -> tag, for the keywords the tables above use. */
export function tagOfKeyword(keyword: string): number {
  if (!keywordTags) {
    keywordTags = new Map();
    for (const line of dictionaryData.split('\n')) {
      const [tagHex = '', , name = '', , , range] = line.split('|');
      if (!range && name) keywordTags.set(name, Number.parseInt(tagHex, 16) >>> 0);
    }
  }
  const tag = keywordTags.get(keyword);
  if (tag === undefined) throw new Error(`unknown PS3.6 keyword ${keyword}`);
  return tag;
}

const resolved = new Map<string, ResolvedIod>();

/** The requirements of an IOD by its PS3.3 name; unknown names get the composite minimum. */
export function requirementsOf(iod: string): ResolvedIod {
  const cached = resolved.get(iod);
  if (cached) return cached;
  const { spec, family } = specFor(iod);
  // An attribute in two modules counts once, with the stricter type.
  const types = new Map<number, 1 | 2>();
  for (const module of spec.modules) {
    for (const [keyword, type] of module) {
      const tag = tagOfKeyword(keyword);
      types.set(tag, Math.min(type, types.get(tag) ?? 2) as 1 | 2);
    }
  }
  const type1 = [...types].filter(([, type]) => type === 1).map(([tag]) => tag);
  const type2 = [...types].filter(([, type]) => type === 2).map(([tag]) => tag);
  const result = { family, type1, type2, image: spec.image };
  resolved.set(iod, result);
  return result;
}
