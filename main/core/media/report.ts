import type { Finding } from '../findings.ts';
import { formatBytes } from '../util/format.ts';
import type { NonDicomKind, ScanResult, ScanSummary } from './model.ts';

/** The `ferry scan --json` document (docs/cli.md). */
export interface ScanJson {
  readonly root: string;
  readonly source: 'dicomdir' | 'walk';
  readonly summary: ScanSummary;
  readonly patients: Array<{
    patientId: string;
    patientName: string;
    birthDate: string;
    sex: string;
    studies: Array<{
      studyInstanceUid: string;
      date: string;
      time: string;
      description: string;
      accessionNumber: string;
      modalities: string[];
      series: Array<{
        seriesInstanceUid: string;
        modality: string;
        number: number | null;
        description: string;
        instances: number;
        bytes: number;
        sopClassUids: string[];
        transferSyntaxUids: string[];
      }>;
    }>;
  }>;
  readonly nonDicomFiles: Array<{ path: string; bytes: number; kind: NonDicomKind }>;
  readonly findings: readonly Finding[];
}

const distinct = (values: Iterable<string>): string[] =>
  [...new Set(values)].filter((value) => value !== '').sort();

export function scanToJson(result: ScanResult): ScanJson {
  return {
    root: result.root,
    source: result.source,
    summary: result.summary,
    patients: result.patients.map((patient) => ({
      patientId: patient.patientId,
      patientName: patient.patientName,
      birthDate: patient.birthDate,
      sex: patient.sex,
      studies: patient.studies.map((study) => ({
        studyInstanceUid: study.studyInstanceUid,
        date: study.date,
        time: study.time,
        description: study.description,
        accessionNumber: study.accessionNumber,
        modalities: [...study.modalities],
        series: study.series.map((series) => ({
          seriesInstanceUid: series.seriesInstanceUid,
          modality: series.modality,
          number: series.number ?? null,
          description: series.description,
          instances: series.instances.length,
          bytes: series.bytes,
          sopClassUids: distinct(series.instances.map((instance) => instance.sopClassUid)),
          transferSyntaxUids: distinct(
            series.instances.map((instance) => instance.transferSyntaxUid),
          ),
        })),
      })),
    })),
    nonDicomFiles: result.nonDicomFiles.map((file) => ({ ...file })),
    findings: result.findings,
  };
}

/** DICOM DA (YYYYMMDD) as ISO 8601, or as given when it is not a plain date. */
export function formatDicomDate(date: string): string {
  return /^\d{8}$/u.test(date) ? `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6)}` : date;
}

/** DICOM PN as people write it: "Family^Given^Middle" -> "Given Middle Family". */
export function formatPersonName(name: string): string {
  const alphabetic = name.split('=')[0] ?? '';
  const [family = '', given = '', middle = '', prefix = '', suffix = ''] = alphabetic.split('^');
  const text = [prefix, given, middle, family, suffix]
    .filter((part) => part.trim() !== '')
    .join(' ');
  return text || '(no name)';
}

const kindLabel: Record<NonDicomKind, string> = {
  pdf: 'PDF document',
  program: 'program',
  autorun: 'autorun file',
  'web-page': 'web page',
  picture: 'picture',
  text: 'text file',
  dicomdir: 'table of contents (DICOMDIR)',
  archive: 'archive',
  other: 'other file',
};

const kindLabels: Record<NonDicomKind, string> = {
  pdf: 'PDF documents',
  program: 'programs',
  autorun: 'autorun files',
  'web-page': 'web pages',
  picture: 'pictures',
  text: 'text files',
  dicomdir: 'tables of contents (DICOMDIR)',
  archive: 'archives',
  other: 'other files',
};

const plural = (count: number, one: string, many = `${one}s`): string =>
  `${count} ${count === 1 ? one : many}`;

/** The readable tree `ferry scan` prints for people. */
export function formatScanText(result: ScanResult): string {
  const lines: string[] = [];
  const from = result.source === 'dicomdir' ? "from the disc's DICOMDIR" : 'by reading every file';
  lines.push(`Scanned ${result.root} (${from})`, '');
  if (result.patients.length === 0) lines.push('No medical images were found.', '');
  for (const patient of result.patients) {
    const born = patient.birthDate ? `, born ${formatDicomDate(patient.birthDate)}` : '';
    const id = patient.patientId ? `, ID ${patient.patientId}` : '';
    lines.push(`${formatPersonName(patient.patientName)}${id}${born}`);
    for (const study of patient.studies) {
      const images = study.series.reduce((sum, series) => sum + series.instances.length, 0);
      const bytes = study.series.reduce((sum, series) => sum + series.bytes, 0);
      const date = study.date ? formatDicomDate(study.date) : 'no date';
      const description = study.description || '(no description)';
      lines.push(
        `  ${date}  ${description}  [${study.modalities.join(', ')}]  ${plural(study.series.length, 'series', 'series')}, ${plural(images, 'image')}, ${formatBytes(bytes)}`,
      );
      for (const series of study.series) {
        const number = series.number !== undefined ? `#${series.number}` : '#?';
        lines.push(
          `    ${number.padEnd(5)} ${series.modality.padEnd(3)} ${(series.description || '(no description)').padEnd(30)} ${plural(series.instances.length, 'image').padStart(11)}  ${formatBytes(series.bytes)}`,
        );
      }
    }
    lines.push('');
  }
  if (result.nonDicomFiles.length > 0) {
    const counts = new Map<NonDicomKind, number>();
    for (const file of result.nonDicomFiles)
      counts.set(file.kind, (counts.get(file.kind) ?? 0) + 1);
    const parts = [...counts].map(
      ([kind, count]) => `${count} ${count > 1 ? kindLabels[kind] : kindLabel[kind]}`,
    );
    lines.push(`Also on the disc, not images: ${parts.join(', ')}.`, '');
  }
  // Documents and programs are already counted above; list what needs attention.
  const noticed = result.findings.filter((finding) => finding.code !== 'not-dicom');
  if (noticed.length > 0) {
    lines.push('What Ferry noticed:');
    for (const finding of noticed) {
      const where = finding.paths.length > 0 ? ` ${finding.paths.join(', ')}` : '';
      lines.push(`  ${finding.severity.toUpperCase()} ${finding.code}${where}`);
      lines.push(`    ${finding.message}${finding.detail ? ` (${finding.detail})` : ''}`);
    }
    lines.push('');
  }
  const s = result.summary;
  lines.push(
    `${plural(s.patients, 'patient')}, ${plural(s.studies, 'study', 'studies')}, ${plural(s.series, 'series', 'series')}, ${plural(s.instances, 'image')} (${formatBytes(s.bytes)}); ${plural(s.nonDicomFiles, 'other file')}; ${plural(s.unreadableFiles, 'unreadable file')}.`,
  );
  return `${lines.join('\n')}\n`;
}
