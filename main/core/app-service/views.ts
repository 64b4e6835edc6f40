/** ScanResult (media/model.ts) -> the ScanView the screens show (api.ts). */
import type { FindingView, PatientView, ScanView } from '../api.ts';
import type { Finding } from '../findings.ts';
import type { ScanResult } from '../media/model.ts';

const PATHS_PER_FINDING = 5;

/** One row per finding code, most severe first: a disc of 800 damaged files is one sentence. */
export function groupFindings(findings: readonly Finding[]): FindingView[] {
  const byCode = new Map<string, { finding: Finding; paths: Set<string> }>();
  for (const finding of findings) {
    let group = byCode.get(finding.code);
    if (!group) {
      group = { finding, paths: new Set() };
      byCode.set(finding.code, group);
    }
    for (const path of finding.paths) group.paths.add(path);
  }
  const rank = { error: 0, warning: 1, info: 2 } as const;
  return [...byCode.values()]
    .map(({ finding, paths }) => ({
      severity: finding.severity,
      code: finding.code,
      message: finding.message,
      count: Math.max(paths.size, 1),
      paths: [...paths].slice(0, PATHS_PER_FINDING),
    }))
    .sort((a, b) => rank[a.severity] - rank[b.severity] || a.code.localeCompare(b.code));
}

export const patientKey = (index: number): string => `p${index + 1}`;
export const studyKey = (patientIndex: number, studyIndex: number): string =>
  `p${patientIndex + 1}s${studyIndex + 1}`;

export function toScanView(scanId: string, result: ScanResult, complete: boolean): ScanView {
  const patients: PatientView[] = result.patients.map((patient, p) => ({
    key: patientKey(p),
    name: patient.patientName,
    patientId: patient.patientId,
    birthDate: patient.birthDate,
    sex: patient.sex,
    studies: patient.studies.map((study, s) => ({
      key: studyKey(p, s),
      studyInstanceUid: study.studyInstanceUid,
      date: study.date,
      time: study.time,
      description: study.description,
      accessionNumber: study.accessionNumber,
      modalities: study.modalities,
      instances: study.series.reduce((n, series) => n + series.instances.length, 0),
      bytes: study.series.reduce((n, series) => n + series.bytes, 0),
      series: study.series.map((series) => ({
        seriesInstanceUid: series.seriesInstanceUid,
        modality: series.modality,
        ...(series.number !== undefined ? { number: series.number } : {}),
        description: series.description,
        instances: series.instances.length,
        bytes: series.bytes,
        firstPath: series.instances[0]?.path ?? '',
      })),
    })),
  }));
  return {
    scanId,
    root: result.root,
    source: result.source,
    complete,
    summary: result.summary,
    patients,
    findings: groupFindings(result.findings),
  };
}
