/**
 * PS3.15 Table E.1-1 lookup and the resolution of its action codes (PS3.15 E.1.1, E.3).
 */
import { profileRows } from './profile.generated.ts';
import type { AttributeType } from './attribute-types.ts';
import type { BasicAction, DeidOption, TableOption } from './profile-types.ts';

export type { BasicAction, DeidOption, TableOption } from './profile-types.ts';

/** Every option, in the order of PS3.15 Table E.1-1's columns, then Clean Pixel Data. */
export const allOptions: readonly DeidOption[] = [
  'retain-uids',
  'retain-device-identity',
  'retain-institution-identity',
  'retain-patient-characteristics',
  'retain-full-dates',
  'retain-modified-dates',
  'clean-descriptors',
  'clean-structured-content',
  'clean-graphics',
  'retain-safe-private',
  'clean-pixel-data',
];

/** CID 7050 De-identification Method codes (PS3.16), scheme DCM. */
export const methodCodes: Readonly<Record<'basic' | DeidOption, readonly [string, string]>> = {
  basic: ['113100', 'Basic Application Confidentiality Profile'],
  'clean-pixel-data': ['113101', 'Clean Pixel Data Option'],
  'clean-graphics': ['113103', 'Clean Graphics Option'],
  'clean-structured-content': ['113104', 'Clean Structured Content Option'],
  'clean-descriptors': ['113105', 'Clean Descriptors Option'],
  'retain-full-dates': ['113106', 'Retain Longitudinal Temporal Information Full Dates Option'],
  'retain-modified-dates': [
    '113107',
    'Retain Longitudinal Temporal Information Modified Dates Option',
  ],
  'retain-patient-characteristics': ['113108', 'Retain Patient Characteristics Option'],
  'retain-device-identity': ['113109', 'Retain Device Identity Option'],
  'retain-uids': ['113110', 'Retain UIDs Option'],
  'retain-safe-private': ['113111', 'Retain Safe Private Option'],
  'retain-institution-identity': ['113112', 'Retain Institution Identity Option'],
};

export interface ProfileEntry {
  readonly name: string;
  readonly basic: BasicAction;
  readonly options: Readonly<Partial<Record<TableOption, 'K' | 'C'>>>;
}

let exact: Map<number, ProfileEntry> | undefined;
let curve: ProfileEntry | undefined;
let overlayData: ProfileEntry | undefined;
let overlayComments: ProfileEntry | undefined;
let privateEntry: ProfileEntry | undefined;

function load(): Map<number, ProfileEntry> {
  if (exact) return exact;
  exact = new Map();
  for (const row of profileRows) {
    const [match, name, basic, options] = row;
    const entry: ProfileEntry = { name, basic, options };
    if (match === 'private') privateEntry = entry;
    else if (match === '50xxxxxx') curve = entry;
    else if (match === '60xx3000') overlayData = entry;
    else if (match === '60xx4000') overlayComments = entry;
    else if (/^[0-9a-f]{8}$/u.test(match)) exact.set(Number.parseInt(match, 16) >>> 0, entry);
    else throw new Error(`profile: unexpected row ${match}`);
  }
  if (!curve || !overlayData || !overlayComments || !privateEntry) {
    throw new Error('profile: repeating-group or private rows missing');
  }
  return exact;
}

export function isCurveGroup(group: number): boolean {
  return (group & 0xff00) === 0x5000 && group % 2 === 0;
}

export function isOverlayGroup(group: number): boolean {
  return (group & 0xff00) === 0x6000 && group % 2 === 0;
}

/**
 * The table's entry for a standard tag: exact rows, then repeating groups. Curves (50xx) are
 * removed whole. An overlay group (60xx) follows its Overlay Data row for every element:
 * removing Overlay Data and keeping Overlay Rows/Columns/Origin would leave a broken Overlay
 * Plane module, and a kept overlay is kept whole.
 */
export function profileEntry(tag: number): ProfileEntry | undefined {
  const table = load();
  const found = table.get(tag >>> 0);
  if (found) return found;
  const group = tag >>> 16;
  if (isCurveGroup(group)) return curve;
  if (isOverlayGroup(group)) {
    return (tag & 0xffff) === 0x4000 ? overlayComments : overlayData;
  }
  return undefined;
}

export function privateProfileEntry(): ProfileEntry {
  load();
  return privateEntry!;
}

/** Every exact row's tag (for the leak test and the docs). */
export function profileTags(): number[] {
  return [...load().keys()];
}

/** Action after options and after choosing among combined codes (see resolveBasic). */
export type ResolvedAction = 'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'U*';

/** What is known of the attribute's type where it stands, for the combined codes. */
export interface TypeContext {
  /** Its type in the instance's IOD (or in its sequence item); undefined when unknown. */
  readonly type: AttributeType | undefined;
  /** Type 1 in some module of an IOD Ferry knows: decides the unknown case. */
  readonly typeOneSomewhere: boolean;
  /**
   * The instance lists the instances it references (Common Instance Reference, PS3.3 C.12.2):
   * a removed or emptied sequence of references would leave that list pointing at nothing.
   */
  readonly listsReferences?: boolean;
}

/**
 * Options first (PS3.15 E.3): among the selected options that name the attribute, K (retain)
 * wins over C (clean); otherwise the Basic Profile's action, combined codes resolved.
 */
export function resolveAction(
  entry: ProfileEntry,
  options: ReadonlySet<DeidOption>,
  isSequence: boolean,
  hasValue: boolean,
  context: TypeContext,
): ResolvedAction {
  let optionAction: 'K' | 'C' | undefined;
  for (const option in entry.options) {
    if (!options.has(option as TableOption)) continue;
    const action = entry.options[option as TableOption];
    if (action === 'K') return 'K';
    optionAction = action;
  }
  if (optionAction) return optionAction;
  return resolveBasic(entry.basic, isSequence, hasValue, context);
}

type Choice = 'X' | 'Z' | 'D' | 'U*';

const choicesOf: Readonly<Record<string, readonly Choice[]>> = {
  'X/Z': ['X', 'Z'],
  'X/D': ['X', 'D'],
  'Z/D': ['Z', 'D'],
  'X/Z/D': ['X', 'Z', 'D'],
  'X/Z/U*': ['X', 'Z', 'U*'],
};

/**
 * Combined codes choose by the attribute's type in the IOD (PS3.15 E.1.1): Type 1 -> D (U* for
 * a sequence of references: its items kept, their UIDs replaced), Type 2 -> Z, Type 3 -> X.
 * When the code does not offer the type's choice, the nearest one that keeps more is taken
 * (X/D on Type 2 -> D, Z/D on Type 3 -> Z); X/Z on Type 1 -> Z, all the code allows.
 *
 * Type unknown (an IOD or a sequence item Ferry has no table for): the choice that keeps the
 * file valid whatever the type. X/Z -> Z (an empty value satisfies Types 2 and 3);
 * X/D, Z/D, X/Z/D -> D when the attribute is Type 1 in some module of the known IODs, else Z;
 * X/Z/U* -> U* (kept references are valid whatever the type, and carry only new UIDs).
 *
 * An instance that lists the instances it references (Common Instance Reference) keeps its
 * X/Z/U* references (U*) whatever their type: removing them would break that list.
 *
 * D on a value that is already empty is Z (it cannot have been a valid Type 1 value).
 */
export function resolveBasic(
  action: BasicAction,
  isSequence: boolean,
  hasValue: boolean,
  context: TypeContext,
): ResolvedAction {
  const choices = choicesOf[action];
  if (!choices) return action as ResolvedAction;
  let choice: Choice;
  const { type } = context;
  if (action === 'X/Z/U*' && context.listsReferences) {
    // U* is then what "required to maintain IOD conformance" asks, whatever the type.
    choice = 'U*';
  } else if (type === undefined) {
    if (action === 'X/Z') choice = 'Z';
    else if (action === 'X/Z/U*') choice = 'U*';
    else choice = context.typeOneSomewhere ? 'D' : 'Z';
  } else {
    const keepMore: readonly Choice[] =
      type === 1 ? ['D', 'U*', 'Z'] : type === 2 ? ['Z', 'D', 'U*'] : ['X', 'Z', 'D', 'U*'];
    choice = keepMore.find((candidate) => choices.includes(candidate))!;
  }
  if (choice === 'D' && !isSequence && !hasValue) return 'Z';
  return choice;
}
