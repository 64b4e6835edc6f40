import { sopClassData } from './sop-classes.generated.ts';

export interface SopClass {
  readonly uid: string;
  readonly name: string;
  /** The IOD the SOP class carries, as PS3.3 Annex A names it ("CT Image"). */
  readonly iod: string;
  readonly retired: boolean;
}

/**
 * Retired storage SOP classes still found on old discs (PS3.6 Annex A, retired entries), which
 * the current table no longer lists. Their IOD is the current one they were replaced by.
 */
const retiredClasses: ReadonlyArray<readonly [string, string, string]> = [
  [
    '1.2.840.10008.5.1.4.1.1.5',
    'Nuclear Medicine Image Storage (Retired)',
    'Nuclear Medicine Image',
  ],
  ['1.2.840.10008.5.1.4.1.1.6', 'Ultrasound Image Storage (Retired)', 'Ultrasound Image'],
  [
    '1.2.840.10008.5.1.4.1.1.3',
    'Ultrasound Multi-frame Image Storage (Retired)',
    'Ultrasound Multi-frame Image',
  ],
  [
    '1.2.840.10008.5.1.4.1.1.12.3',
    'X-Ray Angiographic Bi-Plane Image Storage (Retired)',
    'X-Ray Angiographic Image',
  ],
  ['1.2.840.10008.5.1.4.1.1.20', 'Nuclear Medicine Image Storage', 'Nuclear Medicine Image'],
];

let byUid: Map<string, SopClass> | undefined;

function load(): Map<string, SopClass> {
  if (byUid) return byUid;
  byUid = new Map();
  for (const line of sopClassData.split('\n')) {
    const [uid = '', name = '', iod = ''] = line.split('|');
    byUid.set(uid, { uid, name, iod, retired: false });
  }
  for (const [uid, name, iod] of retiredClasses) {
    if (!byUid.has(uid)) byUid.set(uid, { uid, name, iod, retired: true });
  }
  return byUid;
}

/** The storage SOP class with this UID (PS3.4 B.5), or undefined for a private one. */
export function lookupSopClass(uid: string): SopClass | undefined {
  return load().get(uid);
}
