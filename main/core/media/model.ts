import type { Finding } from '../findings.ts';

/** Where an instance's description came from: the DICOMDIR record, or its own file header. */
export type InstanceSource = 'dicomdir' | 'header';

export interface MediaInstance {
  /** Path relative to the media root (posix separators); inside a zip: `ARCHIVE.ZIP!/inner`. */
  readonly path: string;
  readonly bytes: number;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly transferSyntaxUid: string;
  readonly instanceNumber?: number;
  readonly source: InstanceSource;
}

export interface MediaSeries {
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly number?: number;
  readonly description: string;
  readonly instances: MediaInstance[];
  bytes: number;
}

export interface MediaStudy {
  readonly studyInstanceUid: string;
  readonly date: string;
  readonly time: string;
  readonly description: string;
  readonly accessionNumber: string;
  readonly studyId: string;
  readonly modalities: string[];
  readonly series: MediaSeries[];
}

export interface MediaPatient {
  readonly patientId: string;
  readonly patientName: string;
  readonly birthDate: string;
  readonly sex: string;
  readonly studies: MediaStudy[];
}

export type NonDicomKind =
  | 'pdf'
  | 'program'
  | 'autorun'
  | 'web-page'
  | 'picture'
  | 'text'
  | 'dicomdir'
  | 'archive'
  | 'other';

export interface NonDicomFile {
  readonly path: string;
  readonly bytes: number;
  readonly kind: NonDicomKind;
}

export interface ScanSummary {
  readonly patients: number;
  readonly studies: number;
  readonly series: number;
  readonly instances: number;
  readonly bytes: number;
  readonly nonDicomFiles: number;
  readonly unreadableFiles: number;
}

export interface ScanResult {
  readonly root: string;
  /** 'dicomdir' when the study list came from the disc's DICOMDIR. */
  readonly source: 'dicomdir' | 'walk';
  readonly summary: ScanSummary;
  readonly patients: MediaPatient[];
  readonly nonDicomFiles: NonDicomFile[];
  readonly findings: Finding[];
}

/** One instance with the patient/study/series keys it is filed under. */
export interface InstanceEntry {
  readonly patientId: string;
  readonly patientName: string;
  readonly birthDate: string;
  readonly sex: string;
  readonly studyInstanceUid: string;
  readonly studyDate: string;
  readonly studyTime: string;
  readonly studyDescription: string;
  readonly accessionNumber: string;
  readonly studyId: string;
  readonly seriesInstanceUid: string;
  readonly modality: string;
  readonly seriesNumber?: number;
  readonly seriesDescription: string;
  readonly instance: MediaInstance;
}

const byNumberThenText = (
  a: { number?: number; text: string },
  b: { number?: number; text: string },
): number =>
  (a.number ?? Number.MAX_SAFE_INTEGER) - (b.number ?? Number.MAX_SAFE_INTEGER) ||
  a.text.localeCompare(b.text);

/**
 * Files instances under patient -> study -> series. Patients are told apart by ID and name
 * together, so two people who share an ID on one disc are shown as two people.
 */
export function buildTree(entries: readonly InstanceEntry[]): MediaPatient[] {
  const patients = new Map<string, MediaPatient>();
  const studies = new Map<string, MediaStudy>();
  const series = new Map<string, MediaSeries>();
  for (const entry of entries) {
    const patientKey = `${entry.patientId}\u0000${entry.patientName}`;
    let patient = patients.get(patientKey);
    if (!patient) {
      patient = {
        patientId: entry.patientId,
        patientName: entry.patientName,
        birthDate: entry.birthDate,
        sex: entry.sex,
        studies: [],
      };
      patients.set(patientKey, patient);
    }
    const studyKey = `${patientKey}\u0000${entry.studyInstanceUid}`;
    let study = studies.get(studyKey);
    if (!study) {
      study = {
        studyInstanceUid: entry.studyInstanceUid,
        date: entry.studyDate,
        time: entry.studyTime,
        description: entry.studyDescription,
        accessionNumber: entry.accessionNumber,
        studyId: entry.studyId,
        modalities: [],
        series: [],
      };
      studies.set(studyKey, study);
      patient.studies.push(study);
    }
    const seriesKey = `${studyKey}\u0000${entry.seriesInstanceUid}`;
    let seriesNode = series.get(seriesKey);
    if (!seriesNode) {
      seriesNode = {
        seriesInstanceUid: entry.seriesInstanceUid,
        modality: entry.modality,
        ...(entry.seriesNumber !== undefined ? { number: entry.seriesNumber } : {}),
        description: entry.seriesDescription,
        instances: [],
        bytes: 0,
      };
      series.set(seriesKey, seriesNode);
      study.series.push(seriesNode);
      if (entry.modality && !study.modalities.includes(entry.modality)) {
        study.modalities.push(entry.modality);
      }
    }
    seriesNode.instances.push(entry.instance);
    seriesNode.bytes += entry.instance.bytes;
  }
  const result = [...patients.values()];
  result.sort(
    (a, b) => a.patientName.localeCompare(b.patientName) || a.patientId.localeCompare(b.patientId),
  );
  for (const patient of result) {
    patient.studies.sort((a, b) => `${a.date}${a.time}`.localeCompare(`${b.date}${b.time}`));
    for (const study of patient.studies) {
      study.series.sort((a, b) =>
        byNumberThenText(
          { ...(a.number !== undefined ? { number: a.number } : {}), text: a.seriesInstanceUid },
          { ...(b.number !== undefined ? { number: b.number } : {}), text: b.seriesInstanceUid },
        ),
      );
      for (const seriesNode of study.series) {
        seriesNode.instances.sort((a, b) =>
          byNumberThenText(
            {
              ...(a.instanceNumber !== undefined ? { number: a.instanceNumber } : {}),
              text: a.path,
            },
            {
              ...(b.instanceNumber !== undefined ? { number: b.instanceNumber } : {}),
              text: b.path,
            },
          ),
        );
      }
    }
  }
  return result;
}

export function summarize(
  patients: readonly MediaPatient[],
  nonDicomFiles: readonly NonDicomFile[],
  findings: readonly Finding[],
): ScanSummary {
  let studies = 0;
  let seriesCount = 0;
  let instances = 0;
  let bytes = 0;
  for (const patient of patients) {
    studies += patient.studies.length;
    for (const study of patient.studies) {
      seriesCount += study.series.length;
      for (const seriesNode of study.series) {
        instances += seriesNode.instances.length;
        bytes += seriesNode.bytes;
      }
    }
  }
  const unreadable = new Set<string>();
  for (const finding of findings) {
    if (finding.severity === 'error' && finding.code !== 'dicomdir-missing-file') {
      for (const path of finding.paths) unreadable.add(path);
    }
  }
  return {
    patients: patients.length,
    studies,
    series: seriesCount,
    instances,
    bytes,
    nonDicomFiles: nonDicomFiles.length,
    unreadableFiles: unreadable.size,
  };
}
