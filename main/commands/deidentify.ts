/**
 * `ferry deidentify PATH --out DIR [--profile basic] [--option NAME]… [--key-file F]
 *  [--pseudonym ID] [--mask X,Y,W,H]… [--confirm-burned-in] [--concurrency N] [--json]`
 *
 * Writes de-identified Part 10 files (PS3.15 Annex E, docs/deidentification.md) under DIR as
 * STUDY/SERIES/INSTANCE.dcm named by the new UIDs, and DIR/deidentification-report.json: every
 * attribute changed, per instance, without the original values. Never writes the DICOMDIR.
 * Images that may show identity in their pixels are held back unless masked (--mask) or
 * confirmed (--confirm-burned-in).
 */
import { Buffer } from 'node:buffer';
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writevSync,
} from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { readInstanceHeader, type HeaderRead } from '../core/dicom/instance.ts';
import { DeidError, type AttributeChange, type DeidentifyPolicy } from '../core/deid/engine.ts';
import {
  deidentifyInstance,
  wholeFileBytes,
  writeInstanceFile,
  type DeidentifiedInstance,
  type InstanceInput,
  unwrittenAfter,
} from '../core/deid/instance.ts';
import type { MaskRect } from '../core/deid/mask.ts';
import { allOptions, type DeidOption } from '../core/deid/profile.ts';
import { makeFinding, type Finding } from '../core/findings.ts';
import { isZip } from '../core/media/classify.ts';
import { DICOMDIR_NAME, MEDIA_STORAGE_DIRECTORY, walkFiles } from '../core/media/walk.ts';
import { HEAD_BYTES, readFileHeadSync } from '../core/media/read-head.ts';
import { forEachLimit } from '../core/util/pool.ts';
import type { Io } from './io.ts';
import { groupBySeries, type Grouped } from './report-series.ts';

interface InstanceReport {
  /** Path on the disc (stdout only: folder names on some discs carry names). */
  source?: string;
  output?: string;
  status: 'written' | 'held' | 'failed';
  sopInstanceUid?: string;
  /** The new study and series UIDs: the report lists changes per series (report-series.ts). */
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  burnedIn: string[];
  masked: boolean;
  error?: { code: string; message: string };
  changes: Omit<AttributeChange, 'before'>[];
}

/** An instance as the report lists it: its series' index and the changes beyond the series'. */
function instanceEntry(
  entry: Grouped<InstanceReport>['instances'][number],
  withSource: boolean,
): object {
  const { report } = entry;
  return {
    ...(withSource && report.source !== undefined ? { source: report.source } : {}),
    status: report.status,
    ...(report.sopInstanceUid !== undefined ? { sopInstanceUid: report.sopInstanceUid } : {}),
    ...(report.output !== undefined ? { output: report.output } : {}),
    burnedIn: report.burnedIn,
    masked: report.masked,
    ...(report.error !== undefined ? { error: report.error } : {}),
    ...(entry.series !== undefined ? { series: entry.series } : {}),
    changes: entry.changes,
  };
}

const reportName = 'deidentification-report.json';

/**
 * A change as the report gives it: without the original value. The instances of a series share
 * most of their change records (engine.ts reuses them), so each is stripped once.
 */
const stripped = new WeakMap<AttributeChange, Omit<AttributeChange, 'before'>>();
function withoutBefore(change: AttributeChange): Omit<AttributeChange, 'before'> {
  let result = stripped.get(change);
  if (result === undefined) {
    const copy: { -readonly [K in keyof AttributeChange]: AttributeChange[K] } = { ...change };
    delete copy.before;
    result = copy;
    stripped.set(change, result);
  }
  return result;
}

function parseMask(text: string): MaskRect {
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 4 || !parts.every((n) => Number.isInteger(n) && n >= 0)) {
    throw new Error(`--mask wants X,Y,WIDTH,HEIGHT in pixels, got "${text}"`);
  }
  const [x = 0, y = 0, width = 0, height = 0] = parts;
  return { x, y, width, height };
}

/** The HMAC key: read from F, or created there (0600) when F does not exist yet. */
async function loadKey(file: string | undefined, io: Io): Promise<Uint8Array> {
  if (file === undefined) {
    io.stderr('No --key-file: using a one-time key, so new UIDs will differ from any other run.\n');
    return randomBytes(32);
  }
  try {
    const key = readFileSync(file);
    if (key.length < 16) throw new Error(`${file} holds fewer than 16 bytes: not a usable key`);
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32);
  writeFileSync(file, key, { mode: 0o600, flag: 'wx' });
  io.stderr(`Created a new key in ${file}; keep it to get the same UIDs in later runs.\n`);
  return key;
}

/** A well-formed UID (PS3.5 9.1): digits and dots, at most 64 characters. */
const wellFormedUid = /^[0-9]+(?:\.[0-9]+)*$/u;

/**
 * The name of an output folder or file for a UID. The UIDs come from the disc (as they are
 * with --option retain-uids), so only a well-formed UID is used as it is: any other value,
 * such as "../..", could name a place outside the output folder. Another value is named by its
 * digest, so that equal values still share a folder and a repeated instance is still found.
 */
function fileNameOf(uid: string, kind: 'study' | 'series' | 'instance'): string {
  if (uid.length <= 64 && wellFormedUid.test(uid)) return uid;
  if (uid === '') return kind;
  return `${kind}-${createHash('sha256').update(uid).digest('hex').slice(0, 32)}`;
}

/** A file to de-identify: its path on the media ("/"-separated) and on this computer. */
interface SourceItem {
  readonly relPath: string;
  readonly absPath: string;
  /**
   * Listed as an image by the scan (media with a DICOMDIR); false for a file found by walking
   * the folders, which is judged by its content when it is read (see judge).
   */
  readonly listed: boolean;
}

/**
 * Every file under `root`, sorted by path. A folder that cannot be read is a finding, as in the
 * scan, and the walk goes on; the root itself must be readable.
 */
async function walk(root: string, findings: Finding[]): Promise<SourceItem[]> {
  const found = await walkFiles(root, {
    sync: true,
    onUnreadableFolder: (rel, error) => {
      if (rel === '') throw error;
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      findings.push(makeFinding('unreadable-folder', [rel], code));
    },
  });
  const files = found.map((file) => ({ ...file, listed: false }));
  // By code unit: deterministic, and no locale collation to load (tens of ms at start-up).
  return files.sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
}

/**
 * What to de-identify. With a DICOMDIR anywhere on the media, the images the scan lists (it
 * reads the DICOMDIR and checks its files). Without one, every file, each read once by the
 * work pass itself: a separate header pass would read every header twice for nothing (the
 * date offset is per patient from the instance's own attributes, engine.ts). The scanner is
 * loaded only when it is needed (a DICOMDIR or a zip).
 */
async function findSources(target: string, findings: Finding[]): Promise<SourceItem[]> {
  const info = statSync(target);
  if (!info.isDirectory()) {
    return [{ relPath: path.basename(target), absPath: path.resolve(target), listed: false }];
  }
  const files = await walk(target, findings);
  if (!files.some((file) => DICOMDIR_NAME.test(path.posix.basename(file.relPath)))) return files;
  const { scanMedia } = await import('../core/media/scan.ts');
  const scan = await scanMedia(target, { verify: false });
  return scan.patients.flatMap((patient) =>
    patient.studies.flatMap((study) =>
      study.series.flatMap((series) =>
        series.instances.map((instance) => ({
          relPath: instance.path,
          absPath: path.join(scan.root, instance.path),
          listed: true,
        })),
      ),
    ),
  );
}

/** The images inside a zip file found by walking, named as the scan names them. */
async function zipEntries(item: SourceItem): Promise<string[]> {
  const { scanMedia } = await import('../core/media/scan.ts');
  const scan = await scanMedia(item.absPath, { verify: false });
  const folder = path.posix.dirname(item.relPath);
  return scan.patients.flatMap((patient) =>
    patient.studies.flatMap((study) =>
      study.series.flatMap((series) =>
        series.instances.map((instance) =>
          folder === '.' ? instance.path : `${folder}/${instance.path}`,
        ),
      ),
    ),
  );
}

function zipNotSupported(): DeidError {
  return new DeidError('unreadable', 'files inside zip archives are not de-identified yet');
}

/** A file found by walking that is not an image to de-identify. */
type Skipped = { readonly kind: 'not-an-image' } | { readonly kind: 'zip' };

/**
 * Whether the scan would list a file as an image, by the same tests (scan.ts): not empty, not a
 * zip, a DICOM header, not a DICOMDIR, pixel data not cut short. Undefined for an image; files
 * it would not list are left out here too, and images it would list that cannot be
 * de-identified are reported.
 */
function judge(head: Uint8Array, header: HeaderRead, size: number): Skipped | undefined {
  if (size === 0) return { kind: 'not-an-image' };
  if (isZip(head)) return { kind: 'zip' };
  if (header.kind !== 'dicom' || header.header.sopClassUid === MEDIA_STORAGE_DIRECTORY) {
    return { kind: 'not-an-image' };
  }
  if (header.pixelDataEnd !== undefined && header.pixelDataEnd > size) {
    return { kind: 'not-an-image' };
  }
  return undefined;
}

/** How a file that is not DICOM can fail to parse: refused, or a length field that lied. */
function parseFailure(error: unknown): boolean {
  return error instanceof DeidError || error instanceof RangeError;
}

/** One reusable read buffer per file in flight: no allocation (and no GC) per file. */
interface ReadSlot {
  buffer: Buffer;
}

const firstSlotBytes = 1024 * 1024;

/**
 * A file of up to wholeFileBytes, read whole into the slot's buffer (the view is valid until
 * the slot's next file); undefined for a larger file, which is streamed. Synchronous, as the
 * scan's header reads are (read-head.ts): on cached and local media each call takes
 * microseconds, and thread-pool round trips cost more than the copies (measured with
 * `npm run bench -- deid`: about 10% less CPU and wall time than asynchronous reads and writes).
 * Read until the end of the file, not to a size from fstat: a file smaller than the slot takes
 * two reads and no stat (whose Stats object cost more than the read that finds the end).
 */
function readWhole(absPath: string, slot: ReadSlot): Uint8Array | undefined {
  const fd = openSync(absPath, 'r');
  try {
    let filled = 0;
    for (;;) {
      if (filled === slot.buffer.length) {
        // The slot is full: the file may be larger.
        const size = fstatSync(fd).size;
        if (size > wholeFileBytes) return undefined;
        if (size <= filled) break;
        const larger = Buffer.allocUnsafeSlow(
          Math.min(wholeFileBytes, Math.max(size, slot.buffer.length * 2)),
        );
        larger.set(slot.buffer.subarray(0, filled));
        slot.buffer = larger;
      }
      const bytesRead = readSync(fd, slot.buffer, filled, slot.buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    // Only the bytes just read: what the buffer held before is never part of the view.
    return new Uint8Array(slot.buffer.buffer, slot.buffer.byteOffset, filled);
  } finally {
    closeSync(fd);
  }
}

type Loaded =
  | {
      readonly kind: 'instance';
      readonly instance: DeidentifiedInstance;
      readonly input: InstanceInput;
    }
  | Skipped;

/**
 * De-identifies one source file. A file that fits in memory is read once and worked on from
 * that buffer; a larger one, or one the whole-file parse refuses (bytes after the pixel data
 * that are not elements), goes through deidentifyInstance's own file reading. A file found by
 * walking that does not parse is judged as the scan would judge it.
 */
async function loadSource(
  item: SourceItem,
  slot: ReadSlot,
  policy: DeidentifyPolicy,
): Promise<Loaded> {
  const bytes = readWhole(item.absPath, slot);
  if (bytes !== undefined) {
    const input: InstanceInput = { kind: 'bytes', bytes };
    try {
      return { kind: 'instance', instance: await deidentifyInstance(input, policy), input };
    } catch (error) {
      if (!parseFailure(error)) throw error;
      if (!item.listed) {
        const header = readInstanceHeader(bytes, { fileSize: bytes.length });
        const skipped = judge(bytes.subarray(0, 512), header, bytes.length);
        if (skipped) return skipped;
      }
    }
  }
  const input: InstanceInput = { kind: 'file', path: item.absPath };
  try {
    return { kind: 'instance', instance: await deidentifyInstance(input, policy), input };
  } catch (error) {
    if (parseFailure(error) && !item.listed && bytes === undefined) {
      const head = readFileHeadSync(item.absPath, Buffer.allocUnsafe(HEAD_BYTES));
      const skipped = judge(head.head, head.read, head.size);
      if (skipped) return skipped;
    }
    throw error;
  }
}

/** Writes every byte of `chunks` at the file's position (writev; short writes resumed). */
function writeAll(fd: number, chunks: Uint8Array[]): void {
  let pending = chunks;
  while (pending.length > 0) pending = unwrittenAfter(pending, writevSync(fd, pending));
}

/**
 * Writes an instance whose bytes are all in memory (read whole) with one writev, via a
 * temporary name: a failure leaves nothing behind. Synchronous like readWhole. No fsync: the
 * output is a folder of files the user copies or sends on, not a journal to recover from.
 */
async function writeFromMemory(instance: DeidentifiedInstance, outPath: string): Promise<void> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of instance.chunks()) chunks.push(chunk);
  const partial = `${outPath}.partial`;
  const fd = openSync(partial, 'w');
  try {
    try {
      writeAll(fd, chunks);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, outPath);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

export async function runDeidentify(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string' },
      profile: { type: 'string', default: 'basic' },
      option: { type: 'string', multiple: true, default: [] },
      'key-file': { type: 'string' },
      pseudonym: { type: 'string' },
      mask: { type: 'string', multiple: true, default: [] },
      'confirm-burned-in': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const target = positionals[0];
  const outDir = values.out;
  if (!target || !outDir) {
    io.stderr(
      'ferry deidentify: give the disc and an output folder, e.g. ferry deidentify /media/cdrom --out ./anon\n',
    );
    return 2;
  }
  if (values.profile !== 'basic') {
    io.stderr(
      `ferry deidentify: the only profile is "basic" (PS3.15 E.1), got "${values.profile}"\n`,
    );
    return 2;
  }
  const options: DeidOption[] = [];
  for (const option of values.option) {
    if (!(allOptions as readonly string[]).includes(option)) {
      io.stderr(
        `ferry deidentify: unknown option "${option}"; options: ${allOptions.join(', ')}\n`,
      );
      return 2;
    }
    options.push(option as DeidOption);
  }
  let masks: MaskRect[];
  try {
    masks = values.mask.map(parseMask);
  } catch (error) {
    io.stderr(`ferry deidentify: ${(error as Error).message}\n`);
    return 2;
  }
  if (masks.length > 0 && !options.includes('clean-pixel-data')) options.push('clean-pixel-data');
  const concurrency = values.concurrency ? Number(values.concurrency) : 4;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    io.stderr('ferry deidentify: --concurrency wants a positive integer\n');
    return 2;
  }

  const root = path.resolve(outDir);
  mkdirSync(root, { recursive: true });
  if (readdirSync(root).length > 0) {
    io.stderr(`ferry deidentify: ${outDir} is not empty; give an empty or new folder\n`);
    return 2;
  }
  const key = await loadKey(values['key-file'], io);
  const policy: DeidentifyPolicy = {
    kind: 'deidentify',
    profile: 'basic',
    options,
    key,
    ...(values.pseudonym !== undefined ? { pseudonym: { patientId: values.pseudonym } } : {}),
  };

  const findings: Finding[] = [];
  let items: SourceItem[];
  try {
    items = await findSources(target, findings);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      io.stderr(`ferry deidentify: nothing at ${target} (no such file or folder)\n`);
      return 2;
    }
    throw error;
  }
  // Per source file: its reports (none for a file that is not an image, several for a zip).
  const reportsBySource: InstanceReport[][] = new Array(items.length);
  const folders = new Set<string>();
  const outputs = new Set<string>();
  const slots: ReadSlot[] = [];
  let done = 0;
  // Date.now, not performance.now: the summary needs hundredths of a second, and perf_hooks
  // (which performance loads on first use) costs a run about 1 ms to load.
  const started = Date.now();

  const fail = (report: InstanceReport, error: DeidError, sourcePath: string): void => {
    report.status = 'failed';
    report.error = { code: error.code, message: error.message };
    findings.push(
      makeFinding(
        error.code.startsWith('mask') ? 'deid-mask-refused' : 'deid-failed',
        [sourcePath],
        error.code,
      ),
    );
  };

  const work = async (item: SourceItem, slot: ReadSlot): Promise<InstanceReport[]> => {
    const report: InstanceReport = {
      source: item.relPath,
      status: 'failed',
      burnedIn: [],
      masked: false,
      changes: [],
    };
    if (item.relPath.includes('!/')) {
      fail(report, zipNotSupported(), item.relPath);
      return [report];
    }
    let loaded: Loaded;
    try {
      loaded = await loadSource(item, slot, policy);
    } catch (error) {
      if (error instanceof DeidError) {
        fail(report, error, item.relPath);
        return [report];
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (item.listed || typeof code !== 'string') throw error;
      // A file found by walking that cannot be opened or read (EACCES, EIO): not listed, as the
      // scan does not list it, but said in the findings.
      findings.push(makeFinding('unreadable-file', [item.relPath], code));
      return [];
    }
    if (loaded.kind === 'not-an-image') return [];
    if (loaded.kind === 'zip') {
      // Its images are listed (as the scan lists them) and reported as not de-identified.
      return (await zipEntries(item)).map((entryPath) => {
        const entryReport: InstanceReport = { ...report, source: entryPath };
        fail(entryReport, zipNotSupported(), entryPath);
        return entryReport;
      });
    }
    try {
      let result = loaded.instance;
      if (result.burnedIn.length > 0 && masks.length > 0) {
        result = await deidentifyInstance(loaded.input, policy, { masks });
      }
      report.sopInstanceUid = result.sopInstanceUid;
      report.studyInstanceUid = result.studyInstanceUid;
      report.seriesInstanceUid = result.seriesInstanceUid;
      report.burnedIn = result.burnedIn.map((flag) => flag.reason);
      report.masked = result.masked;
      report.changes = result.changes.map(withoutBefore);
      if (result.burnedIn.length > 0 && !result.masked && !values['confirm-burned-in']) {
        report.status = 'held';
        findings.push(
          makeFinding('deid-burned-in-risk', [item.relPath], report.burnedIn.join(', ')),
        );
        return [report];
      }
      const relative = [
        fileNameOf(result.studyInstanceUid, 'study'),
        fileNameOf(result.seriesInstanceUid, 'series'),
        `${fileNameOf(result.sopInstanceUid, 'instance')}.dcm`,
      ].join('/');
      const outPath = root + path.sep + relative.replaceAll('/', path.sep);
      // Two files with one SOP Instance UID (a copy on the disc) would write one output file.
      if (outputs.has(outPath)) {
        throw new DeidError(
          'duplicate-instance',
          'another file on the disc holds an image with the same SOP Instance UID; that one was written',
        );
      }
      outputs.add(outPath);
      const folder = path.dirname(outPath);
      // Each study/series folder is made once, not once per instance.
      if (!folders.has(folder)) {
        mkdirSync(folder, { recursive: true });
        folders.add(folder);
      }
      if (loaded.input.kind === 'bytes') await writeFromMemory(result, outPath);
      else await writeInstanceFile(result, outPath);
      report.output = relative;
      report.status = 'written';
    } catch (error) {
      if (!(error instanceof DeidError)) throw error;
      fail(report, error, item.relPath);
    }
    return [report];
  };

  await forEachLimit(items, concurrency, async (item, index) => {
    // At most `concurrency` items are in flight, so a free slot is always there to take.
    const slot = slots.pop() ?? { buffer: Buffer.allocUnsafeSlow(firstSlotBytes) };
    try {
      reportsBySource[index] = await work(item, slot);
    } finally {
      slots.push(slot);
      done++;
      if (io.isTty) io.stderr(`\r\x1b[KDe-identifying ${done} of ${items.length} files`);
    }
  });
  const reports = reportsBySource.flat();
  if (io.isTty) io.stderr('\r\x1b[K');
  const count = (status: InstanceReport['status']): number =>
    reports.filter((report) => report.status === status).length;
  const summary = {
    instances: reports.length,
    written: count('written'),
    held: count('held'),
    failed: count('failed'),
    seconds: Math.round((Date.now() - started) / 10) / 100,
  };
  const grouped = groupBySeries(reports);
  const document = {
    profile: 'basic',
    options,
    output: root,
    summary,
    series: grouped.series,
    instances: grouped.instances.map((entry) => instanceEntry(entry, true)),
    findings,
  };
  // The report beside the files carries no source paths (disc folder names can be names).
  const fileReport = {
    profile: 'basic',
    options,
    summary,
    series: grouped.series,
    instances: grouped.instances.map((entry) => instanceEntry(entry, false)),
    findings: findings.map(({ paths: _paths, ...rest }) => rest),
  };
  writeFileSync(path.join(root, reportName), `${JSON.stringify(fileReport, null, 2)}\n`);
  if (values.json) {
    io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    io.stdout(
      `De-identified ${summary.written} of ${summary.instances} images into ${outDir} (${summary.seconds} s).\n` +
        `Every change is listed in ${path.join(outDir, reportName)}.\n`,
    );
    if (summary.held > 0) {
      io.stdout(
        `${summary.held} images were held back: they may show the patient's name or other details in the picture itself.\n` +
          'Check them; cover those areas with --mask X,Y,WIDTH,HEIGHT, or run again with --confirm-burned-in.\n',
      );
    }
    if (summary.failed > 0)
      io.stdout(`${summary.failed} images could not be de-identified; they were not written.\n`);
  }
  return summary.held > 0 || summary.failed > 0 ? 1 : 0;
}
