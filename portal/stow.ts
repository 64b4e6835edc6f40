/**
 * STOW-RS receiver (PS3.18 10.5 Store Transaction): a multipart/related; type="application/dicom"
 * body is streamed part by part into temp files (hashing as it goes), each part is read as a PS3.10
 * file, checked against the link (transfer manifest, policy, limits, earlier deliveries), stored in
 * the archive, and only then recorded. The answer lists every instance in ReferencedSOPSequence
 * (0008,1199) or FailedSOPSequence (0008,1198) with a FailureReason (0008,1197).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { readInstanceHeader, type InstanceHeader } from '../main/core/dicom/instance.ts';
import { parseDicom } from '../main/core/dicom/parse.ts';
import { ArchiveUnavailableError, FailureReason, type ReceivedInstance } from './archive.ts';
import { PortalError } from './errors.ts';
import { OPEN_STATES, type StoredInstance, type Transfer } from './model.ts';
import { MultipartError, MultipartParser, parseMediaType } from './multipart.ts';
import { isUid, type Authorized, type PortalService } from './service.ts';

/** Enough for the header of nearly any instance; more is read from the temp file when needed. */
const HEAD_BYTES = 64 * 1024;
const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export type DicomJson = Record<string, { vr: string; Value?: unknown[] }>;

interface Failure {
  readonly sopClassUid?: string;
  readonly sopInstanceUid?: string;
  readonly reason: number;
  /** For the audit log and the server's own log, never sent: why, in a word. */
  readonly why: string;
}

interface Candidate {
  readonly instance: ReceivedInstance;
  readonly header: InstanceHeader;
}

type PartOutcome = { kind: 'candidate'; candidate: Candidate } | ({ kind: 'failed' } & Failure);

/** One lock per SOP Instance UID, taken in sorted order by each request (no deadlock). */
export class KeyedLock {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(keys: readonly string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const key of [...new Set(keys)].sort()) {
      const previous = this.#tails.get(key) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((resolve) => (release = resolve));
      const tail = previous.then(() => mine);
      this.#tails.set(key, tail);
      await previous;
      releases.push(() => {
        release();
        if (this.#tails.get(key) === tail) this.#tails.delete(key);
      });
    }
    return () => releases.forEach((r) => r());
  }
}

export interface StowRequest {
  readonly service: PortalService;
  readonly auth: Authorized;
  readonly transfer: Transfer;
  /** The {study} of .../studies/{study}: every instance must belong to it (PS3.18 10.5.1). */
  readonly study?: string;
  readonly ip: string;
  readonly locks: KeyedLock;
  readonly tmpDir: string;
  readonly retryAfterSeconds: number;
}

export interface StowAnswer {
  readonly status: 200 | 202 | 409;
  readonly body: DicomJson;
}

export async function clearTempDir(tmpDir: string): Promise<void> {
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  for (const name of await readdir(tmpDir)) await rm(path.join(tmpDir, name), { force: true });
}

export async function receiveStow(req: IncomingMessage, ctx: StowRequest): Promise<StowAnswer> {
  const { service, auth, transfer } = ctx;
  const limits = auth.account.limits;
  const mediaType = parseMediaType(req.headers['content-type']);
  const boundary = mediaType?.params.boundary;
  const rootType = mediaType?.params.type?.toLowerCase();
  if (
    mediaType?.type !== 'multipart/related' ||
    boundary === undefined ||
    (rootType !== undefined && rootType !== 'application/dicom')
  ) {
    throw new PortalError('unsupported-media-type');
  }
  const declaredLength = Number(req.headers['content-length'] ?? NaN);
  if (declaredLength > limits.maxRequestBytes) {
    throw new PortalError(
      'request-too-large',
      `This request is ${declaredLength} bytes; the portal accepts at most ${limits.maxRequestBytes} bytes at once. Send the images in smaller batches.`,
    );
  }
  if (!OPEN_STATES.has(transfer.state)) throw new PortalError('transfer-closed');

  const outcomes: PartOutcome[] = [];
  const tempFiles: string[] = [];
  let release: (() => void) | undefined;
  try {
    await receiveParts(req, boundary, ctx, outcomes, tempFiles);

    // The link may have been revoked, or may have expired, while the body was arriving.
    service.store.sync();
    const state = service.linkState(service.store.links.get(auth.link.id) ?? auth.link);
    if (state !== 'active')
      throw new PortalError(state === 'revoked' ? 'link-revoked' : 'link-expired');
    if (!OPEN_STATES.has(transfer.state)) throw new PortalError('transfer-closed');

    const candidates = outcomes.flatMap((o) => (o.kind === 'candidate' ? [o.candidate] : []));
    release = await ctx.locks.acquire(candidates.map((c) => c.instance.sopInstanceUid));
    service.store.sync();

    const { toStore, alreadyHeld, refused } = triage(candidates, ctx);
    let stored: ReceivedInstance[] = [];
    const archiveFailures: Failure[] = [];
    if (toStore.length > 0) {
      let result;
      try {
        result = await service.archive.store(toStore);
      } catch (err) {
        if (err instanceof ArchiveUnavailableError) {
          service.audit.record(
            {
              action: 'archive-unavailable',
              actor: `link:${auth.link.id}`,
              ip: ctx.ip,
              transferId: transfer.id,
              count: toStore.length,
            },
            service.now(),
          );
          throw new PortalError('archive-unavailable', undefined, ctx.retryAfterSeconds);
        }
        throw err;
      }
      stored = [...result.stored];
      for (const f of result.failed) {
        archiveFailures.push({
          sopClassUid: f.instance.sopClassUid,
          sopInstanceUid: f.instance.sopInstanceUid,
          reason: f.reason,
          why: 'archive-refused',
        });
      }
    }
    if (stored.length > 0) {
      const at = service.now().toISOString();
      const items: StoredInstance[] = stored.map((i) => ({
        sopInstanceUid: i.sopInstanceUid,
        sopClassUid: i.sopClassUid,
        studyInstanceUid: i.studyInstanceUid,
        seriesInstanceUid: i.seriesInstanceUid,
        accountId: auth.account.id,
        transferId: transfer.id,
        sha256: i.sha256,
        bytes: i.bytes,
        storedAt: at,
      }));
      service.store.append({ t: 'instances', at, items });
    }

    const failures: Failure[] = [
      ...outcomes.flatMap((o) => (o.kind === 'failed' ? [o] : [])),
      ...refused,
      ...archiveFailures,
    ];
    const succeeded = [...stored, ...alreadyHeld];
    service.audit.record(
      {
        action: 'instances-received',
        actor: `link:${auth.link.id}`,
        ip: ctx.ip,
        accountId: auth.account.id,
        transferId: transfer.id,
        count: stored.length,
        bytes: stored.reduce((n, i) => n + i.bytes, 0),
      },
      service.now(),
    );
    if (failures.length > 0) {
      service.audit.record(
        {
          action: 'instances-rejected',
          actor: `link:${auth.link.id}`,
          ip: ctx.ip,
          transferId: transfer.id,
          count: failures.length,
          code: [...new Set(failures.map((f) => f.why))].join(','),
        },
        service.now(),
      );
    }
    return {
      status: failures.length === 0 ? 200 : succeeded.length > 0 ? 202 : 409,
      body: stowResponse(succeeded, failures, service.baseUrl, ctx.study),
    };
  } catch (err) {
    if (err instanceof MultipartError) throw new PortalError('multipart-malformed');
    throw err;
  } finally {
    release?.();
    // Stored files were renamed away (embedded) or copied (DICOMweb); whatever is left is scrap.
    await Promise.all(tempFiles.map((f) => rm(f, { force: true })));
  }
}

/** Reads the body part by part; never holds more than one chunk plus a part's first 64 KiB. */
async function receiveParts(
  req: IncomingMessage,
  boundary: string,
  ctx: StowRequest,
  outcomes: PartOutcome[],
  tempFiles: string[],
): Promise<void> {
  const limits = ctx.auth.account.limits;
  const parser = new MultipartParser(boundary);
  let total = 0;
  let part: PartWriter | undefined;
  try {
    await readBody();
  } finally {
    await part?.abort();
  }
  parser.end();

  async function readBody(): Promise<void> {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > limits.maxRequestBytes) {
        throw new PortalError(
          'request-too-large',
          `This request is larger than the ${limits.maxRequestBytes} bytes the portal accepts at once. Send the images in smaller batches.`,
        );
      }
      for (const event of parser.write(chunk)) {
        switch (event.kind) {
          case 'part-start': {
            const type = parseMediaType(event.headers['content-type'] ?? 'application/dicom');
            const tempPath = path.join(ctx.tmpDir, `${randomBytes(12).toString('hex')}.part`);
            part = new PartWriter(
              type?.type === 'application/dicom' ? tempPath : undefined,
              limits.maxBytes,
            );
            if (part.tempPath !== undefined) tempFiles.push(part.tempPath);
            break;
          }
          case 'part-data':
            await part?.write(event.data);
            break;
          case 'part-end':
            if (part !== undefined) outcomes.push(await part.finish());
            part = undefined;
            break;
        }
      }
    }
  }
}

/** One body part on its way to a temp file: hashed, counted, its first bytes kept for the header. */
class PartWriter {
  readonly #hash = createHash('sha256');
  readonly #head: Buffer[] = [];
  #headLength = 0;
  #bytes = 0;
  #file: Promise<FileHandle> | undefined;
  #tooLarge = false;

  constructor(
    readonly tempPath: string | undefined,
    readonly maxBytes: number,
  ) {
    if (tempPath !== undefined) this.#file = open(tempPath, 'wx', 0o600);
  }

  async write(data: Buffer): Promise<void> {
    this.#bytes += data.length;
    if (this.tempPath === undefined || this.#tooLarge) return; // discarded: not application/dicom, or over the limit
    if (this.#bytes > this.maxBytes) {
      this.#tooLarge = true;
      return;
    }
    this.#hash.update(data);
    if (this.#headLength < HEAD_BYTES) {
      const slice = Buffer.from(data.subarray(0, HEAD_BYTES - this.#headLength));
      this.#head.push(slice);
      this.#headLength += slice.length;
    }
    const file = await this.#file!;
    await file.write(data);
  }

  /** Closes the temp file of a part cut short (the request failed); the caller deletes it. */
  async abort(): Promise<void> {
    const file = await this.#file?.catch(() => undefined);
    await file?.close().catch(() => undefined);
  }

  async finish(): Promise<PartOutcome> {
    const file = await this.#file;
    try {
      if (this.tempPath === undefined || file === undefined) {
        return {
          kind: 'failed',
          reason: FailureReason.cannotUnderstand,
          why: 'not-application-dicom',
        };
      }
      if (this.#tooLarge)
        return { kind: 'failed', reason: FailureReason.outOfResources, why: 'over-limit' };
      await file.sync();
      const header = await readHeader(Buffer.concat(this.#head), file, this.#bytes);
      if (header.kind === 'failed') return header;
      return {
        kind: 'candidate',
        candidate: {
          header: header.header,
          instance: {
            tempPath: this.tempPath,
            sopInstanceUid: header.header.sopInstanceUid,
            sopClassUid: header.header.sopClassUid,
            studyInstanceUid: header.header.studyInstanceUid,
            seriesInstanceUid: header.header.seriesInstanceUid,
            sha256: this.#hash.digest('hex'),
            bytes: this.#bytes,
          },
        },
      };
    } finally {
      await file?.close();
    }
  }
}

async function readHeader(
  head: Buffer,
  file: FileHandle,
  fileSize: number,
): Promise<{ kind: 'ok'; header: InstanceHeader } | ({ kind: 'failed' } & Failure)> {
  let bytes: Buffer = head;
  let read = readInstanceHeader(bytes, { fileSize });
  while (
    read.kind === 'need-more' &&
    read.atLeast > bytes.length &&
    read.atLeast <= Math.min(fileSize, MAX_HEADER_BYTES)
  ) {
    const want = Math.min(fileSize, MAX_HEADER_BYTES, Math.max(read.atLeast, bytes.length * 4));
    bytes = Buffer.alloc(want);
    await file.read(bytes, 0, want, 0);
    read = readInstanceHeader(bytes, { fileSize });
  }
  if (read.kind !== 'dicom') {
    return {
      kind: 'failed',
      reason: FailureReason.cannotUnderstand,
      why: read.kind === 'need-more' ? 'header-too-large' : read.kind,
    };
  }
  const h = read.header;
  const identity = {
    ...(isUid(h.sopClassUid) ? { sopClassUid: h.sopClassUid } : {}),
    ...(isUid(h.sopInstanceUid) ? { sopInstanceUid: h.sopInstanceUid } : {}),
  };
  // STOW-RS carries PS3.10 files (PS3.18 8.6.1.2.1): preamble, "DICM" and File Meta Information.
  if (!h.part10)
    return {
      kind: 'failed',
      reason: FailureReason.cannotUnderstand,
      why: 'not-part10',
      ...identity,
    };
  if (
    !isUid(h.sopClassUid) ||
    !isUid(h.sopInstanceUid) ||
    !isUid(h.studyInstanceUid) ||
    !isUid(h.seriesInstanceUid)
  ) {
    return {
      kind: 'failed',
      reason: FailureReason.dataSetDoesNotMatchSopClass,
      why: 'missing-uids',
      ...identity,
    };
  }
  if (h.metaSopInstanceUid !== undefined && h.metaSopInstanceUid !== h.sopInstanceUid) {
    return {
      kind: 'failed',
      reason: FailureReason.dataSetDoesNotMatchSopClass,
      why: 'meta-mismatch',
      ...identity,
    };
  }
  if (pixelDataCutShort(bytes, fileSize)) {
    return {
      kind: 'failed',
      reason: FailureReason.cannotUnderstand,
      why: 'truncated',
      ...identity,
    };
  }
  return { kind: 'ok', header: h };
}

/** A file cut short inside its Pixel Data parses to the header fine: compare the declared length. */
function pixelDataCutShort(bytes: Buffer, fileSize: number): boolean {
  try {
    const pixelData = parseDicom(bytes, { untilPixelData: true, fileSize }).pixelData;
    return (
      pixelData !== undefined &&
      !pixelData.undefinedLength &&
      pixelData.valueOffset + pixelData.length > fileSize
    );
  } catch {
    return false; // readInstanceHeader already accepted the header
  }
}

/** Decides, per instance, against what the portal already holds and what the link allows. */
function triage(
  candidates: readonly Candidate[],
  ctx: StowRequest,
): { toStore: ReceivedInstance[]; alreadyHeld: ReceivedInstance[]; refused: Failure[] } {
  const { service, auth, transfer } = ctx;
  const account = auth.account;
  const manifestStudies =
    transfer.manifest && new Set(transfer.manifest.studies.map((s) => s.studyInstanceUid));
  const held = service.store.instancesOf(account.id);
  let heldBytes = 0;
  for (const i of held.values()) heldBytes += i.bytes;
  let heldCount = held.size;
  const toStore: ReceivedInstance[] = [];
  const alreadyHeld: ReceivedInstance[] = [];
  const refused: Failure[] = [];
  const inThisRequest = new Map<string, ReceivedInstance>();
  for (const { instance, header } of candidates) {
    const refuse = (reason: number, why: string) =>
      refused.push({
        sopClassUid: instance.sopClassUid,
        sopInstanceUid: instance.sopInstanceUid,
        reason,
        why,
      });
    if (ctx.study !== undefined && instance.studyInstanceUid !== ctx.study) {
      refuse(FailureReason.notAuthorized, 'study-not-in-url');
      continue;
    }
    if (manifestStudies !== undefined && !manifestStudies.has(instance.studyInstanceUid)) {
      refuse(FailureReason.notAuthorized, 'study-not-in-manifest');
      continue;
    }
    if (account.policy.kind === 'reconcile' && header.patientId !== account.policy.mrn) {
      refuse(FailureReason.notAuthorized, 'patient-id-not-reconciled');
      continue;
    }
    // An identical re-send is success; different bytes under a UID the portal holds are refused.
    const own = held.get(instance.sopInstanceUid) ?? inThisRequest.get(instance.sopInstanceUid);
    const earlier = own ?? service.store.instances.get(instance.sopInstanceUid);
    if (earlier !== undefined && earlier.sha256 !== instance.sha256) {
      refuse(FailureReason.duplicateSopInstance, 'different-instance-same-uid');
      continue;
    }
    if (own !== undefined) {
      alreadyHeld.push(instance);
      continue;
    }
    if (
      heldCount + 1 > account.limits.maxInstances ||
      heldBytes + instance.bytes > account.limits.maxBytes
    ) {
      refuse(FailureReason.outOfResources, 'over-limit');
      continue;
    }
    heldCount++;
    heldBytes += instance.bytes;
    inThisRequest.set(instance.sopInstanceUid, instance);
    toStore.push(instance);
  }
  return { toStore, alreadyHeld, refused };
}

/** PS3.18 10.5.3 Store Instances Response Module, in the DICOM JSON model (PS3.18 F.2). */
function stowResponse(
  succeeded: readonly ReceivedInstance[],
  failures: readonly Failure[],
  baseUrl: string,
  study: string | undefined,
): DicomJson {
  const body: DicomJson = {};
  const studies = new Set(succeeded.map((i) => i.studyInstanceUid));
  const onlyStudy = study ?? (studies.size === 1 ? [...studies][0] : undefined);
  if (onlyStudy !== undefined)
    body['00081190'] = { vr: 'UR', Value: [`${baseUrl}/dicomweb/studies/${onlyStudy}`] };
  if (failures.length > 0) {
    body['00081198'] = {
      vr: 'SQ',
      Value: failures.map((f) => ({
        ...(f.sopClassUid !== undefined
          ? { '00081150': { vr: 'UI', Value: [f.sopClassUid] } }
          : {}),
        ...(f.sopInstanceUid !== undefined
          ? { '00081155': { vr: 'UI', Value: [f.sopInstanceUid] } }
          : {}),
        '00081197': { vr: 'US', Value: [f.reason] },
      })),
    };
  }
  if (succeeded.length > 0) {
    body['00081199'] = {
      vr: 'SQ',
      Value: succeeded.map((i) => ({
        '00081150': { vr: 'UI', Value: [i.sopClassUid] },
        '00081155': { vr: 'UI', Value: [i.sopInstanceUid] },
        '00081190': {
          vr: 'UR',
          Value: [
            `${baseUrl}/dicomweb/studies/${i.studyInstanceUid}/series/${i.seriesInstanceUid}/instances/${i.sopInstanceUid}`,
          ],
        },
      })),
    };
  }
  return body;
}
