/**
 * The engines the app service runs on, built from the core's own modules: link and upload
 * (main/core/link, main/core/upload: issue 4), validation (main/core/validate: issue 6). Each
 * adapter maps an engine's API onto engines.ts. De-identification (main/core/deid: issue 5) has
 * no entry yet: the service answers `not-available` for the preview and refuses to send under a
 * policy that asks for it (app.info tells the UI).
 */
import { randomBytes } from 'node:crypto';
import type { AttributeAction, AttributeRow, LinkView, UploadState } from '../api.ts';
import { DeidError, type ChangeAction, type IdentityPolicy } from '../deid/engine.ts';
import { previewInstance, type InstanceInput } from '../deid/instance.ts';
import type { InstanceRequest } from '../deid/instance.ts';
import { SeriesMasks } from '../deid/series-masks.ts';
import { createDeidSource, identityPolicyFor, type DeidSource } from '../deid/upload-source.ts';
import { FerryError, isFerryError } from '../errors.ts';
import { LinkClient } from '../link/client.ts';
import type { UploadLink } from '../link/link-url.ts';
import type { TransferStatus } from '../link/model.ts';
import { KEY_BYTES, loadOrCreateKeyFile } from '../upload/crypto.ts';
import { startUpload, type UploadEvent } from '../upload/session.ts';
import type { InstanceSource, UploadItem } from '../upload/source.ts';
import { checkIdentity } from '../validate/identity.ts';
import { InstanceChecks, validateMedia } from '../validate/validate.ts';
import { ApiError, toErrorBody } from './errors.ts';
import { readZipEntry, resolveMediaPath } from './media-files.ts';
import type {
  DeidEngine,
  Engines,
  HeaderCollector,
  LinkEngine,
  SecretStore,
  UploadEngine,
  UploadUpdate,
  ValidateEngine,
} from './engines.ts';

function statusView(status: TransferStatus) {
  return {
    transferId: status.transferId,
    state: status.state,
    terminal: status.terminal,
    message: status.message,
    received: status.received,
    expected: status.expected,
    createdAt: status.createdAt,
    timeline: status.timeline.map((entry) => ({
      state: entry.state,
      at: entry.updatedAt ?? entry.at,
      message: entry.message,
    })),
  };
}

/** The upload-link protocol client. */
export function linkEngine(
  clientFor: (link: UploadLink) => LinkClient = (link) => new LinkClient(link),
): LinkEngine {
  const clients = new Map<string, LinkClient>();
  const client = (link: UploadLink): LinkClient => {
    let existing = clients.get(link.fingerprint);
    if (!existing) {
      existing = clientFor(link);
      clients.set(link.fingerprint, existing);
    }
    return existing;
  };
  return {
    async resolve(link): Promise<LinkView> {
      const info = await client(link).resolve();
      return {
        portal: link.portalUrl,
        provider: info.provider,
        recipientName: info.recipient.name,
        patient: info.patient,
        expiresAt: info.expiresAt,
        policy: info.policy,
        limits: { maxBytes: info.limits.maxBytes, maxInstances: info.limits.maxInstances },
        transfers: info.transfers.map(({ transferId, state, message }) => ({
          transferId,
          state,
          message,
        })),
      };
    },
    forget() {
      clients.clear();
    },
    async transferStatus(link, transferId) {
      const linkClient = client(link);
      if (transferId !== undefined) {
        return statusView(
          await linkClient.transferStatus(
            `${link.portalUrl}/api/v1/transfers/${encodeURIComponent(transferId)}`,
          ),
        );
      }
      const [newest] = await linkClient.listTransfers();
      if (!newest) throw new ApiError('nothing-sent-yet');
      return statusView(newest);
    },
  };
}

export interface UploadTuning {
  readonly concurrency?: number;
  readonly batchCount?: number;
  readonly retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
}

export interface UploadEngineOptions {
  /** The journals (resume) and kept timelines. */
  readonly journalDir: string;
  /** The journal's 32-byte master key (safeStorage in the app, a key file in the host). */
  readonly journalKey: () => Promise<Buffer>;
  /** Tests make requests small and retries short, to interrupt an upload half way. */
  readonly tuning?: UploadTuning;
  /** The user's masks: applied whatever the policy (series-masks.ts). */
  readonly masks?: SeriesMasks;
}

const PHASE_STATE: Partial<Record<string, UploadState>> = {
  resolving: 'preparing',
  preflight: 'preparing',
  resuming: 'preparing',
  sending: 'sending',
  committing: 'committing',
};

/** Upload sessions with a journal: run again with the same selection and it resumes. */
export function uploadEngine(options: UploadEngineOptions): UploadEngine {
  return {
    start(request, onUpdate) {
      const items: UploadItem[] = request.instances.map(({ instance, studyInstanceUid }) => ({
        path: instance.path,
        sopInstanceUid: instance.sopInstanceUid,
        studyInstanceUid,
        bytes: instance.bytes,
      }));
      let update: UploadUpdate = {
        state: 'preparing',
        sentInstances: 0,
        totalInstances: items.length,
        sentBytes: 0,
        totalBytes: items.reduce((n, item) => n + item.bytes, 0),
        bytesPerSecond: 0,
        etaSeconds: null,
      };
      let paused = false;
      const emit = (patch: Partial<UploadUpdate>): void => {
        update = { ...update, ...patch };
        if (paused && update.state === 'sending') update = { ...update, state: 'paused' };
        onUpdate(update);
      };
      let control: { pause(): void; resume(): void; cancel(): void } | undefined;
      let cancelled = false;
      let deid: DeidSource | undefined;
      const onEvent = (event: UploadEvent): void => {
        switch (event.kind) {
          case 'phase': {
            const state = PHASE_STATE[event.phase];
            if (state) emit({ state });
            break;
          }
          case 'transfer':
            emit({ transferId: event.transferId });
            break;
          case 'progress':
            emit({
              state: paused ? 'paused' : 'sending',
              sentInstances: event.instances.done,
              totalInstances: event.instances.total,
              sentBytes: event.bytes.done,
              totalBytes: event.bytes.total,
              bytesPerSecond: paused ? 0 : Math.round(event.rate),
              etaSeconds: paused || event.etaSeconds === undefined ? null : event.etaSeconds,
            });
            break;
          case 'retry':
            if (event.code === 'portal-unreachable' || event.code === 'portal-busy') {
              emit({ state: 'waiting-network', bytesPerSecond: 0, etaSeconds: null });
            }
            break;
          case 'paused':
            paused = true;
            emit({ state: 'paused', bytesPerSecond: 0, etaSeconds: null });
            break;
          case 'resumed':
            paused = false;
            emit({ state: 'sending' });
            break;
          default:
            break;
        }
      };
      const finished = (async () => {
        try {
          const key = await options.journalKey();
          if (cancelled) throw new FerryError('cancelled');
          let sendItems = items;
          let source: InstanceSource | undefined;
          const masks = options.masks;
          if (request.policy.kind !== 'none' || masks?.any(request.root)) {
            // Every instance is de-identified once before anything is sent: UIDs and lengths as
            // sent, and the burned-in flags (main/core/deid/upload-source.ts). Under `none` only
            // the masked instances change.
            deid = createDeidSource({
              policy: request.policy,
              mediaRoot: request.root,
              key,
              confirmBurnedIn: request.burnedInConfirmed,
              ...(masks
                ? { masksFor: (relPath: string) => masks.forPath(request.root, relPath) }
                : {}),
            });
            const prepared = await deid.prepare(items);
            const burnedIn = prepared.heldBack.filter((held) => held.reason === 'burned-in');
            if (burnedIn.length > 0) {
              throw new ApiError('burned-in-unconfirmed', { count: burnedIn.length });
            }
            if (prepared.items.length === 0) throw new FerryError('nothing-selected');
            sendItems = prepared.items;
            source = deid.source;
          }
          const { session, done } = startUpload({
            link: request.link,
            items: sendItems,
            mediaRoot: request.root,
            ...(source ? { source, sourceDeidentifies: true, exactLengths: true } : {}),
            journalDir: options.journalDir,
            key,
            // The Status screen follows the portal itself; the upload ends at commit.
            follow: false,
            ...options.tuning,
            onEvent,
          });
          control = session;
          if (paused) session.pause();
          const result = await done;
          emit({ state: 'done', transferId: result.transferId, bytesPerSecond: 0, etaSeconds: 0 });
        } catch (error) {
          if (cancelled || isFerryError(error, 'cancelled')) {
            emit({ state: 'cancelled', bytesPerSecond: 0, etaSeconds: null });
          } else {
            const body =
              error instanceof FerryError || error instanceof ApiError
                ? toErrorBody(error)
                : toErrorBody(new FerryError('internal'));
            emit({ state: 'failed', error: body, bytesPerSecond: 0, etaSeconds: null });
          }
        } finally {
          deid?.close();
        }
      })();
      return {
        pause() {
          paused = true;
          if (control) control.pause();
          else emit({ state: 'paused' });
        },
        resume() {
          paused = false;
          if (control) control.resume();
          else emit({ state: 'preparing' });
        },
        cancel() {
          cancelled = true;
          control?.cancel();
        },
        finished,
      };
    },
  };
}

/** Validation rules and the identity check (main/core/validate). */
export function validateEngine(): ValidateEngine {
  return {
    collector(): HeaderCollector {
      return new InstanceChecks();
    },
    async validate(scan, { expectedPatient, collector }) {
      const expected = expectedPatient
        ? { expectedName: expectedPatient.name, expectedBirthDate: expectedPatient.birthDate }
        : undefined;
      const result = await validateMedia(scan, {
        ...(expected ? { expectedPatient: expected } : {}),
        ...(collector instanceof InstanceChecks ? { checks: collector } : {}),
      });
      const mismatched = expected
        ? scan.patients.filter((patient) => {
            const check = checkIdentity(
              { name: patient.patientName, birthDate: patient.birthDate },
              expected,
            );
            return check.name === 'mismatch' || check.birthDate === 'mismatch';
          })
        : [];
      const mismatchFinding = result.findings.find((f) => f.code === 'patient-mismatch');
      return {
        findings: result.findings,
        duplicatePaths: result.duplicatePaths,
        identity: {
          status: !expected ? 'not-checked' : mismatched.length > 0 ? 'mismatch' : 'match',
          ...(mismatchFinding ? { message: mismatchFinding.message } : {}),
          mismatched: mismatched.map((p) => ({
            patientId: p.patientId,
            patientName: p.patientName,
          })),
        },
      };
    },
  };
}

/**
 * The journal's master key: kept in the secret store (safeStorage) where it persists, in a key
 * file only the user can read otherwise (as the CLI does), created on first use.
 */
export function journalKeyFrom(secrets: SecretStore, keyFile: string): () => Promise<Buffer> {
  let pending: Promise<Buffer> | undefined;
  const load = async (): Promise<Buffer> => {
    if (!secrets.persistent) return loadOrCreateKeyFile(keyFile);
    const kept = await secrets.get('journal-key');
    if (kept !== undefined && Buffer.from(kept, 'base64').length === KEY_BYTES) {
      return Buffer.from(kept, 'base64');
    }
    const key = randomBytes(KEY_BYTES);
    await secrets.set('journal-key', key.toString('base64'));
    return key;
  };
  return () => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

const ACTION: Record<ChangeAction, AttributeAction> = {
  removed: 'removed',
  emptied: 'emptied',
  dummy: 'replaced',
  'uid-replaced': 'replaced',
  'date-shifted': 'replaced',
  cleaned: 'replaced',
  replaced: 'replaced',
  added: 'added',
};

/**
 * The before-and-after preview (main/core/deid): the same de-identification the upload runs,
 * with the same key, so the table shows exactly what is sent.
 */
export function deidEngine(options: {
  readonly journalKey: () => Promise<Buffer>;
  /** The user's masks, as the upload applies them. */
  readonly masks?: SeriesMasks;
}): DeidEngine {
  /** The user's mask for an instance, as the upload's source asks for it. */
  const maskRequest = (root: string, relPath: string): InstanceRequest | undefined => {
    const mask = options.masks?.forPath(root, relPath);
    return mask && mask.rects.length > 0
      ? { masks: mask.rects, maskSize: { rows: mask.rows, columns: mask.columns } }
      : undefined;
  };
  /** The same de-identification the upload runs (upload-source.ts), on a file or zip entry. */
  const outgoing = async (root: string, relPath: string, identity: IdentityPolicy | undefined) => {
    try {
      return await previewInstance(
        await instanceInput(root, relPath),
        identity,
        maskRequest(root, relPath) ?? {},
      );
    } catch (error) {
      if (error instanceof DeidError) {
        throw new ApiError('not-sent', { reason: error.message, why: error.code });
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && /^E[A-Z]+$/u.test(code)) {
        throw new ApiError('file-unreadable', { code });
      }
      throw error;
    }
  };
  return {
    async outgoingInstance(root, relPath, policy) {
      const identity = identityPolicyFor(policy, await options.journalKey());
      if (identity === undefined && !maskRequest(root, relPath)) {
        throw new ApiError('sent-as-is');
      }
      const preview = await outgoing(root, relPath, identity);
      return { bytes: preview.bytes, masked: preview.masked };
    },
    async previewInstance(root, relPath, policy) {
      const identity = identityPolicyFor(policy, await options.journalKey());
      if (identity === undefined && !maskRequest(root, relPath)) {
        return { attributes: [], burnedIn: 'no' };
      }
      const preview = await outgoing(root, relPath, identity);
      const attributes: AttributeRow[] = preview.changes.map((change) => ({
        tag: change.path,
        keyword: change.name,
        before: change.before ?? '',
        after: change.after ?? '',
        action: ACTION[change.action],
      }));
      const burnedIn =
        preview.burnedIn.length === 0 || preview.masked
          ? 'no'
          : preview.burnedIn.some((flag) => flag.reason === 'burned-in-annotation')
            ? 'yes'
            : 'possible';
      return { attributes, burnedIn };
    },
  };
}

/**
 * A media path as de-identification reads it: a file under the root, or a zip entry inflated into
 * memory (entries are small; the upload's source does the same).
 */
async function instanceInput(root: string, relPath: string): Promise<InstanceInput> {
  const target = resolveMediaPath(root, relPath);
  if (!target) throw new ApiError('file-not-on-disc');
  if (!target.inZip) return { kind: 'file', path: target.file };
  return { kind: 'bytes', bytes: await readZipEntry(root, relPath) };
}

export interface EngineOptions {
  readonly upload: UploadEngineOptions;
}

export function createEngines(options: EngineOptions): Engines {
  const masks = new SeriesMasks();
  return {
    masks,
    link: linkEngine(),
    upload: uploadEngine({ ...options.upload, masks }),
    validate: validateEngine(),
    deid: deidEngine({ journalKey: options.upload.journalKey, masks }),
  };
}
