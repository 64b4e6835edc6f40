/**
 * The type (PS3.5 7.4) of an attribute in the instance's IOD, for choosing among the combined
 * action codes of PS3.15 Table E.1-1 (X/Z, X/D, Z/D, X/Z/D, X/Z/U*).
 *
 * Sources: the IOD tables of main/core/validate/iods.ts (unconditional Type 1 and 2 of the
 * mandatory modules, top level; carried in iod-types.generated.ts by scripts/gen-deid-profile.ts,
 * so that they are not compiled at run time) and, below, the places where an attribute with a combined code
 * is Type 1, 1C, 2 or 2C in a conditional or user-optional module, or inside a sequence item
 * (PS3.3, edition 2024b, module sections cited). A conditional type counts as its letterless
 * type: the attribute is already present, so 1C keeps a value and 2C keeps the element.
 *
 * "Type 3" is only concluded for the IODs listed in `verifiedIods`, whose modules were checked
 * for every combined-code attribute. Elsewhere (other IODs, an unknown SOP class, a sequence item
 * not listed here) the type is unknown and the caller takes the conservative choice.
 */
import { iodCombinedTypes, sopClassIods, typeOneInSomeIod } from './iod-types.generated.ts';

export type AttributeType = 1 | 2 | 3;

/**
 * Composite image IODs built from Patient, General Study, General Series, General Equipment,
 * General Image (with General Acquisition and General Reference), Image Pixel, SOP Common and
 * their modality modules, checked for every attribute with a combined code.
 */
const verifiedIods: ReadonlySet<string> = new Set([
  'CT Image',
  'MR Image',
  'Computed Radiography Image',
  'Digital X-Ray Image',
  'Digital Mammography X-Ray Image',
  'Digital Intra-Oral X-Ray Image',
  'Ultrasound Image',
  'Ultrasound Multi-frame Image',
  'X-Ray Angiographic Image',
  'X-Ray Radiofluoroscopic Image',
  'Nuclear Medicine Image',
  'Positron Emission Tomography Image',
  'Secondary Capture Image',
  'Multi-frame Single Bit Secondary Capture Image',
  'Multi-frame Grayscale Byte Secondary Capture Image',
  'Multi-frame Grayscale Word Secondary Capture Image',
  'Multi-frame True Color Secondary Capture Image',
]);

/**
 * Combined-code attributes that are Type 1C, 2 or 2C at the top level of the verified IODs in a
 * module iods.ts does not list (conditional or user-optional modules, conditional types).
 */
const verifiedTopLevel: ReadonlyMap<number, AttributeType> = new Map([
  [0x00080023, 2], // Content Date: General Image C.7.6.1, 2C (temporally related images)
  [0x00080033, 2], // Content Time: General Image C.7.6.1, 2C
  [0x00102203, 2], // Patient's Sex Neutered: Patient C.7.1.1, 2C (non-human patients)
  [0x00180010, 2], // Contrast/Bolus Agent: Contrast/Bolus C.7.6.4, 2
  [0x00400555, 2], // Acquisition Context Sequence: Acquisition Context C.7.6.14, 2
]);

/**
 * Types inside the items of a sequence, by (sequence tag, attribute tag), in any IOD that uses
 * the sequence.
 */
const inItems: ReadonlyMap<number, ReadonlyMap<number, AttributeType>> = new Map<
  number,
  ReadonlyMap<number, AttributeType>
>([
  // Presentation State Relationship C.11.11: Referenced Series Sequence > Referenced Image
  // Sequence, 1 (a presentation state must name its images).
  [0x00081115, new Map<number, AttributeType>([[0x00081140, 1]])],
  // Graphic Annotation C.10.5, Displayed Area C.10.4, Softcopy VOI LUT C.11.8: 1C.
  [0x00700001, new Map<number, AttributeType>([[0x00081140, 1]])],
  [0x0070005a, new Map<number, AttributeType>([[0x00081140, 1]])],
  [0x00283110, new Map<number, AttributeType>([[0x00081140, 1]])],
  // Derivation Image Macro C.7.6.16.2.6: Derivation Image Sequence > Source Image Sequence, 2.
  [0x00089124, new Map<number, AttributeType>([[0x00082112, 2]])],
  // SR Document Content C.17.3: Content Sequence > Observation DateTime, 1C.
  [0x0040a730, new Map<number, AttributeType>([[0x0040a032, 1]])],
  // Request Attributes Macro (General Series C.7.3.1): Requested Procedure Description, 3.
  [0x00400275, new Map<number, AttributeType>([[0x00321060, 3]])],
]);

/**
 * Combined-code attributes that are Type 1 or 1C in a module of an IOD Ferry has no full table
 * for (feeds only the unknown-type rule).
 */
const typeOneElsewhere: readonly number[] = [
  0x0008002a, // Acquisition DateTime: Waveform Identification C.10.8, 1; Enhanced CT/MR Image 1C
  0x00080023, // Content Date: Waveform Identification C.10.8, SR Document General C.17.2, 1
  0x00080033, // Content Time: as Content Date
  0x0040a032, // Observation DateTime: SR Document Content C.17.3 (root and items), 1C
];

const typesByIod = new Map<string, ReadonlyMap<number, AttributeType>>();

function typesOf(iod: string): ReadonlyMap<number, AttributeType> {
  let types = typesByIod.get(iod);
  if (!types) {
    const table = new Map<number, AttributeType>();
    for (const [tag, type] of Object.entries(iodCombinedTypes[iod] ?? {})) {
      table.set(Number.parseInt(tag, 16) >>> 0, type);
    }
    types = table;
    typesByIod.set(iod, types);
  }
  return types;
}

/** The IOD (PS3.3 name) of a SOP class, or undefined for a private or unknown class. */
export function iodOf(sopClassUid: string): string | undefined {
  return sopClassIods[sopClassUid];
}

/**
 * The attribute's type in the IOD, at the top level (`sequenceTag` undefined) or inside an
 * item of the sequence `sequenceTag`; undefined when Ferry does not know it.
 */
export function attributeType(
  iod: string | undefined,
  sequenceTag: number | undefined,
  tag: number,
): AttributeType | undefined {
  if (sequenceTag !== undefined) return inItems.get(sequenceTag)?.get(tag);
  if (iod === undefined) return undefined;
  const listed =
    typesOf(iod).get(tag) ?? (verifiedIods.has(iod) ? verifiedTopLevel.get(tag) : undefined);
  if (listed !== undefined) return listed;
  return verifiedIods.has(iod) ? 3 : undefined;
}

let typeOneAnywhere: ReadonlySet<number> | undefined;

/** Whether the attribute is Type 1 (or 1C) in some module of an IOD Ferry knows, at any depth. */
export function isTypeOneSomewhere(tag: number): boolean {
  if (!typeOneAnywhere) {
    const tags = new Set<number>([...typeOneInSomeIod, ...typeOneElsewhere]);
    for (const [attribute, type] of verifiedTopLevel) if (type === 1) tags.add(attribute);
    for (const items of inItems.values()) {
      for (const [attribute, type] of items) if (type === 1) tags.add(attribute);
    }
    typeOneAnywhere = tags;
  }
  return typeOneAnywhere.has(tag);
}
