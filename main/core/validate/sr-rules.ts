/**
 * Structured report content trees (PS3.3 C.17.3 Document Content, C.18 content item macros):
 * the root is a named CONTAINER; every content item has a Relationship Type from the enumerated
 * list and either a Value Type with the value that type needs (and a Concept Name where C.17.3.3
 * requires one) or a reference to another item by its identifier; an SCOORD is SELECTED FROM an
 * IMAGE; every instance the tree references is listed in the evidence sequences (C.17.2.3).
 *
 * Run for SR IODs only (Key Object Selection included). Problems are described by value type,
 * attribute and section, never by a value of the report.
 */
import { attributeName, formatTag } from '../dicom/dictionary.ts';
import type { DicomDataset } from '../dicom/parse.ts';
import { tagOfKeyword } from './iods.ts';
import { defaultText, isEmptyValue } from './values.ts';

/**
 * What an item of each Value Type must carry (PS3.3 Table C.17-5 and the C.18 macros it
 * includes): Type 1 attributes, except Measured Value Sequence of NUM (Type 2: present, may be
 * empty when there is no value). TABLE's cells are not checked.
 */
const valueAttributes: Readonly<Record<string, readonly string[]>> = {
  TEXT: ['TextValue'],
  NUM: ['MeasuredValueSequence'],
  CODE: ['ConceptCodeSequence'],
  DATETIME: ['DateTime'],
  DATE: ['Date'],
  TIME: ['Time'],
  UIDREF: ['UID'],
  PNAME: ['PersonName'],
  COMPOSITE: ['ReferencedSOPSequence'],
  IMAGE: ['ReferencedSOPSequence'],
  WAVEFORM: ['ReferencedSOPSequence'],
  SCOORD: ['GraphicData', 'GraphicType'],
  SCOORD3D: ['ReferencedFrameOfReferenceUID', 'GraphicData', 'GraphicType'],
  TCOORD: ['TemporalRangeType'],
  CONTAINER: ['ContinuityOfContent'],
  TABLE: [],
};

/** Value Types whose items need a Concept Name Code Sequence (Table C.17-5). */
const namedValueTypes: ReadonlySet<string> = new Set([
  'TEXT',
  'NUM',
  'CODE',
  'DATETIME',
  'DATE',
  'TIME',
  'UIDREF',
  'PNAME',
  'TABLE',
]);

/** Relationship Type (0040,A010) Enumerated Values (PS3.3 C.17.3.2.4). */
const relationshipTypes: ReadonlySet<string> = new Set([
  'CONTAINS',
  'HAS PROPERTIES',
  'HAS CONCEPT MOD',
  'HAS OBS CONTEXT',
  'HAS ACQ CONTEXT',
  'INFERRED FROM',
  'SELECTED FROM',
]);

/** Value Types that reference other instances (C.18.3, C.18.4, C.18.5). */
const referenceTypes: ReadonlySet<string> = new Set(['COMPOSITE', 'IMAGE', 'WAVEFORM']);

/**
 * Bounds of the walk. The parser already bounds sequence nesting; these keep a hostile or
 * enormous tree (a dose report of every frame) from costing more than the rest of validation.
 */
export const maxContentDepth = 30;
export const maxContentItems = 100_000;

/** Problems per report, as for the other rules: a broken tree should not make a huge detail. */
const problemLimit = 12;

interface Tags {
  readonly content: number;
  readonly relationship: number;
  readonly valueType: number;
  readonly conceptName: number;
  readonly byReference: number;
  readonly referencedSop: number;
  readonly referencedInstance: number;
  readonly referencedSeries: number;
  readonly evidence: readonly number[];
  readonly values: ReadonlyMap<string, readonly number[]>;
}

let tags: Tags | undefined;
function tagsOf(): Tags {
  tags ??= {
    content: tagOfKeyword('ContentSequence'),
    relationship: tagOfKeyword('RelationshipType'),
    valueType: tagOfKeyword('ValueType'),
    conceptName: tagOfKeyword('ConceptNameCodeSequence'),
    byReference: tagOfKeyword('ReferencedContentItemIdentifier'),
    referencedSop: tagOfKeyword('ReferencedSOPSequence'),
    referencedInstance: tagOfKeyword('ReferencedSOPInstanceUID'),
    referencedSeries: tagOfKeyword('ReferencedSeriesSequence'),
    evidence: [
      tagOfKeyword('CurrentRequestedProcedureEvidenceSequence'),
      tagOfKeyword('PertinentOtherEvidenceSequence'),
    ],
    values: new Map(
      Object.entries(valueAttributes).map(([type, keywords]) => [type, keywords.map(tagOfKeyword)]),
    ),
  };
  return tags;
}

function named(tag: number): string {
  return `${attributeName(tag)} ${formatTag(tag)}`;
}

function filled(dataset: DicomDataset, tag: number): boolean {
  const element = dataset.elements.get(tag);
  return element !== undefined && !isEmptyValue(dataset, element);
}

class Walk {
  readonly problems = new Set<string>();
  readonly referenced: string[] = [];
  items = 0;
  stopped = false;

  constructor(readonly tags: Tags) {}

  note(problem: string): void {
    if (this.problems.size < problemLimit) this.problems.add(problem);
  }

  /** Checks one content item's own attributes; returns its Value Type ('' when by reference). */
  item(item: DicomDataset, root: boolean): string {
    const t = this.tags;
    if (!root) {
      const relationship = defaultText(item, t.relationship);
      if (relationship === '') {
        this.note(`content item without ${named(t.relationship)} (PS3.3 Table C.17-6)`);
      } else if (!relationshipTypes.has(relationship)) {
        this.note(`${named(t.relationship)} not one of its enumerated values (PS3.3 C.17.3.2.4)`);
      }
      if (filled(item, t.byReference)) return '';
    }
    const valueType = defaultText(item, t.valueType);
    const required = t.values.get(valueType);
    if (valueType === '') {
      this.note(`content item without ${named(t.valueType)} (PS3.3 C.17.3.3)`);
      return valueType;
    }
    if (!required) {
      this.note(`${named(t.valueType)} not one of its enumerated values (PS3.3 C.17.3.3)`);
      return valueType;
    }
    if (root && valueType !== 'CONTAINER')
      this.note('root content item is not a CONTAINER (PS3.3 C.17.3)');
    if ((root || namedValueTypes.has(valueType)) && !filled(item, t.conceptName)) {
      const which = root ? 'root content item' : `${valueType} content item`;
      this.note(`${which} without ${named(t.conceptName)} (PS3.3 C.17.3.3)`);
    }
    for (const tag of required) {
      const element = item.elements.get(tag);
      const missing =
        valueType === 'NUM' ? element === undefined : !element || isEmptyValue(item, element);
      if (missing) this.note(`${valueType} content item without ${named(tag)} (PS3.3 C.18)`);
    }
    if (referenceTypes.has(valueType)) this.references(item);
    return valueType;
  }

  /** Referenced SOP Instance UIDs of a reference item, presentation states included (C.18.4). */
  references(item: DicomDataset): void {
    const t = this.tags;
    for (const reference of item.elements.get(t.referencedSop)?.items ?? []) {
      const uid = defaultText(reference, t.referencedInstance);
      if (uid) this.referenced.push(uid);
      for (const state of reference.elements.get(t.referencedSop)?.items ?? []) {
        const stateUid = defaultText(state, t.referencedInstance);
        if (stateUid) this.referenced.push(stateUid);
      }
    }
  }

  children(parent: DicomDataset, parentType: string, depth: number): void {
    const t = this.tags;
    const children = parent.elements.get(t.content)?.items ?? [];
    let selectedImage = false;
    if (depth > maxContentDepth && children.length > 0) {
      this.note(
        `content tree nested deeper than ${maxContentDepth} levels; deeper items not checked`,
      );
      return;
    }
    for (const child of children) {
      if (++this.items > maxContentItems) {
        if (!this.stopped)
          this.note(`content tree longer than ${maxContentItems} items; the rest not checked`);
        this.stopped = true;
        return;
      }
      const valueType = this.item(child, false);
      if (
        parentType === 'SCOORD' &&
        defaultText(child, t.relationship) === 'SELECTED FROM' &&
        (valueType === 'IMAGE' || valueType === '')
      ) {
        selectedImage = true;
      }
      this.children(child, valueType, depth + 1);
      if (this.stopped) return;
    }
    if (parentType === 'SCOORD' && !selectedImage)
      this.note('SCOORD content item not SELECTED FROM an IMAGE content item (PS3.3 C.18.6)');
  }

  /** Every referenced instance is listed in an evidence sequence (PS3.3 C.17.2.3). */
  evidence(root: DicomDataset): void {
    if (this.referenced.length === 0) return;
    const t = this.tags;
    const listed = new Set<string>();
    for (const sequence of t.evidence) {
      for (const study of root.elements.get(sequence)?.items ?? []) {
        for (const series of study.elements.get(t.referencedSeries)?.items ?? []) {
          for (const instance of series.elements.get(t.referencedSop)?.items ?? [])
            listed.add(defaultText(instance, t.referencedInstance));
        }
      }
    }
    if (this.referenced.some((uid) => !listed.has(uid))) {
      this.note(
        'instances referenced in the content tree are not listed in Current Requested Procedure Evidence Sequence (0040,A375) or Pertinent Other Evidence Sequence (0040,A385) (PS3.3 C.17.2.3)',
      );
    }
  }
}

/** The problems of a report's content tree, each a sentence for the finding's detail. */
export function checkSrContent(root: DicomDataset): string[] {
  const walk = new Walk(tagsOf());
  const rootType = walk.item(root, true);
  walk.children(root, rootType, 1);
  walk.evidence(root);
  return [...walk.problems];
}
