/**
 * The rules over the disc as a whole: the UID hierarchy (PS3.3 C.7.2-C.7.3: a series belongs to
 * one study, a study to one patient), one SOP Instance UID per content, completeness where the
 * headers give counts, several people on one disc, and the identity check against the link.
 */
import type { MediaInstance, MediaPatient, ScanResult } from '../media/model.ts';
import type { FindingCode } from '../findings.ts';
import { checkIdentity, namesMatch, normaliseBirthDate, type ExpectedPatient } from './identity.ts';
import type { InstanceFacts } from './instance-rules.ts';

export interface MediaFinding {
  readonly code: FindingCode;
  readonly detail?: string;
  readonly paths: readonly string[];
}

function instancesOf(patient: MediaPatient): MediaInstance[] {
  return patient.studies.flatMap((study) => study.series.flatMap((series) => series.instances));
}

function firstInstanceOf(patient: MediaPatient): MediaInstance | undefined {
  for (const study of patient.studies)
    for (const series of study.series) if (series.instances.length > 0) return series.instances[0];
  return undefined;
}

/** People on the disc: patient entries joined when their names match and their ID or birth date agree. */
export function groupPeople(patients: readonly MediaPatient[]): MediaPatient[][] {
  const groups: MediaPatient[][] = [];
  for (const patient of patients) {
    const same = groups.find((group) => group.some((other) => samePerson(patient, other)));
    if (same) same.push(patient);
    else groups.push([patient]);
  }
  return groups;
}

function samePerson(a: MediaPatient, b: MediaPatient): boolean {
  const nameA = a.patientName.trim();
  const nameB = b.patientName.trim();
  const names = nameA === nameB || (nameA !== '' && nameB !== '' && namesMatch(nameA, nameB));
  if (!names) return false;
  if (a.patientId !== '' && a.patientId === b.patientId) return true;
  const dateA = normaliseBirthDate(a.birthDate);
  const dateB = normaliseBirthDate(b.birthDate);
  return dateA === undefined || dateB === undefined || dateA === dateB;
}

export function hierarchyFindings(scan: ScanResult): MediaFinding[] {
  const findings: MediaFinding[] = [];
  const people = groupPeople(scan.patients);
  const personOf = new Map<MediaPatient, number>();
  people.forEach((group, index) => group.forEach((patient) => personOf.set(patient, index)));

  // A study under two people, a series under two studies. Paths are gathered only for the
  // UIDs in conflict, which are rare: most discs need none.
  const studyOwners = new Map<string, Set<number>>();
  const seriesOwners = new Map<string, Set<string>>();
  for (const patient of scan.patients) {
    const person = personOf.get(patient) ?? -1;
    for (const study of patient.studies) {
      if (study.studyInstanceUid === '') continue;
      let owners = studyOwners.get(study.studyInstanceUid);
      if (!owners) studyOwners.set(study.studyInstanceUid, (owners = new Set()));
      owners.add(person);
      for (const series of study.series) {
        if (series.seriesInstanceUid === '') continue;
        let studies = seriesOwners.get(series.seriesInstanceUid);
        if (!studies) seriesOwners.set(series.seriesInstanceUid, (studies = new Set()));
        studies.add(study.studyInstanceUid);
      }
    }
  }
  const conflictingStudies = new Map<string, string[]>();
  const conflictingSeries = new Map<string, string[]>();
  for (const [uid, owners] of studyOwners) if (owners.size > 1) conflictingStudies.set(uid, []);
  for (const [uid, studies] of seriesOwners) if (studies.size > 1) conflictingSeries.set(uid, []);
  if (conflictingStudies.size > 0 || conflictingSeries.size > 0) {
    for (const patient of scan.patients) {
      for (const study of patient.studies) {
        const studyPaths = conflictingStudies.get(study.studyInstanceUid);
        for (const series of study.series) {
          const seriesPaths = conflictingSeries.get(series.seriesInstanceUid);
          for (const instance of series.instances) {
            studyPaths?.push(instance.path);
            seriesPaths?.push(instance.path);
          }
        }
      }
    }
  }
  for (const [uid, paths] of conflictingStudies) {
    findings.push({
      code: 'uid-hierarchy-conflict',
      detail: `one Study Instance UID is filed under ${studyOwners.get(uid)!.size} different patients`,
      paths,
    });
  }
  for (const [uid, paths] of conflictingSeries) {
    findings.push({
      code: 'uid-hierarchy-conflict',
      detail: `one Series Instance UID is filed under ${seriesOwners.get(uid)!.size} different studies`,
      paths,
    });
  }

  if (people.length > 1) {
    findings.push({
      code: 'several-patients',
      detail: `${people.length} people (told apart by name, patient ID and birth date)`,
      paths: people
        .map((group) => firstInstanceOf(group[0]!)?.path ?? '')
        .filter((path) => path !== ''),
    });
  }
  return findings;
}

export function identityFindings(scan: ScanResult, expected: ExpectedPatient): MediaFinding[] {
  const findings: MediaFinding[] = [];
  for (const patient of scan.patients) {
    const check = checkIdentity(
      { name: patient.patientName, birthDate: patient.birthDate },
      expected,
    );
    const paths = instancesOf(patient).map((instance) => instance.path);
    const mismatched: string[] = [];
    if (check.name === 'mismatch') mismatched.push('name does not match');
    if (check.birthDate === 'mismatch') mismatched.push('birth date does not match');
    if (mismatched.length > 0) {
      findings.push({ code: 'patient-mismatch', detail: mismatched.join('; '), paths });
      continue;
    }
    const unknown: string[] = [];
    if (check.name === 'unknown') unknown.push('no patient name');
    if (check.birthDate === 'unknown') unknown.push('no birth date');
    if (unknown.length > 0)
      findings.push({ code: 'patient-unverified', detail: unknown.join('; '), paths });
  }
  return findings;
}

/** Completeness where the headers tell the expected count (PS3.3 C.7.2.2, C.7.3.2, C.7.6.1). */
export function completenessFindings(facts: readonly InstanceFacts[]): MediaFinding[] {
  // Most discs declare no count at all: find the groups that do before counting anything.
  const declared = new Map<string, { label: string; count: number }>();
  const keysOf = (fact: InstanceFacts): Array<[string, number | undefined, () => string]> => {
    const series = (): string =>
      `series ${fact.seriesNumber ?? '(no number)'}${fact.modality ? ` (${fact.modality})` : ''}`;
    const keys: Array<[string, number | undefined, () => string]> = [];
    if (fact.studyInstanceUid) {
      keys.push([`study\u0000${fact.studyInstanceUid}`, fact.studyRelatedInstances, () => 'study']);
    }
    if (fact.seriesInstanceUid) {
      keys.push([`series\u0000${fact.seriesInstanceUid}`, fact.seriesRelatedInstances, series]);
      if (fact.imagesInAcquisition !== undefined) {
        keys.push([
          `acquisition\u0000${fact.seriesInstanceUid}\u0000${fact.acquisitionNumber ?? ''}`,
          fact.imagesInAcquisition,
          () => `${series()}, acquisition ${fact.acquisitionNumber ?? '(no number)'}`,
        ]);
      }
    }
    return keys;
  };
  for (const fact of facts) {
    if (
      fact.studyRelatedInstances === undefined &&
      fact.seriesRelatedInstances === undefined &&
      fact.imagesInAcquisition === undefined
    ) {
      continue;
    }
    for (const [key, count, label] of keysOf(fact)) {
      if (count === undefined) continue;
      const entry = declared.get(key);
      if (!entry) declared.set(key, { label: label(), count });
      else if (count > entry.count) entry.count = count;
    }
  }
  if (declared.size === 0) return [];
  const found = new Map<string, { uids: Set<string>; paths: string[] }>();
  for (const fact of facts) {
    for (const [key] of keysOf(fact)) {
      if (!declared.has(key)) continue;
      let entry = found.get(key);
      if (!entry) found.set(key, (entry = { uids: new Set(), paths: [] }));
      entry.uids.add(fact.sopInstanceUid || fact.path);
      entry.paths.push(fact.path);
    }
  }
  const findings: MediaFinding[] = [];
  for (const [key, { label, count }] of declared) {
    const entry = found.get(key);
    const onDisc = entry?.uids.size ?? 0;
    if (count > onDisc) {
      findings.push({
        code: 'study-incomplete',
        detail: `${label}: ${onDisc} of ${count} instances on the disc`,
        paths: [...(entry?.paths ?? [])].sort(),
      });
    }
  }
  return findings;
}
