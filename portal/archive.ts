/**
 * Where received instances end up: the embedded disk store (default) or a DICOMweb archive
 * (`--archive dicomweb:URL`, Orthanc with its DICOMweb plugin as the reference).
 *
 * Both take instances already written to temp files, checked and hashed by the STOW-RS receiver,
 * and answer per instance. An archive that cannot be reached throws ArchiveUnavailableError, and the
 * receiver records nothing for that request (the client is told to retry).
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import { httpRequest, HttpUnreachableError } from './http-client.ts';
import type { StoredInstance } from './model.ts';

export interface ReceivedInstance {
  readonly tempPath: string;
  readonly sopInstanceUid: string;
  readonly sopClassUid: string;
  readonly studyInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly sha256: string;
  readonly bytes: number;
}

/** PS3.4 Table B.2-1 / PS3.7 C failure codes, as used in FailureReason (0008,1197). */
export const FailureReason = {
  processingFailure: 0x0110,
  duplicateSopInstance: 0x0111,
  notAuthorized: 0x0124,
  outOfResources: 0xa700,
  dataSetDoesNotMatchSopClass: 0xa900,
  cannotUnderstand: 0xc000,
} as const;

export interface ArchiveStoreResult {
  readonly stored: readonly ReceivedInstance[];
  readonly failed: readonly { readonly instance: ReceivedInstance; readonly reason: number }[];
}

export class ArchiveUnavailableError extends Error {}

export interface Archive {
  /** For logs and the staff pages: "embedded disk store" or the archive's origin. */
  readonly description: string;
  store(instances: readonly ReceivedInstance[]): Promise<ArchiveStoreResult>;
  /** The SOP Instance UIDs among `expected` that the archive cannot show (or shows changed). */
  findMissing(expected: readonly StoredInstance[]): Promise<string[]>;
}

export function parseArchiveOption(value: string | undefined, dataDir: string): Archive {
  if (value === undefined || value === 'embedded')
    return new EmbeddedArchive(path.join(dataDir, 'images'));
  if (value.startsWith('dicomweb:')) {
    const url = new URL(value.slice('dicomweb:'.length));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`--archive dicomweb: needs an http(s) URL, got ${url.protocol}`);
    }
    return new DicomWebArchive(url);
  }
  throw new Error(`--archive must be "embedded" or "dicomweb:URL", got ${JSON.stringify(value)}`);
}

/** One file per SOP Instance UID under <data>/images/<study>/<sop>.dcm; UIDs are checked to be [0-9.] only. */
export class EmbeddedArchive implements Archive {
  readonly description = 'embedded disk store';

  constructor(readonly root: string) {}

  pathOf(instance: { studyInstanceUid: string; sopInstanceUid: string }): string {
    return path.join(this.root, instance.studyInstanceUid, `${instance.sopInstanceUid}.dcm`);
  }

  async store(instances: readonly ReceivedInstance[]): Promise<ArchiveStoreResult> {
    const dirs = new Set<string>();
    for (const instance of instances) {
      const dest = this.pathOf(instance);
      await mkdir(path.dirname(dest), { recursive: true });
      // The temp file was fsynced when it was received; rename is atomic on one file system.
      await rename(instance.tempPath, dest);
      dirs.add(path.dirname(dest));
    }
    for (const dir of dirs) await fsyncDir(dir);
    return { stored: instances, failed: [] };
  }

  async findMissing(expected: readonly StoredInstance[]): Promise<string[]> {
    const missing: string[] = [];
    for (const instance of expected) {
      const file = this.pathOf(instance);
      try {
        if (
          (await stat(file)).size !== instance.bytes ||
          (await sha256File(file)) !== instance.sha256
        ) {
          missing.push(instance.sopInstanceUid);
        }
      } catch {
        missing.push(instance.sopInstanceUid);
      }
    }
    return missing;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** STOW-RS into, and QIDO-RS from, a DICOMweb origin server (PS3.18 10.5, 10.6). */
export class DicomWebArchive implements Archive {
  readonly description: string;
  readonly #base: URL;

  constructor(
    base: URL,
    readonly timeoutMs = 120_000,
  ) {
    this.#base = new URL(base.href.endsWith('/') ? base.href : `${base.href}/`);
    this.description = `DICOMweb archive at ${this.#base.origin}${this.#base.pathname}`;
  }

  async store(instances: readonly ReceivedInstance[]): Promise<ArchiveStoreResult> {
    if (instances.length === 0) return { stored: [], failed: [] };
    const boundary = `ferry-${randomBytes(12).toString('hex')}`;
    const partHeader = Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`);
    const crlf = Buffer.from('\r\n');
    const close = Buffer.from(`--${boundary}--\r\n`);
    const length =
      instances.reduce((sum, i) => sum + partHeader.length + i.bytes + crlf.length, 0) +
      close.length;
    const body = Readable.from(
      (async function* () {
        for (const instance of instances) {
          yield partHeader;
          yield* createReadStream(instance.tempPath);
          yield crlf;
        }
        yield close;
      })(),
    );
    let answer;
    try {
      answer = await httpRequest(new URL('studies', this.#base), {
        method: 'POST',
        headers: {
          'content-type': `multipart/related; type="application/dicom"; boundary=${boundary}`,
          'content-length': String(length),
          accept: 'application/dicom+json',
        },
        body,
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (err instanceof HttpUnreachableError)
        throw new ArchiveUnavailableError(err.message, { cause: err });
      throw err;
    }
    if (
      answer.status >= 500 ||
      answer.status === 429 ||
      answer.status === 401 ||
      answer.status === 403
    ) {
      throw new ArchiveUnavailableError(`archive answered HTTP ${answer.status} to STOW-RS`);
    }
    const referenced = new Set<string>();
    const failedReasons = new Map<string, number>();
    if (answer.body.length > 0 && /json/.test(String(answer.headers['content-type']))) {
      const dataset = JSON.parse(answer.body.toString('utf8')) as DicomJson;
      for (const item of sequence(dataset, '00081199')) {
        const uid = firstString(item, '00081155');
        if (uid !== undefined) referenced.add(uid);
      }
      for (const item of sequence(dataset, '00081198')) {
        const uid = firstString(item, '00081155');
        const reason = firstNumber(item, '00081197');
        if (uid !== undefined) failedReasons.set(uid, reason ?? FailureReason.processingFailure);
      }
    }
    const stored: ReceivedInstance[] = [];
    const failed: { instance: ReceivedInstance; reason: number }[] = [];
    for (const instance of instances) {
      if (referenced.has(instance.sopInstanceUid) && !failedReasons.has(instance.sopInstanceUid)) {
        stored.push(instance);
      } else {
        failed.push({
          instance,
          reason: failedReasons.get(instance.sopInstanceUid) ?? FailureReason.processingFailure,
        });
      }
    }
    return { stored, failed };
  }

  async findMissing(expected: readonly StoredInstance[]): Promise<string[]> {
    const byStudy = new Map<string, Set<string>>();
    for (const instance of expected) {
      let set = byStudy.get(instance.studyInstanceUid);
      if (set === undefined) byStudy.set(instance.studyInstanceUid, (set = new Set()));
      set.add(instance.sopInstanceUid);
    }
    const missing: string[] = [];
    for (const [study, wanted] of byStudy) {
      const found = await this.#instancesOfStudy(study);
      for (const uid of wanted) if (!found.has(uid)) missing.push(uid);
    }
    return missing;
  }

  /** QIDO-RS SearchForInstances in one study (PS3.18 10.6), paged. */
  async #instancesOfStudy(study: string): Promise<Set<string>> {
    const found = new Set<string>();
    const pageSize = 1000;
    for (let offset = 0; ; offset += pageSize) {
      const url = new URL(`studies/${study}/instances`, this.#base);
      url.searchParams.set('includefield', '00080018');
      url.searchParams.set('limit', String(pageSize));
      url.searchParams.set('offset', String(offset));
      let answer;
      try {
        answer = await httpRequest(url, {
          method: 'GET',
          headers: { accept: 'application/dicom+json' },
          timeoutMs: this.timeoutMs,
        });
      } catch (err) {
        if (err instanceof HttpUnreachableError)
          throw new ArchiveUnavailableError(err.message, { cause: err });
        throw err;
      }
      if (answer.status === 204 || answer.status === 404) return found;
      if (answer.status !== 200)
        throw new ArchiveUnavailableError(`archive answered HTTP ${answer.status} to QIDO-RS`);
      const page = JSON.parse(answer.body.toString('utf8')) as DicomJson[];
      for (const item of page) {
        const uid = firstString(item, '00080018');
        if (uid !== undefined) found.add(uid);
      }
      if (page.length < pageSize) return found;
    }
  }
}

/** PS3.18 F.2 DICOM JSON model, as much as is read here. */
type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

function sequence(dataset: DicomJson, tag: string): DicomJson[] {
  return (dataset[tag]?.Value ?? []) as DicomJson[];
}
function firstString(dataset: DicomJson, tag: string): string | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'string' ? value : undefined;
}
function firstNumber(dataset: DicomJson, tag: string): number | undefined {
  const value = dataset[tag]?.Value?.[0];
  return typeof value === 'number' ? value : undefined;
}
