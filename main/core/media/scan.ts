import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import yauzl from 'yauzl';
import { Tag } from '../dicom/dictionary.ts';
import { readInstanceHeader, type InstanceHeader } from '../dicom/instance.ts';
import { DicomParseError, type DicomDataset, type ParsedDicom } from '../dicom/parse.ts';
import { getInteger, getText } from '../dicom/values.ts';
import { makeFinding, type Finding } from '../findings.ts';
import { forEachLimit, throwIfAborted } from '../util/pool.ts';
import { classifyNonDicom, isZip } from './classify.ts';
import { readDicomdir, type DirectoryRecord } from './dicomdir.ts';
import {
  buildTree,
  summarize,
  type InstanceEntry,
  type MediaInstance,
  type NonDicomFile,
  type ScanResult,
} from './model.ts';
import { HEAD_BYTES, readFileHeadSync, readStreamHead, type HeadRead } from './read-head.ts';
import { DICOMDIR_NAME, MEDIA_STORAGE_DIRECTORY, walkFiles, type FoundFile } from './walk.ts';
import { nextZipEntry } from './zip.ts';

export type ScanPhase = 'dicomdir' | 'index' | 'headers' | 'zip';

export type ScanEvent =
  | { readonly kind: 'phase'; readonly phase: ScanPhase }
  | {
      readonly kind: 'progress';
      readonly phase: ScanPhase;
      readonly done: number;
      readonly total: number;
    }
  /** The study list as soon as it is known (from the DICOMDIR, before any image is opened). */
  | { readonly kind: 'study-list'; readonly result: ScanResult };

export interface ScanOptions {
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: ScanEvent) => void;
  /**
   * Read every file's own header even when a DICOMDIR lists it, to find entries that disagree
   * with their files (default true). Off, the scan trusts the DICOMDIR and only checks presence.
   */
  readonly verify?: boolean;
  /**
   * Files in progress at once (default 8). Header reads themselves are synchronous and happen
   * one after another (see readFileHeadSync); this bounds the asynchronous step (stat, when
   * DICOMDIR entries are not verified).
   */
  readonly concurrency?: number;
  /**
   * Called with each instance's parsed header as it is read (validation runs its rules here, so
   * no file is read twice). The header's buffer is only valid during the call: keep no reference.
   * `whole` gives the whole dataset of the same bytes (see instanceHeadersOnly).
   */
  readonly onInstanceHeader?: (
    relPath: string,
    parsed: ParsedDicom,
    fileSize: number,
    whole: () => ParsedDicom,
  ) => void;
  /**
   * Hand onInstanceHeader the header-only parse the scan makes for itself; the callback calls
   * `whole` for the whole dataset, parsed from the same bytes, only when it needs it (validation
   * needs it for a header unlike the one before). Off, `parsed` is the whole dataset.
   */
  readonly instanceHeadersOnly?: boolean;
}

interface DicomdirEntry {
  readonly entry: InstanceEntry;
  /** Relative path as the record names it, before resolving against the files present. */
  readonly referencedPath: string;
}

/** ISO 9660 names: case-insensitive, a ";1" version suffix, a trailing dot when no extension. */
export function fileIdKey(relPath: string): string {
  return relPath
    .split('/')
    .map((part) => part.toUpperCase().replace(/;\d+$/u, '').replace(/\.$/u, ''))
    .join('/');
}

function systemErrorDetail(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `system error ${code}` : 'read error';
}

function withRootCharset(item: DicomDataset, root: DicomDataset): DicomDataset {
  return item.characterSet.length === 0 && root.characterSet.length > 0
    ? { ...item, characterSet: root.characterSet }
    : item;
}

/** Walks the directory records, carrying the patient/study/series keys down to each file. */
function dicomdirEntries(
  roots: readonly DirectoryRecord[],
  rootDataset: DicomDataset,
  baseRel: string,
  findings: Finding[],
  dicomdirRel: string,
): DicomdirEntry[] {
  const entries: DicomdirEntry[] = [];
  let unknownTypes = 0;
  const text = (record: DirectoryRecord | undefined, tag: number): string =>
    record ? (getText(withRootCharset(record.dataset, rootDataset), tag) ?? '') : '';
  // Every file under a patient, study or series record shares its fields: decode them once per
  // record, not once per file (a 10,000-image disc has a few hundred such records).
  const memo = <T>(read: (record: DirectoryRecord | undefined) => T) => {
    const cache = new Map<DirectoryRecord | undefined, T>();
    return (record: DirectoryRecord | undefined): T => {
      let value = cache.get(record);
      if (value === undefined) {
        value = read(record);
        cache.set(record, value);
      }
      return value;
    };
  };
  const patientFields = memo((record) => ({
    patientId: text(record, Tag.PatientId),
    patientName: text(record, Tag.PatientName),
    birthDate: text(record, Tag.PatientBirthDate),
    sex: text(record, Tag.PatientSex),
  }));
  const studyFields = memo((record) => ({
    studyInstanceUid: text(record, Tag.StudyInstanceUid),
    studyDate: text(record, Tag.StudyDate),
    studyTime: text(record, Tag.StudyTime),
    studyDescription: text(record, Tag.StudyDescription),
    accessionNumber: text(record, Tag.AccessionNumber),
    studyId: text(record, Tag.StudyId),
  }));
  const seriesFields = memo((record) => ({
    seriesInstanceUid: text(record, Tag.SeriesInstanceUid),
    modality: text(record, Tag.Modality),
    seriesNumber: record ? getInteger(record.dataset, Tag.SeriesNumber) : undefined,
    seriesDescription: text(record, Tag.SeriesDescription),
  }));
  const visit = (
    record: DirectoryRecord,
    patient: DirectoryRecord | undefined,
    study: DirectoryRecord | undefined,
    series: DirectoryRecord | undefined,
  ): void => {
    switch (record.type) {
      case 'PATIENT':
        patient = record;
        break;
      case 'STUDY':
        study = record;
        break;
      case 'SERIES':
        series = record;
        break;
      default:
        if (!record.referencedFileId && record.children.length > 0) {
          // An unknown container (pydicom's "nopatient" variant): keep what is under it.
          unknownTypes++;
          if (!patient && (text(record, Tag.PatientId) || text(record, Tag.PatientName))) {
            patient = record;
          }
        }
    }
    if (record.referencedFileId && record.type !== 'PATIENT' && record.type !== 'STUDY') {
      const referencedPath = [baseRel, ...record.referencedFileId]
        .filter((part) => part !== '')
        .join('/');
      const ofPatient = patientFields(patient);
      const ofStudy = studyFields(study);
      const ofSeries = seriesFields(series);
      const seriesNumber = ofSeries.seriesNumber;
      const instanceNumber = getInteger(record.dataset, Tag.InstanceNumber);
      const instance: MediaInstance = {
        path: referencedPath,
        bytes: 0,
        sopInstanceUid: record.referencedSopInstanceUid,
        sopClassUid: record.referencedSopClassUid,
        transferSyntaxUid: record.referencedTransferSyntaxUid,
        ...(instanceNumber !== undefined ? { instanceNumber } : {}),
        source: 'dicomdir',
      };
      entries.push({
        referencedPath,
        entry: {
          patientId: ofPatient.patientId,
          patientName: ofPatient.patientName,
          birthDate: ofPatient.birthDate,
          sex: ofPatient.sex,
          studyInstanceUid: ofStudy.studyInstanceUid,
          studyDate: ofStudy.studyDate,
          studyTime: ofStudy.studyTime,
          studyDescription: ofStudy.studyDescription,
          accessionNumber: ofStudy.accessionNumber,
          studyId: ofStudy.studyId,
          seriesInstanceUid: ofSeries.seriesInstanceUid,
          modality: ofSeries.modality,
          ...(seriesNumber !== undefined ? { seriesNumber } : {}),
          seriesDescription: ofSeries.seriesDescription,
          instance,
        },
      });
    }
    for (const child of record.children) visit(child, patient, study, series);
  };
  for (const root of roots) visit(root, undefined, undefined, undefined);
  if (unknownTypes > 0) {
    findings.push(
      makeFinding(
        'dicomdir-unknown-record',
        [dicomdirRel],
        `${unknownTypes} record(s) of an unknown Directory Record Type`,
      ),
    );
  }
  return entries;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * One copy of each text value that files share (every file of a series repeats its patient,
 * study and series attributes): the scan's result holds a few strings per file, not twenty,
 * which is less memory and less for the garbage collector to copy.
 */
class SharedText {
  private readonly values = new Map<string, string>();
  of(value: string): string {
    const known = this.values.get(value);
    if (known !== undefined) return known;
    this.values.set(value, value);
    return value;
  }
}

function entryFromHeader(
  header: InstanceHeader,
  relPath: string,
  bytes: number,
  shared: SharedText,
): InstanceEntry {
  const instance: Mutable<MediaInstance> = {
    path: relPath,
    bytes,
    sopInstanceUid: header.sopInstanceUid,
    sopClassUid: shared.of(header.sopClassUid),
    transferSyntaxUid: shared.of(header.transferSyntaxUid),
    source: 'header',
  };
  if (header.instanceNumber !== undefined) instance.instanceNumber = header.instanceNumber;
  const entry: Mutable<InstanceEntry> = {
    patientId: shared.of(header.patientId),
    patientName: shared.of(header.patientName),
    birthDate: shared.of(header.patientBirthDate),
    sex: shared.of(header.patientSex),
    studyInstanceUid: shared.of(header.studyInstanceUid),
    studyDate: shared.of(header.studyDate),
    studyTime: shared.of(header.studyTime),
    studyDescription: shared.of(header.studyDescription),
    accessionNumber: shared.of(header.accessionNumber),
    studyId: shared.of(header.studyId),
    seriesInstanceUid: shared.of(header.seriesInstanceUid),
    modality: shared.of(header.modality),
    seriesDescription: shared.of(header.seriesDescription),
    instance,
  };
  if (header.seriesNumber !== undefined) entry.seriesNumber = header.seriesNumber;
  return entry;
}

/** Names of the identifying attributes on which a DICOMDIR record and its file disagree. */
function disagreements(record: InstanceEntry, header: InstanceHeader): string[] {
  const differ: string[] = [];
  const check = (name: string, fromRecord: string, fromHeader: string): void => {
    if (fromRecord !== '' && fromRecord !== fromHeader) differ.push(name);
  };
  check('SOP Instance UID', record.instance.sopInstanceUid, header.sopInstanceUid);
  check('SOP Class UID', record.instance.sopClassUid, header.sopClassUid);
  check('Study Instance UID', record.studyInstanceUid, header.studyInstanceUid);
  check('Series Instance UID', record.seriesInstanceUid, header.seriesInstanceUid);
  check('Patient ID', record.patientId, header.patientId);
  return differ;
}

/** An instance's header and its file's size. */
interface Examined {
  readonly header: InstanceHeader;
  readonly size: number;
}

const ZIP = Symbol('zip');

/** Longest run of synchronous header reads between two turns of the event loop. */
const TURN_MS = 4;

class Scanner {
  readonly findings: Finding[] = [];
  readonly nonDicom: NonDicomFile[] = [];
  readonly entries: InstanceEntry[] = [];
  readonly shared = new SharedText();
  /** One read buffer for every header: each is decoded before the next read. */
  private readonly scratch = Buffer.alloc(HEAD_BYTES);
  /**
   * Without a per-instance callback only the header's attributes are kept from each file (every
   * element is still read and checked); a callback gets the whole dataset unless it asks for the
   * header only (ScanOptions.instanceHeadersOnly).
   */
  private readonly headerOnly: boolean;
  /** The header being handed to onInstanceHeader, for `whole`. */
  private current: HeadRead | undefined;
  /** The whole dataset of the current header: parsed again when the scan kept only its header. */
  private readonly whole = (): ParsedDicom => {
    const head = this.current;
    if (!head || head.read.kind !== 'dicom')
      throw new Error('no instance header is being handed over');
    if (!this.headerOnly) return head.read.parsed;
    const read = readInstanceHeader(head.bytes, { fileSize: head.parsedSize });
    // The same bytes parsed the same way: only what is kept differs.
    if (read.kind !== 'dicom') throw new Error(`the whole header parse disagrees: ${read.kind}`);
    return read.parsed;
  };
  /** When the event loop last had a turn during the header reads. */
  private lastTurn = performance.now();

  constructor(
    private readonly root: string,
    private readonly options: ScanOptions,
  ) {
    this.headerOnly =
      options.onInstanceHeader === undefined || options.instanceHeadersOnly === true;
  }

  emit(event: ScanEvent): void {
    this.options.onEvent?.(event);
  }

  result(source: 'dicomdir' | 'walk', entries: readonly InstanceEntry[]): ScanResult {
    const patients = buildTree(entries);
    return {
      root: this.root,
      source,
      summary: summarize(patients, this.nonDicom, this.findings),
      patients,
      nonDicomFiles: [...this.nonDicom].sort((a, b) => a.path.localeCompare(b.path)),
      findings: [...this.findings],
    };
  }

  async walk(): Promise<FoundFile[]> {
    const files = await walkFiles(this.root, {
      signal: this.options.signal,
      onUnreadableFolder: (rel, error) => {
        this.findings.push(
          makeFinding('unreadable-folder', [rel || '.'], systemErrorDetail(error)),
        );
      },
      onFolder: (done) => this.emit({ kind: 'progress', phase: 'index', done, total: 0 }),
    });
    files.sort((a, b) => a.relPath.localeCompare(b.relPath));
    return files;
  }

  /**
   * Examines each item's file in order, one after another: the header reads are synchronous
   * (see readFileHeadSync), so overlapping them would gain nothing, and no promise is made per
   * file. Timers, signals and the UI get a turn once TURN_MS have passed (a few hundred cached
   * files, or every file of a slow disc); a zip is read in place when it comes.
   */
  async examineEach<T>(
    items: readonly T[],
    fileOf: (item: T) => FoundFile,
    onExamined: (item: T, index: number, found: Examined | undefined) => void,
  ): Promise<void> {
    for (let index = 0; index < items.length; index++) {
      throwIfAborted(this.options.signal);
      if (performance.now() - this.lastTurn >= TURN_MS) {
        await yieldToEventLoop();
        this.lastTurn = performance.now();
      }
      const item = items[index] as T;
      const file = fileOf(item);
      const found = this.examine(file);
      if (found === ZIP) {
        await this.scanZip(file);
        onExamined(item, index, undefined);
      } else {
        onExamined(item, index, found);
      }
    }
  }

  /**
   * Reads a file's header and files it as an instance, a non-DICOM file, or a finding; a zip is
   * only recognised here (scanZip reads it).
   */
  examine(file: FoundFile): Examined | typeof ZIP | undefined {
    let head: HeadRead;
    try {
      head = readFileHeadSync(file.absPath, this.scratch, { headerOnly: this.headerOnly });
    } catch (error) {
      if (error instanceof DicomParseError) throw error;
      this.findings.push(makeFinding('unreadable-file', [file.relPath], systemErrorDetail(error)));
      return undefined;
    }
    if (isZip(head.head)) return ZIP;
    return this.judge(file.relPath, path.posix.basename(file.relPath), head);
  }

  judge(relPath: string, name: string, head: HeadRead): Examined | undefined {
    const read = head.read;
    if (head.size === 0) {
      this.findings.push(makeFinding('empty-file', [relPath]));
      return undefined;
    }
    switch (read.kind) {
      case 'dicom': {
        if (read.header.sopClassUid === MEDIA_STORAGE_DIRECTORY) {
          this.nonDicom.push({ path: relPath, bytes: head.size, kind: 'dicomdir' });
          return undefined;
        }
        if (read.pixelDataEnd !== undefined && read.pixelDataEnd > head.size) {
          this.findings.push(
            makeFinding(
              'truncated-file',
              [relPath],
              `pixel data ends at byte ${read.pixelDataEnd}, the file has ${head.size} bytes`,
            ),
          );
          return undefined;
        }
        if (!read.header.part10) {
          this.findings.push(makeFinding('no-file-meta', [relPath]));
        }
        const onInstanceHeader = this.options.onInstanceHeader;
        if (onInstanceHeader) {
          this.current = head;
          try {
            onInstanceHeader(relPath, read.parsed, head.size, this.whole);
          } finally {
            this.current = undefined;
          }
        }
        return { header: read.header, size: head.size };
      }
      case 'not-dicom': {
        const kind = classifyNonDicom(name, head.head);
        this.nonDicom.push({ path: relPath, bytes: head.size, kind });
        const dicomName = kind === 'other' && /\.(dcm|dicom|dic|ima)$/iu.test(name);
        this.findings.push(
          dicomName
            ? makeFinding('unrecognised-dicom-name', [relPath], read.reason)
            : makeFinding('not-dicom', [relPath], kind),
        );
        return undefined;
      }
      case 'need-more':
      case 'malformed': {
        const truncated = read.kind === 'need-more' || read.code === 'truncated';
        const detail = read.kind === 'malformed' ? read.message : 'the header is incomplete';
        this.findings.push(
          makeFinding(truncated ? 'truncated-file' : 'malformed-file', [relPath], detail),
        );
        return undefined;
      }
    }
  }

  /** Opens a zip on the media and reads each entry's header in place (no extraction). */
  async scanZip(file: FoundFile): Promise<void> {
    this.emit({ kind: 'phase', phase: 'zip' });
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(file.absPath, { lazyEntries: true, autoClose: false });
    } catch (error) {
      this.findings.push(
        makeFinding('zip-unreadable', [file.relPath], (error as Error).message ?? 'zip error'),
      );
      return;
    }
    try {
      for (;;) {
        throwIfAborted(this.options.signal);
        const entry = await nextZipEntry(zip);
        if (!entry) break;
        if (entry.fileName.endsWith('/')) continue;
        const relPath = `${file.relPath}!/${entry.fileName}`;
        const name = path.posix.basename(entry.fileName);
        let head: HeadRead;
        try {
          const stream = await zip.openReadStreamPromise(entry);
          try {
            head = await readStreamHead(stream, entry.uncompressedSize);
          } finally {
            stream.destroy();
          }
        } catch (error) {
          this.findings.push(
            makeFinding('zip-entry-unreadable', [relPath], (error as Error).message),
          );
          continue;
        }
        if (DICOMDIR_NAME.test(name)) {
          // The zip's own table of contents: its files are read directly below.
          this.nonDicom.push({ path: relPath, bytes: entry.uncompressedSize, kind: 'dicomdir' });
          continue;
        }
        const found = this.judge(relPath, name, head);
        if (found) {
          this.entries.push(entryFromHeader(found.header, relPath, found.size, this.shared));
        }
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') throw error;
      this.findings.push(makeFinding('zip-unreadable', [file.relPath], (error as Error).message));
    } finally {
      zip.close();
    }
  }

  /** Finds and reads DICOMDIR files; returns their entries keyed by file-ID, or undefined. */
  async readDicomdirs(
    files: readonly FoundFile[],
  ): Promise<{ entries: DicomdirEntry[]; bases: string[] } | undefined> {
    const dicomdirs = files.filter((file) => DICOMDIR_NAME.test(path.posix.basename(file.relPath)));
    if (dicomdirs.length === 0) return undefined;
    const entries: DicomdirEntry[] = [];
    const bases: string[] = [];
    for (const file of dicomdirs) {
      const entriesOf = await this.readOneDicomdir(file);
      if (entriesOf) {
        entries.push(...entriesOf);
        bases.push(path.posix.dirname(file.relPath));
      }
    }
    return bases.length > 0 ? { entries, bases } : undefined;
  }

  async readOneDicomdir(file: FoundFile): Promise<DicomdirEntry[] | undefined> {
    this.emit({ kind: 'phase', phase: 'dicomdir' });
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file.absPath);
    } catch (error) {
      this.findings.push(
        makeFinding('dicomdir-unreadable', [file.relPath], systemErrorDetail(error)),
      );
      return undefined;
    }
    this.nonDicom.push({ path: file.relPath, bytes: bytes.length, kind: 'dicomdir' });
    try {
      const dicomdir = readDicomdir(bytes);
      const base = path.posix.dirname(file.relPath);
      return dicomdirEntries(
        dicomdir.roots,
        dicomdir.root,
        base === '.' ? '' : base,
        this.findings,
        file.relPath,
      );
    } catch (error) {
      if (!(error instanceof DicomParseError) && !(error instanceof RangeError)) throw error;
      this.findings.push(makeFinding('dicomdir-unreadable', [file.relPath], error.message));
      return undefined;
    }
  }
}

/**
 * Scans media for DICOM: the DICOMDIR first (IHE PDI), then every file as a checklist against
 * it; without a DICOMDIR, every file by content. Cancel with `options.signal`.
 */
export async function scanMedia(target: string, options: ScanOptions = {}): Promise<ScanResult> {
  const info = await stat(target);
  let root = target;
  let only: FoundFile[] | undefined;
  if (!info.isDirectory()) {
    root = path.dirname(target);
    only = [{ relPath: path.basename(target), absPath: target }];
  }
  const scanner = new Scanner(root, options);
  const verify = options.verify ?? true;
  const concurrency = options.concurrency ?? 8;
  const signal = options.signal;

  // 1. The DICOMDIR at the root, before anything else: the study list without opening images.
  let rootDicomdir: DicomdirEntry[] | undefined;
  if (!only) {
    const rootNames = await readdir(root).catch(() => [] as string[]);
    const name = rootNames.find((candidate) => DICOMDIR_NAME.test(candidate));
    if (name) {
      rootDicomdir = await scanner.readOneDicomdir({
        relPath: name,
        absPath: path.join(root, name),
      });
      if (rootDicomdir) {
        scanner.emit({
          kind: 'study-list',
          result: scanner.result(
            'dicomdir',
            rootDicomdir.map((item) => item.entry),
          ),
        });
      }
    }
  }
  throwIfAborted(signal);

  // 2. Every file on the media.
  scanner.emit({ kind: 'phase', phase: 'index' });
  const files = only ?? (await scanner.walk());

  let dicomdirEntriesAll: DicomdirEntry[] = rootDicomdir ?? [];
  let bases: string[] = rootDicomdir ? [''] : [];
  const deeper = files.filter(
    (file) => DICOMDIR_NAME.test(path.posix.basename(file.relPath)) && file.relPath.includes('/'),
  );
  if (deeper.length > 0 && !only) {
    const more = await scanner.readDicomdirs(deeper);
    if (more) {
      dicomdirEntriesAll = [...dicomdirEntriesAll, ...more.entries];
      bases = [...bases, ...more.bases];
    }
  }
  const dicomdirPaths = new Set(
    files
      .filter((file) => DICOMDIR_NAME.test(path.posix.basename(file.relPath)))
      .map((f) => f.relPath),
  );

  // 3. Referenced files: present? (and, when verifying, does the file agree with its record?)
  const byKey = new Map<string, FoundFile>();
  if (dicomdirEntriesAll.length > 0) {
    for (const file of files) byKey.set(fileIdKey(file.relPath), file);
  }
  const referenced = new Set<string>();
  const toVerify: Array<{ file: FoundFile; record: DicomdirEntry }> = [];
  const missing: string[] = [];
  for (const record of dicomdirEntriesAll) {
    const file = byKey.get(fileIdKey(record.referencedPath));
    if (!file) {
      missing.push(record.referencedPath);
      continue;
    }
    referenced.add(file.relPath);
    toVerify.push({ file, record });
  }
  for (const relPath of missing) {
    scanner.findings.push(makeFinding('dicomdir-missing-file', [relPath]));
  }

  const underDicomdir = (relPath: string): boolean =>
    bases.some((base) => base === '' || base === '.' || relPath.startsWith(`${base}/`));
  const others = files.filter(
    (file) => !referenced.has(file.relPath) && !dicomdirPaths.has(file.relPath),
  );

  scanner.emit({ kind: 'phase', phase: 'headers' });
  const total = toVerify.length + others.length;
  let done = 0;
  const tick = (): void => {
    done++;
    if (done % 50 === 0 || done === total) {
      scanner.emit({ kind: 'progress', phase: 'headers', done, total });
    }
  };

  const verified: InstanceEntry[] = new Array(toVerify.length);
  if (!verify) {
    await forEachLimit(
      toVerify,
      concurrency,
      async ({ file, record }, index) => {
        try {
          const size = (await stat(file.absPath)).size;
          verified[index] = {
            ...record.entry,
            instance: { ...record.entry.instance, path: file.relPath, bytes: size },
          };
        } catch (error) {
          scanner.findings.push(
            makeFinding('unreadable-file', [file.relPath], systemErrorDetail(error)),
          );
        }
        tick();
      },
      signal,
    );
  } else {
    await scanner.examineEach(
      toVerify,
      (item) => item.file,
      ({ file, record }, index, found) => {
        if (found) {
          const differ = disagreements(record.entry, found.header);
          if (differ.length > 0) {
            scanner.findings.push(
              makeFinding('dicomdir-mismatch', [file.relPath], `differs in: ${differ.join(', ')}`),
            );
          }
          const fromHeader = entryFromHeader(
            found.header,
            file.relPath,
            found.size,
            scanner.shared,
          );
          // The file's own header is the truth; the record fills what the header leaves empty.
          verified[index] = mergeEntries(fromHeader, record.entry);
        }
        tick();
      },
    );
  }

  const unreferenced: string[] = [];
  const extra: InstanceEntry[] = [];
  await scanner.examineEach(
    others,
    (file) => file,
    (file, _index, found) => {
      if (found) {
        extra.push(entryFromHeader(found.header, file.relPath, found.size, scanner.shared));
        if (bases.length > 0 && underDicomdir(file.relPath)) unreferenced.push(file.relPath);
      }
      tick();
    },
  );
  unreferenced.sort();
  for (const relPath of unreferenced) {
    scanner.findings.push(makeFinding('dicomdir-unreferenced-file', [relPath]));
  }

  const entries = [
    ...verified.filter((entry): entry is InstanceEntry => entry !== undefined),
    ...extra.sort((a, b) => a.instance.path.localeCompare(b.instance.path)),
    ...scanner.entries,
  ];
  return scanner.result(bases.length > 0 ? 'dicomdir' : 'walk', entries);
}

function pick(a: string, b: string): string {
  return a !== '' ? a : b;
}

function mergeEntries(fromHeader: InstanceEntry, fromRecord: InstanceEntry): InstanceEntry {
  const seriesNumber = fromHeader.seriesNumber ?? fromRecord.seriesNumber;
  return {
    ...fromHeader,
    patientId: pick(fromHeader.patientId, fromRecord.patientId),
    patientName: pick(fromHeader.patientName, fromRecord.patientName),
    birthDate: pick(fromHeader.birthDate, fromRecord.birthDate),
    sex: pick(fromHeader.sex, fromRecord.sex),
    studyInstanceUid: pick(fromHeader.studyInstanceUid, fromRecord.studyInstanceUid),
    studyDate: pick(fromHeader.studyDate, fromRecord.studyDate),
    studyTime: pick(fromHeader.studyTime, fromRecord.studyTime),
    studyDescription: pick(fromHeader.studyDescription, fromRecord.studyDescription),
    accessionNumber: pick(fromHeader.accessionNumber, fromRecord.accessionNumber),
    studyId: pick(fromHeader.studyId, fromRecord.studyId),
    seriesInstanceUid: pick(fromHeader.seriesInstanceUid, fromRecord.seriesInstanceUid),
    modality: pick(fromHeader.modality, fromRecord.modality),
    ...(seriesNumber !== undefined ? { seriesNumber } : {}),
    seriesDescription: pick(fromHeader.seriesDescription, fromRecord.seriesDescription),
  };
}
