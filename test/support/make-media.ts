/**
 * Realistic patient media (CD/DVD/flash drive) for tests and benchmarks.
 *
 * The Part 10 files are written here, in TypeScript, so a 10,000-instance disc takes seconds:
 * spawning a dcmtk process per file would take minutes. dcmtk is used once, for the DICOMDIR
 * (`dcmmkdir`), and by the tests to check this writer (`dcmftest`, `dcmdump`).
 *
 * Layout follows an IHE PDI / STD-GEN-CD disc (PS3.11 D, PS3.12 F): DICOMDIR at the root,
 * `DICOM/PA000001/ST000001/SE000001/IM000001`, every file ID component an ISO 9660 level 1
 * name (PS3.10 8.2: upper case A-Z, 0-9 and _, at most 8 characters, at most 8 components).
 */
import { execFile } from 'node:child_process';
import { createHash, randomInt } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { mkdir, open, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';

import iconv from 'iconv-lite';

const execFileAsync = promisify(execFile);

export interface MediaSpec {
  outDir: string;
  patients: number;
  studiesPerPatient: number;
  seriesPerStudy: number;
  instancesPerSeries: number;
  /** Image size; 64 x 64 unless given. */
  rows?: number;
  columns?: number;
  /** Build the DICOMDIR with dcmmkdir (default true). */
  withDicomdir?: boolean;
  /** Cycled over the disc's series in order (default CT, MR, CR); others become Secondary Capture. */
  modalities?: string[];
  /** (0008,0005), e.g. 'ISO_IR 100' (Latin-1) or 'ISO_IR 192' (UTF-8); none means ASCII only. */
  specificCharacterSet?: string;
  /** One per patient, DICOM PN form, e.g. 'Müller^Jürgen'; invented names for the rest. */
  patientNames?: string[];
  /** Add the non-DICOM files a real disc carries: AUTORUN.INF, README.TXT, VIEWER.EXE, REPORT.PDF (default true). */
  extras?: boolean;
  /**
   * Also pack the last patient's files into STUDIES.ZIP at the root, as some discs ship them.
   * A copy: the files stay in DICOM/ and in the DICOMDIR, so a reader sees them twice.
   */
  zip?: boolean;
  /** Makes UIDs, names and dates reproducible; random (and reported back) when absent. */
  seed?: number;
}

export interface GeneratedSeries {
  seriesInstanceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  modality: string;
  sopClassUid: string;
  sopInstanceUids: string[];
  /** Relative to the media root, '/'-separated, e.g. 'DICOM/PA000001/ST000001/SE000001/IM000001'. */
  files: string[];
  bytes: number;
}

export interface GeneratedStudy {
  studyInstanceUid: string;
  studyId: string;
  studyDate: string;
  studyDescription: string;
  accessionNumber: string;
  series: GeneratedSeries[];
}

export interface GeneratedPatient {
  patientId: string;
  patientName: string;
  studies: GeneratedStudy[];
}

export interface GeneratedMedia {
  root: string;
  dicomdirPath?: string;
  patients: GeneratedPatient[];
  totalInstances: number;
  /** Bytes of the DICOM instance files only (not DICOMDIR, extras or the zip). */
  totalBytes: number;
  seed: number;
  /** Non-DICOM files at the root, relative paths. */
  extraFiles: string[];
  zip?: { path: string; patientIds: string[]; entries: string[]; bytes: number };
  timings: { writeMs: number; dicomdirMs: number; zipMs: number };
}

const defaultDicomTools = ['dcmmkdir', 'dcmdump', 'dcmftest'];

/** Skip helper: returns a reason string when a needed Debian tool is missing, else undefined. */
export function missingDicomTools(tools: string[] = defaultDicomTools): string | undefined {
  const missing = tools.filter((tool) => !isOnPath(tool));
  if (missing.length === 0) return undefined;
  return `not on PATH: ${missing.join(', ')} (Debian: apt-get install dcmtk)`;
}

function isOnPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    try {
      accessSync(path.join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The generator

const writeConcurrency = 32;
const maxPerLevel = 999_999; // 'PA' + six digits fills an 8-character name

export async function makeMedia(spec: MediaSpec): Promise<GeneratedMedia> {
  const rows = spec.rows ?? 64;
  const columns = spec.columns ?? 64;
  checkCount('patients', spec.patients, 1, maxPerLevel);
  checkCount('studiesPerPatient', spec.studiesPerPatient, 1, maxPerLevel);
  checkCount('seriesPerStudy', spec.seriesPerStudy, 1, maxPerLevel);
  checkCount('instancesPerSeries', spec.instancesPerSeries, 1, maxPerLevel);
  checkCount('rows', rows, 1, 65_535);
  checkCount('columns', columns, 1, 65_535);
  const modalities = spec.modalities ?? ['CT', 'MR', 'CR'];
  if (modalities.length === 0) throw new Error('modalities: give at least one');
  for (const modality of modalities) {
    if (!/^[A-Z0-9 _]{1,16}$/u.test(modality)) throw new Error(`bad modality ${modality}`);
  }
  const withDicomdir = spec.withDicomdir ?? true;
  if (withDicomdir) {
    const reason = missingDicomTools(['dcmmkdir']);
    if (reason) throw new Error(`cannot build the DICOMDIR: ${reason}`);
  }
  const seed = spec.seed ?? randomInt(0, 2 ** 31);
  if (!Number.isSafeInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
  const charset = textEncoderFor(spec.specificCharacterSet);

  const plan = planMedia(spec, seed, modalities, charset);

  const root = path.resolve(spec.outDir);
  await mkdir(root, { recursive: true });
  const existing = await readdir(root);
  if (existing.length > 0) {
    throw new Error(`${root} is not empty (${existing.slice(0, 3).join(', ')}…): refusing to mix`);
  }
  const pixelCache = new Map<string, Buffer>();
  const started = performance.now();

  const jobs: Array<{ series: PlannedSeries; index: number }> = [];
  for (const patient of plan) {
    for (const study of patient.studies) {
      for (const series of study.series) {
        await mkdir(path.join(root, ...series.dirParts), { recursive: true });
        for (let index = 0; index < series.instanceCount; index++) jobs.push({ series, index });
      }
    }
  }
  await runPool(jobs, writeConcurrency, async ({ series, index }) => {
    const pixelData = pixelDataFor(pixelCache, rows, columns, index, series.instanceCount);
    const header = encodeInstanceHeader(series, index, rows, columns, pixelData.length, charset);
    const file = await open(path.join(root, series.files[index]!), 'wx');
    try {
      await file.writev([header, pixelData]);
    } finally {
      await file.close();
    }
    series.bytes[index] = header.length + pixelData.length;
  });
  const writeMs = performance.now() - started;

  const extraFiles = spec.extras === false ? [] : await writeExtras(root);

  let dicomdirPath: string | undefined;
  let dicomdirMs = 0;
  if (withDicomdir) {
    const dicomdirStarted = performance.now();
    dicomdirPath = await makeDicomdir(root);
    dicomdirMs = performance.now() - dicomdirStarted;
  }

  const patients = plan.map(toGeneratedPatient);
  let zip: GeneratedMedia['zip'];
  let zipMs = 0;
  if (spec.zip) {
    const zipStarted = performance.now();
    const zipped = patients.slice(-1);
    const entries = zipped.flatMap((patient) =>
      patient.studies.flatMap((study) => study.series.flatMap((series) => series.files)),
    );
    const zipPath = 'STUDIES.ZIP';
    const bytes = await writeZip(path.join(root, zipPath), root, entries);
    zip = { path: zipPath, patientIds: zipped.map((patient) => patient.patientId), entries, bytes };
    zipMs = performance.now() - zipStarted;
  }

  let totalInstances = 0;
  let totalBytes = 0;
  for (const patient of patients) {
    for (const study of patient.studies) {
      for (const series of study.series) {
        totalInstances += series.files.length;
        totalBytes += series.bytes;
      }
    }
  }
  return {
    root,
    ...(dicomdirPath ? { dicomdirPath } : {}),
    patients,
    totalInstances,
    totalBytes,
    seed,
    extraFiles,
    ...(zip ? { zip } : {}),
    timings: { writeMs, dicomdirMs, zipMs },
  };
}

function checkCount(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
}

async function runPool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

// ---------------------------------------------------------------------------------------------
// What goes on the disc

interface PlannedPatient {
  patientId: string;
  patientName: string;
  birthDate: string;
  sex: string;
  studies: PlannedStudy[];
}

interface PlannedStudy {
  patient: PlannedPatient;
  studyInstanceUid: string;
  studyId: string;
  studyDate: string;
  studyTime: string;
  studyDescription: string;
  accessionNumber: string;
  bodyPart: string;
  series: PlannedSeries[];
}

interface PlannedSeries {
  study: PlannedStudy;
  seriesInstanceUid: string;
  frameOfReferenceUid: string;
  seriesNumber: number;
  seriesDescription: string;
  seriesTime: string;
  modality: string;
  sopClassUid: string;
  sopInstanceUids: string[];
  dirParts: string[];
  files: string[];
  bytes: number[];
  instanceCount: number;
}

const givenNames = ['JANE', 'JOHN', 'MARIA', 'AHMED', 'LI', 'OLGA', 'PEDRO', 'AIKO', 'SAMUEL'];
const familyNames = ['DOE', 'SMITH', 'GARCIA', 'NGUYEN', 'KOWALSKI', 'OKAFOR', 'TANAKA', 'BROWN'];
const bodyParts = ['CHEST', 'ABDOMEN', 'HEAD', 'PELVIS', 'SPINE', 'KNEE'];

function planMedia(
  spec: MediaSpec,
  seed: number,
  modalities: readonly string[],
  charset: TextEncoding,
): PlannedPatient[] {
  const patients: PlannedPatient[] = [];
  let seriesOnDisc = 0;
  for (let p = 0; p < spec.patients; p++) {
    const random = seededRandom(seed, `patient/${p}`);
    const patientName =
      spec.patientNames?.[p] ?? `${pick(random, familyNames)}^${pick(random, givenNames)}`;
    charset.check(patientName, 'patient name');
    const patient: PlannedPatient = {
      patientId: `FERRY${String(p + 1).padStart(5, '0')}`,
      patientName,
      birthDate: dicomDate(new Date(Date.UTC(1940, 0, 1) + random() * 70 * 365.25 * 86_400_000)),
      sex: pick(random, ['F', 'M', 'O']),
      studies: [],
    };
    patients.push(patient);
    const patientDir = `PA${pad6(p + 1)}`;
    for (let s = 0; s < spec.studiesPerPatient; s++) {
      const studyRandom = seededRandom(seed, `study/${p}/${s}`);
      const studyDay = Date.UTC(2015, 0, 1) + Math.floor(studyRandom() * 3650) * 86_400_000;
      const bodyPart = pick(studyRandom, bodyParts);
      const study: PlannedStudy = {
        patient,
        studyInstanceUid: uidFrom(seed, `study/${p}/${s}`),
        studyId: String(1000 + s),
        studyDate: dicomDate(new Date(studyDay)),
        studyTime: dicomTime(7 * 3600 + Math.floor(studyRandom() * 10 * 3600)),
        studyDescription: `${bodyPart} IMAGING`,
        accessionNumber: `A${String(Math.floor(studyRandom() * 1e9)).padStart(9, '0')}`,
        bodyPart,
        series: [],
      };
      patient.studies.push(study);
      const studyDir = `ST${pad6(s + 1)}`;
      for (let r = 0; r < spec.seriesPerStudy; r++) {
        const modality = modalities[seriesOnDisc++ % modalities.length]!;
        const dirParts = ['DICOM', patientDir, studyDir, `SE${pad6(r + 1)}`];
        const files: string[] = [];
        const sopInstanceUids: string[] = [];
        for (let i = 0; i < spec.instancesPerSeries; i++) {
          files.push([...dirParts, `IM${pad6(i + 1)}`].join('/'));
          sopInstanceUids.push(uidFrom(seed, `instance/${p}/${s}/${r}/${i}`));
        }
        study.series.push({
          study,
          seriesInstanceUid: uidFrom(seed, `series/${p}/${s}/${r}`),
          frameOfReferenceUid: uidFrom(seed, `frame/${p}/${s}/${r}`),
          seriesNumber: r + 1,
          seriesDescription: seriesDescription(modality, bodyPart, r),
          seriesTime: addMinutes(study.studyTime, 3 * r),
          modality,
          sopClassUid: sopClassFor(modality),
          sopInstanceUids,
          dirParts,
          files,
          bytes: new Array<number>(spec.instancesPerSeries).fill(0),
          instanceCount: spec.instancesPerSeries,
        });
      }
    }
  }
  return patients;
}

function toGeneratedPatient(patient: PlannedPatient): GeneratedPatient {
  return {
    patientId: patient.patientId,
    patientName: patient.patientName,
    studies: patient.studies.map((study) => ({
      studyInstanceUid: study.studyInstanceUid,
      studyId: study.studyId,
      studyDate: study.studyDate,
      studyDescription: study.studyDescription,
      accessionNumber: study.accessionNumber,
      series: study.series.map((series) => ({
        seriesInstanceUid: series.seriesInstanceUid,
        seriesNumber: series.seriesNumber,
        seriesDescription: series.seriesDescription,
        modality: series.modality,
        sopClassUid: series.sopClassUid,
        sopInstanceUids: [...series.sopInstanceUids],
        files: [...series.files],
        bytes: series.bytes.reduce((sum, bytes) => sum + bytes, 0),
      })),
    })),
  };
}

/** Storage SOP Classes, PS3.4 B.5. Other modalities are stored as Secondary Capture. */
const sopClassByModality: Readonly<Record<string, string>> = {
  CT: '1.2.840.10008.5.1.4.1.1.2',
  MR: '1.2.840.10008.5.1.4.1.1.4',
  CR: '1.2.840.10008.5.1.4.1.1.1',
};
const secondaryCaptureImageStorage = '1.2.840.10008.5.1.4.1.1.7';

function sopClassFor(modality: string): string {
  return sopClassByModality[modality] ?? secondaryCaptureImageStorage;
}

function seriesDescription(modality: string, bodyPart: string, index: number): string {
  switch (modality) {
    case 'CT':
      return `CT ${bodyPart} AXIAL ${index % 2 === 0 ? '5MM' : '1MM'}`;
    case 'MR':
      return `MR ${bodyPart} ${index % 2 === 0 ? 'T1' : 'T2'} AX`;
    case 'CR':
      return `CR ${bodyPart} ${index % 2 === 0 ? 'PA' : 'LAT'}`;
    default:
      return `${modality} ${bodyPart}`;
  }
}

function pad6(value: number): string {
  return String(value).padStart(6, '0');
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)]!;
}

function dicomDate(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '');
}

function dicomTime(secondsOfDay: number): string {
  const hours = Math.floor(secondsOfDay / 3600) % 24;
  const minutes = Math.floor(secondsOfDay / 60) % 60;
  const seconds = secondsOfDay % 60;
  return [hours, minutes, seconds].map((part) => String(part).padStart(2, '0')).join('');
}

function addMinutes(time: string, minutes: number): string {
  const seconds = Number(time.slice(0, 2)) * 3600 + Number(time.slice(2, 4)) * 60;
  return dicomTime(seconds + Number(time.slice(4, 6)) + minutes * 60);
}

/** Small deterministic PRNG (mulberry32) seeded from the disc seed and what it is for. */
function seededRandom(seed: number, purpose: string): () => number {
  let state = createHash('sha1').update(`${seed}/${purpose}`).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A UID under the 2.25 root from a name-based (SHA-1, version 5 layout) UUID of the seed and
 * what it identifies, so the same seed gives the same UIDs (PS3.5 B.2).
 */
function uidFrom(seed: number | string, purpose: string): string {
  const bytes = createHash('sha1')
    .update(`dicom-ferry/${seed}/${purpose}`)
    .digest()
    .subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  return `2.25.${BigInt(`0x${bytes.toString('hex')}`).toString(10)}`;
}

// ---------------------------------------------------------------------------------------------
// Text in the Specific Character Set (PS3.5 6.1)

interface TextEncoding {
  /** The (0008,0005) value, or undefined for the default repertoire. */
  term: string | undefined;
  encode(text: string): Buffer;
  /** Throws when the text cannot be written in this character set. */
  check(text: string, what: string): void;
}

/** Single-byte and Unicode terms; ISO 2022 code extensions are not supported here. */
const iconvNameByTerm: Readonly<Record<string, string>> = {
  'ISO_IR 6': 'ascii',
  'ISO_IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 203': 'iso-8859-15',
  'ISO_IR 166': 'tis-620',
  'ISO_IR 192': 'utf8',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

function textEncoderFor(term: string | undefined): TextEncoding {
  const name = term === undefined ? 'ascii' : iconvNameByTerm[term];
  if (name === undefined) {
    throw new Error(
      `specificCharacterSet ${term} is not supported; use one of ${Object.keys(iconvNameByTerm).join(', ')}`,
    );
  }
  const encode = (text: string): Buffer =>
    name === 'ascii' || name === 'latin1' || name === 'utf8'
      ? Buffer.from(text, name)
      : iconv.encode(text, name);
  return {
    term,
    encode,
    check(text, what) {
      const roundTrip =
        name === 'ascii'
          ? /^[\x20-\x7e]*$/u.test(text)
          : iconv.decode(iconv.encode(text, name), name) === text;
      if (!roundTrip) {
        throw new Error(
          `${what} ${JSON.stringify(text)} cannot be written in ${term ?? 'the default repertoire (give specificCharacterSet)'}`,
        );
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Part 10 writer: Explicit VR Little Endian (PS3.5 7.1.2, PS3.10 7.1)

type Vr =
  'AE' | 'CS' | 'DA' | 'DS' | 'IS' | 'LO' | 'OB' | 'OW' | 'PN' | 'SH' | 'TM' | 'UI' | 'UL' | 'US';

interface Element {
  tag: number;
  vr: Vr;
  value: string | readonly string[] | readonly number[] | Buffer;
}

/** VRs with a 2-byte reserved field and a 4-byte length (PS3.5 Table 7.1-1). */
const longLengthVrs: ReadonlySet<string> = new Set(['OB', 'OW', 'SQ', 'UN', 'UT', 'UC', 'UR']);
/** VRs written in the Specific Character Set (PS3.5 6.1.2.3); the rest are ASCII. */
const characterSetVrs: ReadonlySet<string> = new Set(['SH', 'LO', 'ST', 'LT', 'PN', 'UT', 'UC']);
/** Maximum characters per value (PS3.5 Table 6.2-1); PN is per component group. */
const maxCharacters: Readonly<Partial<Record<Vr, number>>> = {
  AE: 16,
  CS: 16,
  DA: 8,
  DS: 16,
  IS: 12,
  LO: 64,
  PN: 64,
  SH: 16,
  TM: 14,
  UI: 64,
};

const explicitVrLittleEndian = '1.2.840.10008.1.2.1';
const implementationClassUid = uidFrom('implementation', 'make-media');
const implementationVersionName = 'FERRY_MKMEDIA_1';

const tag = (group: number, element: number): number => ((group << 16) | element) >>> 0;

class ByteWriter {
  private buffer: Buffer;
  length = 0;

  constructor(capacity: number) {
    this.buffer = Buffer.alloc(capacity);
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = Buffer.alloc(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }

  u16(value: number): void {
    this.reserve(2);
    this.length = this.buffer.writeUInt16LE(value, this.length);
  }

  u32(value: number): void {
    this.reserve(4);
    this.length = this.buffer.writeUInt32LE(value, this.length);
  }

  bytes(value: Uint8Array): void {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
  }

  ascii(value: string): void {
    this.bytes(Buffer.from(value, 'latin1'));
  }

  patch32(offset: number, value: number): void {
    this.buffer.writeUInt32LE(value, offset);
  }

  result(): Buffer {
    return this.buffer.subarray(0, this.length);
  }
}

function encodeValue(element: Element, charset: TextEncoding): Buffer {
  const { vr, value } = element;
  if (Buffer.isBuffer(value)) {
    return value.length % 2 === 0 ? value : Buffer.concat([value, Buffer.alloc(1)]);
  }
  if (vr === 'US' || vr === 'UL') {
    const numbers = value as readonly number[];
    const size = vr === 'US' ? 2 : 4;
    const bytes = Buffer.alloc(numbers.length * size);
    numbers.forEach((number, index) =>
      size === 2 ? bytes.writeUInt16LE(number, index * 2) : bytes.writeUInt32LE(number, index * 4),
    );
    return bytes;
  }
  const values = typeof value === 'string' ? [value] : (value as readonly string[]).map(String);
  const limit = maxCharacters[vr];
  for (const single of values) {
    const pieces = vr === 'PN' ? single.split('=') : [single];
    if (limit !== undefined && pieces.some((piece) => [...piece].length > limit)) {
      throw new Error(`(${tagText(element.tag)}) ${vr} value too long: ${single}`);
    }
    if (single.includes('\\')) throw new Error(`(${tagText(element.tag)}) contains a backslash`);
  }
  const text = values.join('\\');
  const encoded = characterSetVrs.has(vr) ? charset.encode(text) : Buffer.from(text, 'ascii');
  if (encoded.length % 2 === 0) return encoded;
  // PS3.5 6.2: UI is padded with NUL, text with a space.
  return Buffer.concat([encoded, Buffer.from(vr === 'UI' ? [0] : [0x20])]);
}

function writeElement(writer: ByteWriter, element: Element, charset: TextEncoding): void {
  const value = encodeValue(element, charset);
  writer.u16(element.tag >>> 16);
  writer.u16(element.tag & 0xffff);
  writer.ascii(element.vr);
  if (longLengthVrs.has(element.vr)) {
    writer.u16(0);
    writer.u32(value.length);
  } else {
    if (value.length > 0xffff) throw new Error(`(${tagText(element.tag)}) value too long`);
    writer.u16(value.length);
  }
  writer.bytes(value);
}

function tagText(value: number): string {
  const hex = value.toString(16).toUpperCase().padStart(8, '0');
  return `${hex.slice(0, 4)},${hex.slice(4)}`;
}

/**
 * Everything of a Part 10 file up to and including the Pixel Data element header: preamble,
 * 'DICM', group 0002 with its group length, then the dataset in ascending tag order.
 */
function encodePart10Header(
  sopClassUid: string,
  sopInstanceUid: string,
  dataset: Element[],
  pixelDataLength: number,
  charset: TextEncoding,
): Buffer {
  const writer = new ByteWriter(2048);
  writer.bytes(Buffer.alloc(128));
  writer.ascii('DICM');
  // (0002,0000) UL, value patched once the rest of the group is written (PS3.10 7.1).
  writer.u16(0x0002);
  writer.u16(0x0000);
  writer.ascii('UL');
  writer.u16(4);
  const groupLengthOffset = writer.length;
  writer.u32(0);
  const metaStart = writer.length;
  const meta: Element[] = [
    { tag: tag(0x0002, 0x0001), vr: 'OB', value: Buffer.from([0x00, 0x01]) },
    { tag: tag(0x0002, 0x0002), vr: 'UI', value: sopClassUid },
    { tag: tag(0x0002, 0x0003), vr: 'UI', value: sopInstanceUid },
    { tag: tag(0x0002, 0x0010), vr: 'UI', value: explicitVrLittleEndian },
    { tag: tag(0x0002, 0x0012), vr: 'UI', value: implementationClassUid },
    { tag: tag(0x0002, 0x0013), vr: 'SH', value: implementationVersionName },
  ];
  for (const element of meta) writeElement(writer, element, charset);
  writer.patch32(groupLengthOffset, writer.length - metaStart);

  dataset.sort((a, b) => a.tag - b.tag);
  for (let index = 1; index < dataset.length; index++) {
    if (dataset[index]!.tag === dataset[index - 1]!.tag) {
      throw new Error(`duplicate element (${tagText(dataset[index]!.tag)})`);
    }
  }
  for (const element of dataset) writeElement(writer, element, charset);
  // (7FE0,0010) OW header; the pixel bytes follow in the same write.
  writer.u16(0x7fe0);
  writer.u16(0x0010);
  writer.ascii('OW');
  writer.u16(0);
  writer.u32(pixelDataLength);
  return writer.result();
}

/** DS: at most 16 characters (PS3.5 6.2). */
function ds(value: number): string {
  const rounded = Number(value.toFixed(6));
  let text = String(Object.is(rounded, -0) ? 0 : rounded);
  if (text.length > 16) text = rounded.toPrecision(10);
  return text;
}

function encodeInstanceHeader(
  series: PlannedSeries,
  index: number,
  rows: number,
  columns: number,
  pixelDataLength: number,
  charset: TextEncoding,
): Buffer {
  const { study } = series;
  const { patient } = study;
  const modality = series.modality;
  const sopInstanceUid = series.sopInstanceUids[index]!;
  const isCt = modality === 'CT';
  const isMr = modality === 'MR';
  const isCr = modality === 'CR';
  const crossSectional = isCt || isMr;
  const pixelSpacing = isCr ? 0.2 : 0.7;
  const sliceThickness = isCt ? 5 : 4;
  const contentTime = addMinutes(series.seriesTime, Math.floor(index / 60));

  const e = (group: number, element: number, vr: Vr, value: Element['value']): Element => ({
    tag: tag(group, element),
    vr,
    value,
  });
  const dataset: Element[] = [
    e(0x0008, 0x0008, 'CS', ['ORIGINAL', 'PRIMARY', ...(isCt ? ['AXIAL'] : isMr ? ['OTHER'] : [])]),
    e(0x0008, 0x0016, 'UI', series.sopClassUid),
    e(0x0008, 0x0018, 'UI', sopInstanceUid),
    e(0x0008, 0x0020, 'DA', study.studyDate),
    e(0x0008, 0x0021, 'DA', study.studyDate),
    e(0x0008, 0x0023, 'DA', study.studyDate),
    e(0x0008, 0x0030, 'TM', study.studyTime),
    e(0x0008, 0x0031, 'TM', series.seriesTime),
    e(0x0008, 0x0033, 'TM', contentTime),
    e(0x0008, 0x0050, 'SH', study.accessionNumber),
    e(0x0008, 0x0060, 'CS', modality),
    e(0x0008, 0x0070, 'LO', 'DICOM Ferry test media'),
    e(0x0008, 0x0080, 'LO', 'FERRY GENERAL HOSPITAL'),
    e(0x0008, 0x0090, 'PN', ''),
    e(0x0008, 0x1030, 'LO', study.studyDescription),
    e(0x0008, 0x103e, 'LO', series.seriesDescription),
    e(0x0010, 0x0010, 'PN', patient.patientName),
    e(0x0010, 0x0020, 'LO', patient.patientId),
    e(0x0010, 0x0030, 'DA', patient.birthDate),
    e(0x0010, 0x0040, 'CS', patient.sex),
    e(0x0018, 0x0015, 'CS', study.bodyPart),
    e(0x0020, 0x000d, 'UI', study.studyInstanceUid),
    e(0x0020, 0x000e, 'UI', series.seriesInstanceUid),
    e(0x0020, 0x0010, 'SH', study.studyId),
    e(0x0020, 0x0011, 'IS', String(series.seriesNumber)),
    e(0x0020, 0x0013, 'IS', String(index + 1)),
    e(0x0028, 0x0002, 'US', [1]),
    e(0x0028, 0x0004, 'CS', 'MONOCHROME2'),
    e(0x0028, 0x0010, 'US', [rows]),
    e(0x0028, 0x0011, 'US', [columns]),
    e(0x0028, 0x0030, 'DS', [ds(pixelSpacing), ds(pixelSpacing)]),
    e(0x0028, 0x0100, 'US', [16]),
    e(0x0028, 0x0101, 'US', [12]),
    e(0x0028, 0x0102, 'US', [11]),
    e(0x0028, 0x0103, 'US', [0]),
    e(0x0028, 0x1050, 'DS', isCt ? '40' : '1024'),
    e(0x0028, 0x1051, 'DS', isCt ? '400' : '2048'),
  ];
  if (charset.term !== undefined) dataset.push(e(0x0008, 0x0005, 'CS', charset.term));
  if (crossSectional) {
    // Image Plane and Frame of Reference modules (PS3.3 C.7.6.2, C.7.4.1).
    const sliceLocation =
      -((series.instanceCount - 1) * sliceThickness) / 2 + index * sliceThickness;
    dataset.push(
      e(0x0018, 0x0050, 'DS', ds(sliceThickness)),
      e(0x0018, 0x5100, 'CS', 'HFS'),
      e(0x0020, 0x0032, 'DS', [
        ds((-columns * pixelSpacing) / 2),
        ds((-rows * pixelSpacing) / 2),
        ds(sliceLocation),
      ]),
      e(0x0020, 0x0037, 'DS', ['1', '0', '0', '0', '1', '0']),
      e(0x0020, 0x0052, 'UI', series.frameOfReferenceUid),
      e(0x0020, 0x1040, 'LO', ''),
      e(0x0020, 0x1041, 'DS', ds(sliceLocation)),
    );
  } else {
    dataset.push(e(0x0020, 0x0020, 'CS', isCr ? ['L', 'F'] : []));
  }
  if (isCt) {
    // CT Image module (PS3.3 C.8.2.1).
    dataset.push(
      e(0x0018, 0x0060, 'DS', '120'),
      e(0x0020, 0x0012, 'IS', '1'),
      e(0x0028, 0x1052, 'DS', '-1024'),
      e(0x0028, 0x1053, 'DS', '1'),
      e(0x0028, 0x1054, 'LO', 'HU'),
    );
  } else if (isMr) {
    // MR Image module (PS3.3 C.8.3.1).
    dataset.push(
      e(0x0018, 0x0020, 'CS', 'SE'),
      e(0x0018, 0x0021, 'CS', 'NONE'),
      e(0x0018, 0x0022, 'CS', ''),
      e(0x0018, 0x0023, 'CS', '2D'),
      e(0x0018, 0x0080, 'DS', '500'),
      e(0x0018, 0x0081, 'DS', '15'),
      e(0x0018, 0x0087, 'DS', '1.5'),
      e(0x0018, 0x0091, 'IS', '1'),
    );
  } else if (isCr) {
    // CR Series and CR Image modules (PS3.3 C.8.1).
    dataset.push(
      e(0x0018, 0x1164, 'DS', [ds(pixelSpacing), ds(pixelSpacing)]),
      e(0x0018, 0x5101, 'CS', series.seriesNumber % 2 === 1 ? 'PA' : 'LL'),
    );
  } else {
    // SC Equipment module (PS3.3 C.8.6.1): Conversion Type, workstation.
    dataset.push(e(0x0008, 0x0064, 'CS', 'WSD'));
  }
  return encodePart10Header(series.sopClassUid, sopInstanceUid, dataset, pixelDataLength, charset);
}

// ---------------------------------------------------------------------------------------------
// Pixels: a gradient background with a disc whose radius follows a sphere through the series

const radiusSteps = 32;

function pixelDataFor(
  cache: Map<string, Buffer>,
  rows: number,
  columns: number,
  index: number,
  count: number,
): Buffer {
  const position = count === 1 ? 0 : (2 * index) / (count - 1) - 1; // -1 .. 1 through the series
  const step = Math.round(Math.sqrt(Math.max(0, 1 - 0.8 * position * position)) * radiusSteps);
  const key = `${rows}x${columns}/${step}`;
  let pixels = cache.get(key);
  if (!pixels) {
    pixels = drawImage(rows, columns, (step / radiusSteps) * 0.4 * Math.min(rows, columns));
    cache.set(key, pixels);
  }
  return pixels;
}

/** 16 bits allocated, 12 stored: every value stays within 0..4095. */
function drawImage(rows: number, columns: number, radius: number): Buffer {
  const pixels = Buffer.alloc(rows * columns * 2);
  const centerX = (columns - 1) / 2;
  const centerY = (rows - 1) / 2;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const distance = Math.hypot(x - centerX, y - centerY);
      const background = Math.round((x / columns) * 600 + (y / rows) * 400);
      const value =
        distance <= radius
          ? 1064 + Math.round(200 * (1 - distance / Math.max(radius, 1)))
          : background;
      pixels.writeUInt16LE(value, (y * columns + x) * 2);
    }
  }
  return pixels;
}

// ---------------------------------------------------------------------------------------------
// DICOMDIR

async function makeDicomdir(root: string): Promise<string> {
  const dicomdirPath = path.join(root, 'DICOMDIR');
  // STD-GEN-CD profile; scan DICOM/ relative to the root so Referenced File IDs are relative.
  const args = [
    '--general-purpose',
    '--recurse',
    '--input-directory',
    root,
    '--output-file',
    dicomdirPath,
    '--fileset-id',
    'FERRY_TEST_DISC',
    'DICOM',
  ];
  try {
    await execFileAsync('dcmmkdir', args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`dcmmkdir failed: ${stderr.trim() || String(error)}`, { cause: error });
  }
  await stat(dicomdirPath);
  return dicomdirPath;
}

// ---------------------------------------------------------------------------------------------
// Non-DICOM files a real disc carries

async function writeExtras(root: string): Promise<string[]> {
  const files: Array<[string, Buffer]> = [
    [
      'AUTORUN.INF',
      Buffer.from('[autorun]\r\nopen=VIEWER.EXE\r\nicon=VIEWER.EXE,0\r\nlabel=FERRY TEST\r\n'),
    ],
    [
      'README.TXT',
      Buffer.from(
        'This disc contains medical images in DICOM format (folder DICOM, index DICOMDIR).\r\n' +
          'Generated by DICOM Ferry for testing; the patients are not real.\r\n',
      ),
    ],
    ['VIEWER.EXE', fakeViewer()],
    ['REPORT.PDF', minimalPdf('Radiology report - test media, not a real patient')],
  ];
  for (const [name, bytes] of files) await writeFile(path.join(root, name), bytes);
  return files.map(([name]) => name);
}

/** An 'MZ' DOS stub, enough to look like the viewer programs discs ship; it runs nothing. */
function fakeViewer(): Buffer {
  const stub = Buffer.alloc(128);
  stub.write('MZ', 0, 'latin1');
  stub.writeUInt16LE(0x90, 2);
  stub.write('This program cannot be run in DOS mode.\r\r\n$', 64, 'latin1');
  return stub;
}

/** A one-page PDF with one line of Helvetica text and a correct cross-reference table. */
export function minimalPdf(line: string): Buffer {
  const escaped = line.replace(/[\\()]/gu, (char) => `\\${char}`);
  const content = `BT /F1 14 Tf 72 720 Td (${escaped}) Tj ET\n`;
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R ' +
      '/Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(content, 'latin1')} >>\nstream\n${content}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offsets: number[] = [];
  objects.forEach((body, index) => {
    offsets.push(Buffer.byteLength(pdf, 'latin1'));
    pdf += `${index + 1} 0 obj\n${body}\nendobj\n`;
  });
  const xrefOffset = Buffer.byteLength(pdf, 'latin1');
  pdf += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`;
  for (const offset of offsets) pdf += `${String(offset).padStart(10, '0')} 00000 n \n`;
  pdf += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xrefOffset}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

// ---------------------------------------------------------------------------------------------
// ZIP (APPNOTE.TXT 4.3): local headers, data, central directory, end record; no ZIP64

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(bytes) >>> 0;
  let crc = 0xffffffff;
  for (const byte of bytes) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** 2020-01-01 00:00 in MS-DOS form: fixed, so the same seed gives the same zip. */
const dosTime = 0;
const dosDate = ((2020 - 1980) << 9) | (1 << 5) | 1;

async function writeZip(
  zipPath: string,
  root: string,
  entries: readonly string[],
): Promise<number> {
  if (entries.length > 0xffff) throw new Error('zip: more than 65535 entries needs ZIP64');
  const file = await open(zipPath, 'wx');
  const central: Buffer[] = [];
  let offset = 0;
  try {
    for (const name of entries) {
      const data = await readFile(path.join(root, name));
      const deflated = zlib.deflateRawSync(data);
      const stored = deflated.length >= data.length;
      const body = stored ? data : deflated;
      const crc = crc32(data);
      const nameBytes = Buffer.from(name, 'ascii');
      const local = Buffer.alloc(30);
      local.writeUInt32LE(0x04034b50, 0);
      local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
      local.writeUInt16LE(0, 6); // flags
      local.writeUInt16LE(stored ? 0 : 8, 8);
      local.writeUInt16LE(dosTime, 10);
      local.writeUInt16LE(dosDate, 12);
      local.writeUInt32LE(crc, 14);
      local.writeUInt32LE(body.length, 18);
      local.writeUInt32LE(data.length, 22);
      local.writeUInt16LE(nameBytes.length, 26);
      local.writeUInt16LE(0, 28);
      const header = Buffer.alloc(46);
      header.writeUInt32LE(0x02014b50, 0);
      header.writeUInt16LE((3 << 8) | 20, 4); // made by: UNIX, 2.0
      header.writeUInt16LE(20, 6);
      header.writeUInt16LE(0, 8);
      header.writeUInt16LE(stored ? 0 : 8, 10);
      header.writeUInt16LE(dosTime, 12);
      header.writeUInt16LE(dosDate, 14);
      header.writeUInt32LE(crc, 16);
      header.writeUInt32LE(body.length, 20);
      header.writeUInt32LE(data.length, 24);
      header.writeUInt16LE(nameBytes.length, 28);
      header.writeUInt16LE(0, 30); // extra
      header.writeUInt16LE(0, 32); // comment
      header.writeUInt16LE(0, 34); // disk
      header.writeUInt16LE(0, 36); // internal attributes
      header.writeUInt32LE((0o100644 << 16) >>> 0, 38); // regular file, rw-r--r--
      header.writeUInt32LE(offset, 42);
      central.push(header, nameBytes);
      await file.writev([local, nameBytes, body]);
      offset += local.length + nameBytes.length + body.length;
      if (offset > 0xffffffff) throw new Error('zip: larger than 4 GiB needs ZIP64');
    }
    const centralDirectory = Buffer.concat(central);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(0, 4);
    end.writeUInt16LE(0, 6);
    end.writeUInt16LE(entries.length, 8);
    end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(centralDirectory.length, 12);
    end.writeUInt32LE(offset, 16);
    end.writeUInt16LE(0, 20);
    await file.writev([centralDirectory, end]);
    return offset + centralDirectory.length + end.length;
  } finally {
    await file.close();
  }
}
