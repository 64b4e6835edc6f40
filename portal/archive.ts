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
import {
  httpRequest,
  httpStream,
  HttpUnreachableError,
  type HttpStreamAnswer,
} from './http-client.ts';
import {
  MultipartError,
  MultipartParser,
  parseMediaType,
  type MultipartEvent,
} from './multipart.ts';
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

/** An instance being read back from the archive. */
export interface RetrievedInstance {
  /** The size of the PS3.10 file, when known before reading it. */
  readonly bytes: number | undefined;
  /** The PS3.10 file's bytes; throws when the archive's answer breaks off before the end. */
  readonly body: AsyncIterable<Buffer>;
  /** Stops reading early (the client went away). */
  cancel(): void;
}

export interface Archive {
  /** For logs and the staff pages: "embedded disk store" or the archive's origin. */
  readonly description: string;
  store(instances: readonly ReceivedInstance[]): Promise<ArchiveStoreResult>;
  /** The SOP Instance UIDs among `expected` that the archive cannot show (or shows changed). */
  findMissing(expected: readonly StoredInstance[]): Promise<string[]>;
  /**
   * Opens one stored instance for reading: undefined when the archive does not hold it;
   * ArchiveUnavailableError when the archive cannot be asked.
   */
  retrieve(instance: StoredInstance): Promise<RetrievedInstance | undefined>;
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

  async retrieve(instance: StoredInstance): Promise<RetrievedInstance | undefined> {
    const file = this.pathOf(instance);
    let handle;
    try {
      handle = await open(file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const { size } = await handle.stat();
    const stream = handle.createReadStream(); // closes the handle at its end or when destroyed
    return {
      bytes: size,
      body: stream as AsyncIterable<Buffer>,
      cancel: () => stream.destroy(),
    };
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

  /**
   * WADO-RS RetrieveInstance (PS3.18 10.4) in the transfer syntax the archive holds it in
   * (`transfer-syntax=*`), so what comes back is the file that was stored. The answer's single
   * application/dicom part is read as it arrives; nothing is buffered beyond one chunk.
   */
  async retrieve(instance: StoredInstance): Promise<RetrievedInstance | undefined> {
    const url = new URL(
      `studies/${instance.studyInstanceUid}/series/${instance.seriesInstanceUid}/instances/${instance.sopInstanceUid}`,
      this.#base,
    );
    let answer: HttpStreamAnswer;
    try {
      answer = await httpStream(url, {
        headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' },
        timeoutMs: this.timeoutMs,
      });
    } catch (err) {
      if (err instanceof HttpUnreachableError)
        throw new ArchiveUnavailableError(err.message, { cause: err });
      throw err;
    }
    if (answer.status !== 200) {
      answer.abort();
      if (answer.status === 404 || answer.status === 410 || answer.status === 204) return undefined;
      throw new ArchiveUnavailableError(`archive answered HTTP ${answer.status} to WADO-RS`);
    }
    const type = parseMediaType(firstHeader(answer.headers['content-type']));
    const length = Number(firstHeader(answer.headers['content-length']) ?? NaN);
    if (type?.type === 'application/dicom') {
      // A single-part answer (some archives): the body is the file.
      return {
        bytes: Number.isSafeInteger(length) ? length : undefined,
        body: answer.body,
        cancel: () => answer.abort(),
      };
    }
    const boundary = type?.params.boundary;
    if (type?.type !== 'multipart/related' || boundary === undefined) {
      answer.abort();
      throw new ArchiveUnavailableError(
        `archive answered WADO-RS with ${type?.type ?? 'no content type'}, not multipart/related`,
      );
    }
    try {
      return await firstDicomPart(answer, boundary);
    } catch (err) {
      answer.abort();
      if (err instanceof HttpUnreachableError || err instanceof MultipartError)
        throw new ArchiveUnavailableError(err.message, { cause: err });
      throw err;
    }
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

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Reads a WADO-RS multipart answer up to its first part's headers (so a refusal can still be told
 * apart from an instance) and returns that part's body as a stream of its bytes.
 */
async function firstDicomPart(
  answer: HttpStreamAnswer,
  boundary: string,
): Promise<RetrievedInstance | undefined> {
  const parser = new MultipartParser(boundary);
  const chunks = answer.body[Symbol.asyncIterator]();
  let queued: MultipartEvent[] = [];
  async function next(): Promise<MultipartEvent | undefined> {
    while (queued.length === 0) {
      const { value, done } = await chunks.next();
      if (done) {
        parser.end(); // throws when the close delimiter never came
        return undefined;
      }
      queued = parser.write(value);
    }
    return queued.shift();
  }
  const start = await next();
  if (start === undefined) return undefined; // an empty multipart: nothing held
  if (start.kind !== 'part-start') throw new MultipartError('multipart answer without a part');
  const partType = parseMediaType(start.headers['content-type'] ?? 'application/dicom');
  if (partType?.type !== 'application/dicom') {
    throw new MultipartError(
      `archive sent ${partType?.type ?? 'an unknown type'}, not application/dicom`,
    );
  }
  const length = Number(start.headers['content-length'] ?? NaN);
  return {
    bytes: Number.isSafeInteger(length) ? length : undefined,
    body: (async function* () {
      try {
        for (;;) {
          const event = await next();
          if (event === undefined || event.kind === 'part-start')
            throw new MultipartError('the instance part ended early');
          if (event.kind === 'part-end') return;
          yield event.data;
        }
      } finally {
        answer.abort(); // the close delimiter and any epilogue are not needed
      }
    })(),
    cancel: () => answer.abort(),
  };
}
