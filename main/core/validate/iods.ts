/**
 * The attributes each IOD patients bring must carry, by module (PS3.3 Annex A tables, module
 * sections cited), as data: unconditional Type 1 (present, not empty) and Type 2 (present, may be
 * empty) attributes of the mandatory modules at the top level of the dataset; next to each module
 * its conditional (1C/2C) requirements, the attributes it forbids in some situations, and its
 * enumerated values and defined terms; then the attributes required inside the items of the
 * sequences those IODs use (code, reference and evidence items, RT structure sets).
 *
 * `requirementsOf` compiles all of it once per IOD into tag-keyed tables, so the rules that run
 * per instance (instance-rules.ts, values.ts) do map lookups and byte comparisons only.
 */
import { dictionaryData } from '../dicom/dictionary.generated.ts';

type Requirement = readonly [keyword: string, type: 1 | 2];

/** A fact a conditional requirement depends on (PS3.3's "Required if …"). */
export type Condition =
  /** Present and not empty. */
  | { readonly kind: 'present'; readonly keyword: string }
  /** Absent or empty. */
  | { readonly kind: 'absent'; readonly keyword: string }
  /** Value 1 is one of `values` (CS, padding ignored). */
  | { readonly kind: 'equals'; readonly keyword: string; readonly values: readonly string[] }
  /** Value 1 is an integer greater than `value`. */
  | { readonly kind: 'above'; readonly keyword: string; readonly value: number }
  /** Text beyond ASCII in a dataset without a Specific Character Set (PS3.5 6.1.2.3). */
  | { readonly kind: 'non-ascii-text' };

const present = (keyword: string): Condition => ({ kind: 'present', keyword });
const absent = (keyword: string): Condition => ({ kind: 'absent', keyword });
const equals = (keyword: string, ...values: string[]): Condition => ({
  kind: 'equals',
  keyword,
  values,
});
const above = (keyword: string, value: number): Condition => ({ kind: 'above', keyword, value });

/**
 * A conditional attribute: '1C' must be present and not empty when every condition of `when`
 * holds, '2C' present; 'forbidden' must then be absent ("shall not be present").
 */
export interface ConditionalRequirement {
  readonly keyword: string;
  readonly type: '1C' | '2C' | 'forbidden';
  readonly when: readonly Condition[];
  /** The condition in words with its PS3.3 section: the finding's detail. */
  readonly rule: string;
}

/** Enumerated Values or Defined Terms of a CS attribute (PS3.3), for one value or every value. */
export interface Enumeration {
  readonly keyword: string;
  /** 1-based: "Value 1" of PS3.3; every value when absent. */
  readonly value?: number;
  readonly terms: readonly string[];
  /** Defined Terms (extensible) rather than Enumerated Values. */
  readonly defined?: boolean;
  readonly section: string;
}

interface ModuleRules {
  readonly conditions?: readonly ConditionalRequirement[];
  readonly enumerations?: readonly Enumeration[];
}

/** A module's conditional requirements and value sets, declared beside its attributes. */
const moduleRules = new Map<readonly Requirement[], ModuleRules>();
function rulesOf<T extends readonly Requirement[]>(module: T, rules: ModuleRules): T {
  moduleRules.set(module, rules);
  return module;
}

// PS3.3 C.7.1.1 Patient, C.7.2.1 General Study, C.7.3.1 General Series.
const patient: readonly Requirement[] = rulesOf(
  [
    ['PatientName', 2],
    ['PatientID', 2],
    ['PatientBirthDate', 2],
    ['PatientSex', 2],
  ],
  {
    conditions: [
      {
        keyword: 'DeidentificationMethod',
        type: '1C',
        when: [
          equals('PatientIdentityRemoved', 'YES'),
          absent('DeidentificationMethodCodeSequence'),
        ],
        rule: 'Patient Identity Removed is YES without De-identification Method Code Sequence (PS3.3 C.7.1.1)',
      },
    ],
    enumerations: [
      { keyword: 'PatientSex', terms: ['M', 'F', 'O'], section: 'C.7.1.1' },
      { keyword: 'PatientIdentityRemoved', terms: ['YES', 'NO'], section: 'C.7.1.1' },
    ],
  },
);
const generalStudy: readonly Requirement[] = [
  ['StudyInstanceUID', 1],
  ['StudyDate', 2],
  ['StudyTime', 2],
  ['ReferringPhysicianName', 2],
  ['StudyID', 2],
  ['AccessionNumber', 2],
];
const generalSeries: readonly Requirement[] = rulesOf(
  [
    ['Modality', 1],
    ['SeriesInstanceUID', 1],
    ['SeriesNumber', 2],
  ],
  { enumerations: [{ keyword: 'Laterality', terms: ['R', 'L'], section: 'C.7.3.1' }] },
);
/**
 * Modality (0008,0060) Defined Terms (PS3.3 C.7.3.1.1.1), retired ones included: old discs
 * carry them. Checked for every IOD, whichever module holds Modality.
 */
export const modalityTerms: readonly string[] = [
  ...['ANN', 'AR', 'ASMT', 'AU', 'BDUS', 'BI', 'BMD', 'CFM', 'CR', 'CT', 'CTPROTOCOL', 'DG'],
  ...['DMS', 'DOC', 'DX', 'ECG', 'EEG', 'EMG', 'EOG', 'EPS', 'ES', 'FID', 'GM', 'HC', 'HD'],
  ...['IO', 'IOL', 'IVOCT', 'IVUS', 'KER', 'KO', 'LEN', 'LS', 'MG', 'MR', 'M3D', 'NM', 'OAM'],
  ...['OCT', 'OP', 'OPM', 'OPT', 'OPTBSV', 'OPTENF', 'OPV', 'OSS', 'OT', 'PA', 'PLAN', 'POS'],
  ...['PR', 'PT', 'PX', 'REG', 'RESP', 'RF', 'RG', 'RTDOSE', 'RTIMAGE', 'RTINTENT', 'RTPLAN'],
  ...['RTRAD', 'RTRECORD', 'RTSEGANN', 'RTSTRUCT', 'RWV', 'SEG', 'SM', 'SMR', 'SR', 'SRF'],
  ...['STAIN', 'TEXTUREMAP', 'TG', 'US', 'VA', 'XA', 'XAPROTOCOL', 'XC'],
  // Retired (PS3.3 C.7.3.1.1.1 lists them apart).
  ...['AS', 'CD', 'CF', 'CP', 'CS', 'DD', 'DF', 'DM', 'DS', 'EC', 'FA', 'FS', 'LP', 'MA', 'MS'],
  ...['OPR', 'ST', 'VF'],
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
const generalImage: readonly Requirement[] = rulesOf([['InstanceNumber', 2]], {
  conditions: [
    {
      keyword: 'PatientOrientation',
      type: '2C',
      when: [absent('ImageOrientationPatient')],
      rule: 'an image without Image Orientation (Patient) (PS3.3 C.7.6.1)',
    },
  ],
  enumerations: imageEnumerations(['ORIGINAL', 'DERIVED']),
});

/** Image Type values 1 and 2, Burned In Annotation, Lossy Image Compression (C.7.6.1.1). */
function imageEnumerations(imageTypeValue1: readonly string[]): Enumeration[] {
  return [
    { keyword: 'ImageType', value: 1, terms: imageTypeValue1, section: 'C.7.6.1.1.2' },
    { keyword: 'ImageType', value: 2, terms: ['PRIMARY', 'SECONDARY'], section: 'C.7.6.1.1.2' },
    { keyword: 'BurnedInAnnotation', terms: ['YES', 'NO'], section: 'C.7.6.1' },
    { keyword: 'LossyImageCompression', terms: ['00', '01'], section: 'C.7.6.1.1.5' },
  ];
}

/** C.7.6.1.1.5: how lossy compression was done, where an IOD makes it 1C (DX, enhanced). */
const lossyCompressionConditions: readonly ConditionalRequirement[] = [
  {
    keyword: 'LossyImageCompressionRatio',
    type: '1C',
    when: [equals('LossyImageCompression', '01')],
    rule: 'Lossy Image Compression is 01 (PS3.3 C.7.6.1.1.5)',
  },
  {
    keyword: 'LossyImageCompressionMethod',
    type: '1C',
    when: [equals('LossyImageCompression', '01')],
    rule: 'Lossy Image Compression is 01 (PS3.3 C.7.6.1.1.5)',
  },
];
const imagePlane: readonly Requirement[] = [
  ['PixelSpacing', 1],
  ['ImageOrientationPatient', 1],
  ['ImagePositionPatient', 1],
  ['SliceThickness', 2],
];
export const imagePixel: readonly Requirement[] = rulesOf(
  [
    ['SamplesPerPixel', 1],
    ['PhotometricInterpretation', 1],
    ['Rows', 1],
    ['Columns', 1],
    ['BitsAllocated', 1],
    ['BitsStored', 1],
    ['HighBit', 1],
    ['PixelRepresentation', 1],
  ],
  {
    conditions: [
      {
        keyword: 'PlanarConfiguration',
        type: '1C',
        when: [above('SamplesPerPixel', 1)],
        rule: 'Samples per Pixel above 1 (PS3.3 C.7.6.3)',
      },
      {
        keyword: 'PixelPaddingValue',
        type: '1C',
        when: [present('PixelPaddingRangeLimit')],
        rule: 'Pixel Padding Range Limit present (PS3.3 C.7.5.1.1.2)',
      },
      {
        keyword: 'NumberOfFrames',
        type: '1C',
        when: [present('FrameIncrementPointer')],
        rule: 'Frame Increment Pointer present: a multi-frame image (PS3.3 C.7.6.6)',
      },
      // C.11.1 Modality LUT: a slope and an intercept go together, or a LUT instead of both.
      {
        keyword: 'RescaleSlope',
        type: '1C',
        when: [present('RescaleIntercept')],
        rule: 'Rescale Intercept present (PS3.3 C.11.1)',
      },
      {
        keyword: 'RescaleIntercept',
        type: '1C',
        when: [present('RescaleSlope')],
        rule: 'Rescale Slope present (PS3.3 C.11.1)',
      },
      {
        keyword: 'ModalityLUTSequence',
        type: 'forbidden',
        when: [present('RescaleIntercept')],
        rule: 'Rescale Intercept present: one modality transformation only (PS3.3 C.11.1)',
      },
    ],
  },
);

/**
 * Samples per Pixel each Photometric Interpretation needs (PS3.3 C.7.6.3.1.2), retired terms
 * included; a mismatch, or a Pixel Representation other than 0 or 1, leaves the pixels
 * uninterpretable (pixel-description-invalid).
 */
export const photometricSamples: ReadonlyMap<string, number> = new Map([
  ['MONOCHROME1', 1],
  ['MONOCHROME2', 1],
  ['PALETTE COLOR', 1],
  ['RGB', 3],
  ['YBR_FULL', 3],
  ['YBR_FULL_422', 3],
  ['YBR_PARTIAL_422', 3],
  ['YBR_PARTIAL_420', 3],
  ['YBR_ICT', 3],
  ['YBR_RCT', 3],
  ['XYB', 3],
  ['HSV', 3],
  ['ARGB', 4],
  ['CMYK', 4],
]);

/**
 * Attributes whose VR follows Pixel Representation: US when 0, SS when 1 (PS3.3 C.7.6.3,
 * C.7.5.1.1.2). A receiver reads the value with the wrong sign otherwise.
 */
export const pixelValueKeywords: readonly string[] = [
  'SmallestImagePixelValue',
  'LargestImagePixelValue',
  'SmallestPixelValueInSeries',
  'LargestPixelValueInSeries',
  'PixelPaddingValue',
  'PixelPaddingRangeLimit',
];
const sopCommon: readonly Requirement[] = rulesOf(
  [
    ['SOPClassUID', 1],
    ['SOPInstanceUID', 1],
  ],
  {
    conditions: [
      {
        keyword: 'SpecificCharacterSet',
        type: '1C',
        when: [{ kind: 'non-ascii-text' }],
        rule: 'text beyond ASCII (PS3.3 C.12.1, PS3.5 6.1.2.3)',
      },
    ],
  },
);
// C.7.6.6 Multi-frame, C.7.6.16 Multi-frame Functional Groups.
const multiFrame: readonly Requirement[] = [
  ['NumberOfFrames', 1],
  ['FrameIncrementPointer', 1],
];
// C.8.6.3 SC Multi-frame Image: Frame Increment Pointer only when there is more than one frame.
const scMultiFrame: readonly Requirement[] = rulesOf([['NumberOfFrames', 1]], {
  conditions: [
    {
      keyword: 'FrameIncrementPointer',
      type: '1C',
      when: [above('NumberOfFrames', 1)],
      rule: 'Number of Frames above 1 (PS3.3 C.8.6.3)',
    },
  ],
});
const functionalGroups: readonly Requirement[] = rulesOf(
  [
    ['NumberOfFrames', 1],
    ['PerFrameFunctionalGroupsSequence', 1],
    ['InstanceNumber', 1],
    ['ContentDate', 1],
    ['ContentTime', 1],
  ],
  {
    conditions: lossyCompressionConditions,
    // C.8.16.1.1: enhanced images may mix original and derived frames.
    enumerations: imageEnumerations(['ORIGINAL', 'DERIVED', 'MIXED']),
  },
);
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
const dxImage: readonly Requirement[] = rulesOf(
  [
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
  ],
  { conditions: lossyCompressionConditions },
); // C.8.11.3 DX Image, C.8.11.4 DX Detector, C.8.11.5 DX Anatomy Imaged
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
const rtPlan: readonly Requirement[] = rulesOf(
  [
    ['RTPlanLabel', 1],
    ['RTPlanDate', 2],
    ['RTPlanTime', 2],
    ['RTPlanGeometry', 1],
  ],
  {
    conditions: [
      {
        keyword: 'ReferencedStructureSetSequence',
        type: '1C',
        when: [equals('RTPlanGeometry', 'PATIENT')],
        rule: 'RT Plan Geometry is PATIENT (PS3.3 C.8.8.9)',
      },
    ],
    enumerations: [
      { keyword: 'RTPlanGeometry', terms: ['PATIENT', 'TREATMENT_DEVICE'], section: 'C.8.8.9' },
    ],
  },
);
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
    scMultiFrame,
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

/** A condition with its attribute resolved to a tag. */
export type CompiledCondition =
  | { readonly kind: 'present' | 'absent'; readonly tag: number }
  | { readonly kind: 'equals'; readonly tag: number; readonly values: readonly string[] }
  | { readonly kind: 'above'; readonly tag: number; readonly value: number }
  | { readonly kind: 'non-ascii-text' };

export interface CompiledConditional {
  readonly tag: number;
  readonly type: ConditionalRequirement['type'];
  readonly when: readonly CompiledCondition[];
  readonly rule: string;
}

export interface CompiledEnumeration {
  readonly tag: number;
  /** 0-based value index, or -1 for every value. */
  readonly index: number;
  readonly terms: ReadonlySet<string>;
  readonly defined: boolean;
  /** The detail after the attribute's name, computed once: "value 1 not one of its …". */
  readonly label: string;
}

export interface ResolvedIod {
  /** A small number naming this IOD in per-tag tables (values.ts). */
  readonly index: number;
  readonly family: IodFamily;
  readonly type1: readonly number[];
  readonly type2: readonly number[];
  readonly image: boolean;
  readonly conditionals: readonly CompiledConditional[];
  readonly enumerations: readonly CompiledEnumeration[];
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
const pixelDataTag = 0x7fe00010;

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
      // Pixel Data is the pixel rules' business (pixel-data-missing), not a listed attribute.
      if (tag === pixelDataTag) continue;
      types.set(tag, Math.min(type, types.get(tag) ?? 2) as 1 | 2);
    }
  }
  const type1 = [...types].filter(([, type]) => type === 1).map(([tag]) => tag);
  const type2 = [...types].filter(([, type]) => type === 2).map(([tag]) => tag);
  const conditionals: CompiledConditional[] = [];
  const enumerations: CompiledEnumeration[] = [modalityEnumeration()];
  for (const module of new Set(spec.modules)) {
    const rules = moduleRules.get(module);
    for (const conditional of rules?.conditions ?? []) {
      const tag = tagOfKeyword(conditional.keyword);
      // An unconditional Type 1 of another module wins over a condition on the same attribute.
      if (types.get(tag) === 1 && conditional.type !== 'forbidden') continue;
      conditionals.push({
        tag,
        type: conditional.type,
        when: conditional.when.map(compileCondition),
        rule: conditional.rule,
      });
    }
    for (const enumeration of rules?.enumerations ?? [])
      enumerations.push(compileEnumeration(enumeration));
  }
  const result = {
    index: resolved.size,
    family,
    type1,
    type2,
    image: spec.image,
    conditionals,
    enumerations,
  };
  resolved.set(iod, result);
  return result;
}

function compileCondition(condition: Condition): CompiledCondition {
  switch (condition.kind) {
    case 'non-ascii-text':
      return condition;
    case 'present':
    case 'absent':
      return { kind: condition.kind, tag: tagOfKeyword(condition.keyword) };
    case 'equals':
      return { kind: 'equals', tag: tagOfKeyword(condition.keyword), values: condition.values };
    case 'above':
      return { kind: 'above', tag: tagOfKeyword(condition.keyword), value: condition.value };
  }
}

function compileEnumeration(enumeration: Enumeration): CompiledEnumeration {
  const which = enumeration.value === undefined ? '' : `value ${enumeration.value} `;
  const kind = enumeration.defined ? 'defined terms' : 'enumerated values';
  return {
    tag: tagOfKeyword(enumeration.keyword),
    index: enumeration.value === undefined ? -1 : enumeration.value - 1,
    terms: new Set(enumeration.terms),
    defined: enumeration.defined === true,
    label: `${which}not one of its ${kind} (PS3.3 ${enumeration.section})`,
  };
}

let modality: CompiledEnumeration | undefined;
function modalityEnumeration(): CompiledEnumeration {
  modality ??= compileEnumeration({
    keyword: 'Modality',
    terms: modalityTerms,
    defined: true,
    section: 'C.7.3.1.1.1',
  });
  return modality;
}

// ---------------------------------------------------------------------------------------------
// Inside sequence items: what the items of the sequences these IODs use must carry

/** Type 1 and Type 2 attributes of every item of a sequence (PS3.3 macros and modules). */
export interface ItemRequirement {
  readonly sequences: readonly string[];
  readonly attributes: readonly Requirement[];
  readonly section: string;
}

/** PS3.3 Table 10-11 SOP Instance Reference Macro, and the sequences that use it. */
const sopInstanceReference: ItemRequirement = {
  sequences: [
    'ReferencedImageSequence',
    'ReferencedSOPSequence',
    'ReferencedInstanceSequence',
    'SourceImageSequence',
    'ReferencedStudySequence',
    'ReferencedPatientSequence',
    'ReferencedPerformedProcedureStepSequence',
    'ReferencedWaveformSequence',
    'ReferencedPresentationStateSequence',
  ],
  attributes: [
    ['ReferencedSOPClassUID', 1],
    ['ReferencedSOPInstanceUID', 1],
  ],
  section: 'Table 10-11',
};

export const itemRequirements: readonly ItemRequirement[] = [
  sopInstanceReference,
  // Table 10-4 Series and Instance Reference Macro; C.17.2.3 evidence (Table 10-16).
  {
    sequences: ['ReferencedSeriesSequence'],
    attributes: [['SeriesInstanceUID', 1]],
    section: 'Table 10-4',
  },
  {
    sequences: ['CurrentRequestedProcedureEvidenceSequence', 'PertinentOtherEvidenceSequence'],
    attributes: [
      ['StudyInstanceUID', 1],
      ['ReferencedSeriesSequence', 1],
    ],
    section: 'Table 10-16',
  },
  // C.17.3.2.1 NUM content items.
  {
    sequences: ['MeasuredValueSequence'],
    attributes: [
      ['NumericValue', 1],
      ['MeasurementUnitsCodeSequence', 1],
    ],
    section: 'Table C.18.1-1',
  },
  // C.8.8.5 Structure Set, C.8.8.6 ROI Contour, C.8.8.8 RT ROI Observations.
  {
    sequences: ['StructureSetROISequence'],
    attributes: [
      ['ROINumber', 1],
      ['ReferencedFrameOfReferenceUID', 1],
      ['ROIName', 2],
      ['ROIGenerationAlgorithm', 2],
    ],
    section: 'C.8.8.5',
  },
  {
    sequences: ['ROIContourSequence'],
    attributes: [['ReferencedROINumber', 1]],
    section: 'C.8.8.6',
  },
  {
    sequences: ['RTROIObservationsSequence'],
    attributes: [
      ['ObservationNumber', 1],
      ['ReferencedROINumber', 1],
      ['RTROIInterpretedType', 2],
      ['ROIInterpreter', 2],
    ],
    section: 'C.8.8.8',
  },
];

/** Sequences of coded entries whose PS3.6 keyword does not end in CodeSequence (C.7.6.1, 10.5). */
const codeSequencesByOtherNames: readonly string[] = [
  'AnatomicRegionSequence',
  'AnatomicRegionModifierSequence',
  'PrimaryAnatomicStructureSequence',
  'PrimaryAnatomicStructureModifierSequence',
];

/** An item rule with tags resolved: what values.ts checks for each item of `sequence`. */
export interface CompiledItemRule {
  readonly type1: readonly number[];
  readonly type2: readonly number[];
  /** Code Sequence Macro (PS3.3 Table 8.8-1): Code Value or its long forms, scheme, meaning. */
  readonly code: boolean;
  /** SOP Instance Reference: Referenced Frame Number only for multi-frame classes (Table 10-3). */
  readonly reference: boolean;
  readonly section: string;
}

let itemRules: Map<number, CompiledItemRule> | undefined;

/**
 * Sequence tag -> its item rule, for every sequence above and every `…CodeSequence` of PS3.6
 * (all use the Code Sequence Macro). Built once; values.ts looks each sequence up once.
 */
export function itemRulesBySequence(): ReadonlyMap<number, CompiledItemRule> {
  if (itemRules) return itemRules;
  itemRules = new Map();
  const codeRule: CompiledItemRule = {
    type1: [tagOfKeyword('CodeMeaning')],
    type2: [],
    code: true,
    reference: false,
    section: 'Table 8.8-1',
  };
  for (const line of dictionaryData.split('\n')) {
    const [tagHex = '', vr, name = '', , retired, range] = line.split('|');
    if (vr === 'SQ' && !range && retired !== 'R' && name.endsWith('CodeSequence'))
      itemRules.set(Number.parseInt(tagHex, 16) >>> 0, codeRule);
  }
  for (const sequence of codeSequencesByOtherNames) itemRules.set(tagOfKeyword(sequence), codeRule);
  for (const requirement of itemRequirements) {
    const rule: CompiledItemRule = {
      type1: requirement.attributes.filter(([, type]) => type === 1).map(([k]) => tagOfKeyword(k)),
      type2: requirement.attributes.filter(([, type]) => type === 2).map(([k]) => tagOfKeyword(k)),
      code: false,
      reference: requirement === sopInstanceReference,
      section: requirement.section,
    };
    for (const sequence of requirement.sequences) itemRules.set(tagOfKeyword(sequence), rule);
  }
  return itemRules;
}

/**
 * IODs of one frame only (PS3.3 Annex A): a reference to one of them carries no Referenced
 * Frame Number (Table 10-3 Image SOP Instance Reference Macro).
 */
export const singleFrameIods: ReadonlySet<string> = new Set([
  'CT Image',
  'MR Image',
  'Computed Radiography Image',
  'Digital X-Ray Image',
  'Digital Mammography X-Ray Image',
  'Digital Intra-Oral X-Ray Image',
  'Positron Emission Tomography Image',
  'Secondary Capture Image',
  'Ultrasound Image',
  'VL Photographic Image',
  'VL Endoscopic Image',
  'VL Microscopic Image',
  'VL Slide-Coordinates Microscopic Image',
]);
