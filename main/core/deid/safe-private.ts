/**
 * Retain Safe Private Option (PS3.15 E.3.10): private attributes known to carry no identity
 * and needed to use the images. Ferry's list is a short, conservative subset of the
 * attributes PS3.15 Table E.3.10-1 lists, the ones diffusion and PET quantitation need; every
 * other private attribute is removed even with the option. Matched on the Private Creator's
 * value, the group and the element's low byte (PS3.5 7.8.1: the block number varies by file).
 */
interface SafePrivate {
  readonly creator: string;
  readonly group: number;
  readonly element: number;
  readonly meaning: string;
}

export const safePrivateAttributes: readonly SafePrivate[] = [
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x0c, meaning: 'B value' },
  {
    creator: 'SIEMENS MR HEADER',
    group: 0x0019,
    element: 0x0d,
    meaning: 'Diffusion directionality',
  },
  {
    creator: 'SIEMENS MR HEADER',
    group: 0x0019,
    element: 0x0e,
    meaning: 'Diffusion gradient direction',
  },
  { creator: 'SIEMENS MR HEADER', group: 0x0019, element: 0x27, meaning: 'B matrix' },
  { creator: 'GEMS_PARM_01', group: 0x0043, element: 0x39, meaning: 'Slop integers 6-9 (b value)' },
  { creator: 'Philips PET Private Group', group: 0x7053, element: 0x00, meaning: 'SUV factor' },
  {
    creator: 'Philips PET Private Group',
    group: 0x7053,
    element: 0x09,
    meaning: 'Activity concentration scale factor',
  },
];

const index = new Set(
  safePrivateAttributes.map((entry) => `${entry.creator}|${entry.group}|${entry.element}`),
);

export function isSafePrivate(creator: string, group: number, element: number): boolean {
  return index.has(`${creator.trim()}|${group}|${element}`);
}
