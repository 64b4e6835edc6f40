/**
 * Types of PS3.15 Annex E: action codes (Table E.1-1 legend) and the options of E.3.
 */

/**
 * Basic Profile action codes (PS3.15 E.1.1): D dummy, Z zero length, X remove, K keep,
 * C clean, U replace UID; combined codes choose by the attribute's type (1, 2 or 3).
 */
export type BasicAction =
  'D' | 'Z' | 'X' | 'K' | 'C' | 'U' | 'X/Z' | 'X/D' | 'Z/D' | 'X/Z/D' | 'X/Z/U*';

/** Options of PS3.15 E.3 that Table E.1-1 has a column for. */
export type TableOption =
  | 'retain-uids'
  | 'retain-device-identity'
  | 'retain-institution-identity'
  | 'retain-patient-characteristics'
  | 'retain-full-dates'
  | 'retain-modified-dates'
  | 'clean-descriptors'
  | 'clean-structured-content'
  | 'clean-graphics'
  | 'retain-safe-private';

/** Every option Ferry implements: the table's, plus Clean Pixel Data (E.3.1). */
export type DeidOption = TableOption | 'clean-pixel-data';

export type ProfileRow = readonly [
  match: string,
  name: string,
  basic: BasicAction,
  options: Readonly<Partial<Record<TableOption, 'K' | 'C'>>>,
];
