/**
 * De-identification plugged into the upload: the link's policy (docs/upload-link-protocol.md,
 * section 3) becomes a de-identification policy (docs/deidentification.md), every selected
 * instance is prepared once before anything is sent — its UIDs and exact length as sent, its
 * burned-in flags — and the upload's source streams `deidentifyInstance(...).chunks()` into the
 * STOW-RS part.
 *
 * Items carry the UIDs **as sent**: the manifest announces the remapped study UIDs, the journal
 * keys instances by the remapped SOP Instance UID, and the portal's held-instances answer names
 * the same UIDs, so resume matches. UIDs come from an HMAC under a key derived from the journal's
 * master key (the app's safeStorage secret, the CLI's --key-file): the same on every run, so a
 * resumed upload never makes new UIDs.
 */
import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';

import { FerryError } from '../errors.ts';
import type { LinkPolicy } from '../link/model.ts';
import { fileSource, type InstanceSource, type UploadItem } from '../upload/source.ts';
import { forEachLimit } from '../util/pool.ts';
import type { BurnedInFlag } from './burned-in.ts';
import { DeidError, type IdentityPolicy } from './engine.ts';
import {
  deidentifyInstance,
  type DeidentifiedInstance,
  type InstanceInput,
  type InstanceRequest,
} from './instance.ts';
import type { SeriesMask } from './mask.ts';
import type { DeidOption } from './profile-types.ts';

/** Protocol option names (section 3) -> Ferry's option names (PS3.15 E.3); null: not offered. */
const OPTION_NAMES: Readonly<Record<string, DeidOption | null>> = {
  'retain-safe-private': 'retain-safe-private',
  'retain-uids': 'retain-uids',
  'retain-device-identity': 'retain-device-identity',
  'retain-institution-identity': 'retain-institution-identity',
  'retain-patient-characteristics': 'retain-patient-characteristics',
  'retain-longitudinal-full-dates': 'retain-full-dates',
  'retain-longitudinal-modified-dates': 'retain-modified-dates',
  'clean-descriptors': 'clean-descriptors',
  'clean-structured-content': 'clean-structured-content',
  'clean-graphics': 'clean-graphics',
  'clean-pixel-data': 'clean-pixel-data',
  // Clean Recognizable Visual Features (113102): Ferry does not deface; never pretend it did.
  'clean-recognizable-visual-features': null,
};

/** The UID/date key: HKDF of the journal's master key, so the two never share key bytes. */
export function deidKeyFrom(masterKey: Uint8Array): Buffer {
  if (masterKey.length < 16) throw new Error('the master key must have at least 16 bytes');
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'dicom-ferry deid v1', 32));
}

/**
 * The link's policy as a de-identification policy; undefined for `none` (the files go as they
 * are). Throws `deid-unavailable` for an option Ferry cannot apply and `policy-unknown` for an
 * unknown policy: nothing is sent then.
 */
export function identityPolicyFor(
  policy: LinkPolicy,
  masterKey: Uint8Array,
): IdentityPolicy | undefined {
  switch (policy.kind) {
    case 'none':
      return undefined;
    case 'basic': {
      const options: DeidOption[] = [];
      for (const name of policy.options) {
        const option = OPTION_NAMES[name];
        if (option === undefined || option === null) {
          throw new FerryError('deid-unavailable', { detail: `option ${name} is not offered` });
        }
        if (!options.includes(option)) options.push(option);
      }
      return {
        kind: 'deidentify',
        profile: 'basic',
        options,
        key: deidKeyFrom(masterKey),
        ...(policy.subjectId !== undefined ? { pseudonym: { patientId: policy.subjectId } } : {}),
      };
    }
    case 'reconcile':
      return {
        kind: 'reconcile',
        patientId: policy.mrn,
        ...(policy.issuer !== undefined ? { issuerOfPatientId: policy.issuer } : {}),
      };
    default:
      throw new FerryError('policy-unknown', { detail: `policy kind ${policy.name}` });
  }
}

/** An instance that is not sent, and why (plain words, no patient values). */
export interface HeldBackInstance {
  /** Path on the media, as in the scan (may carry names: show it to the user, never log it). */
  readonly path: string;
  readonly reason: 'burned-in' | 'dicomdir' | 'not-an-instance' | 'unreadable';
  readonly message: string;
  readonly burnedIn?: readonly BurnedInFlag[];
}

export interface PreparedSelection {
  /** As sent: remapped SOP / Study Instance UIDs, exact de-identified lengths. */
  readonly items: UploadItem[];
  /** Not sent: burned-in images not confirmed, the DICOMDIR, files that are not instances. */
  readonly heldBack: readonly HeldBackInstance[];
  /** Burned-in instances that go because the user confirmed them. */
  readonly confirmedBurnedIn: number;
}

export interface DeidSourceOptions {
  readonly policy: LinkPolicy;
  readonly mediaRoot: string;
  /** The journal's master key (32 bytes); the UID key is derived from it. */
  readonly key: Uint8Array;
  /** Send instances flagged for burned-in text anyway (the user looked and confirmed). */
  readonly confirmBurnedIn?: boolean;
  /** Instances read at once while preparing; default 4. */
  readonly concurrency?: number;
  /**
   * The user's mask for an instance (by its media path), whatever the policy: under `none` the
   * masked instances go through this source and the others go as they are.
   */
  readonly masksFor?: (relPath: string) => SeriesMask | undefined;
}

export interface DeidSource {
  /** Undefined under `none` (a source made only to mask). */
  readonly policy: IdentityPolicy | undefined;
  /** Reads every selected instance's header once: UIDs and lengths as sent, burned-in flags. */
  prepare(
    items: readonly UploadItem[],
    options?: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
  ): Promise<PreparedSelection>;
  /** The upload's source, for items returned by `prepare` (exact lengths: Content-Length). */
  readonly source: InstanceSource;
  close(): void;
}

/** Burned-in images held back under a de-identifying policy: the upload is refused as a whole. */
export class BurnedInRefusal extends Error {
  readonly code = 'burned-in-unconfirmed';
  constructor(readonly files: readonly HeldBackInstance[]) {
    super(
      `${files.length} image(s) may show the patient's name or other identity in the picture itself, which de-identification cannot remove. Nothing was sent. Look at them, then run again with --confirm-burned-in to send them anyway, or leave their studies out.`,
    );
    this.name = 'BurnedInRefusal';
  }
}

/**
 * The de-identifying source for a link whose policy is `basic` or `reconcile`. The CLI (and the
 * app) call `prepare` on the scan's items, start the upload with the prepared items and `source`,
 * and `close` at the end.
 */
export function createDeidSource(options: DeidSourceOptions): DeidSource {
  const policy = identityPolicyFor(options.policy, options.key);
  if (policy === undefined && options.masksFor === undefined) {
    throw new FerryError('internal', { detail: 'policy none needs no de-identifying source' });
  }
  const requestFor = (relPath: string): InstanceRequest => {
    const mask = options.masksFor?.(relPath);
    return mask && mask.rects.length > 0
      ? { masks: mask.rects, maskSize: { rows: mask.rows, columns: mask.columns } }
      : {};
  };
  /** Under `none`, an instance without a mask is sent as it is on the media. */
  const asIs = (relPath: string): boolean =>
    policy === undefined && requestFor(relPath).masks === undefined;
  const files = fileSource(options.mediaRoot);
  const deidentifying = policy?.kind === 'deidentify';
  /** As-sent SOP Instance UID -> the scan's item (path and original UIDs). */
  const originals = new Map<string, UploadItem>();

  const inputOf = async (item: UploadItem, signal?: AbortSignal): Promise<InstanceInput> => {
    const bang = item.path.indexOf('!/');
    if (bang < 0) return { kind: 'file', path: resolvedPath(options.mediaRoot, item.path) };
    // Inside a zip on the disc: entries are small; read one into memory.
    const opened = await files.source(item, signal);
    const chunks: Buffer[] = [];
    for await (const chunk of opened.stream as AsyncIterable<Buffer>) chunks.push(chunk);
    return { kind: 'bytes', bytes: Buffer.concat(chunks) };
  };

  const deidentify = async (
    item: UploadItem,
    signal?: AbortSignal,
  ): Promise<DeidentifiedInstance> =>
    deidentifyInstance(await inputOf(item, signal), policy, requestFor(item.path));

  return {
    policy,
    async prepare(items, prepareOptions = {}) {
      const prepared: (UploadItem | undefined)[] = new Array(items.length);
      const heldBack: HeldBackInstance[] = [];
      let confirmedBurnedIn = 0;
      let done = 0;
      await forEachLimit(
        items,
        options.concurrency ?? 4,
        async (item, index) => {
          if (asIs(item.path)) {
            prepared[index] = item;
            prepareOptions.onProgress?.(++done, items.length);
            return;
          }
          let instance: DeidentifiedInstance;
          try {
            instance = await deidentify(item, prepareOptions.signal);
          } catch (error) {
            if (!(error instanceof DeidError)) {
              const code = (error as NodeJS.ErrnoException).code;
              if (code === undefined) throw error;
              heldBack.push({
                path: item.path,
                reason: 'unreadable',
                message: `The file cannot be read (${code}).`,
              });
              return;
            }
            heldBack.push({
              path: item.path,
              reason:
                error.code === 'dicomdir' || error.code === 'not-an-instance'
                  ? error.code
                  : 'unreadable',
              message: error.message,
            });
            return;
          } finally {
            prepareOptions.onProgress?.(++done, items.length);
          }
          if (deidentifying && instance.burnedIn.length > 0 && !instance.masked) {
            if (!options.confirmBurnedIn) {
              heldBack.push({
                path: item.path,
                reason: 'burned-in',
                message: instance.burnedIn.map((f) => f.message).join(' '),
                burnedIn: instance.burnedIn,
              });
              return;
            }
            confirmedBurnedIn++;
          }
          const sent: UploadItem = {
            path: item.path,
            sopInstanceUid: instance.sopInstanceUid,
            studyInstanceUid: instance.studyInstanceUid,
            bytes: instance.byteLength,
          };
          originals.set(sent.sopInstanceUid, item);
          prepared[index] = sent;
        },
        prepareOptions.signal,
      );
      return {
        items: prepared.filter((i): i is UploadItem => i !== undefined),
        heldBack: heldBack.sort((a, b) => a.path.localeCompare(b.path)),
        confirmedBurnedIn,
      };
    },
    async source(item, signal) {
      if (!originals.has(item.sopInstanceUid) && asIs(item.path)) return files.source(item, signal);
      const instance = await deidentify(originals.get(item.sopInstanceUid) ?? item, signal);
      // The same key and the same file give the same bytes; anything else means the disc changed.
      if (instance.sopInstanceUid !== item.sopInstanceUid || instance.byteLength !== item.bytes) {
        throw Object.assign(new Error('the instance changed since it was prepared'), {
          code: 'ECHANGED',
        });
      }
      const stream = Readable.from(instance.chunks(), {
        objectMode: false,
        highWaterMark: 1024 * 1024,
      });
      return { stream, bytes: instance.byteLength, sopInstanceUid: instance.sopInstanceUid };
    },
    close: () => files.close(),
  };
}

function resolvedPath(mediaRoot: string, relPath: string): string {
  // Same rule as the file source: a path from the scan, never outside the media.
  const root = path.resolve(mediaRoot);
  const full = path.resolve(root, ...relPath.split('/'));
  if (full !== root && !full.startsWith(root + path.sep)) throw new Error('path outside the media');
  return full;
}
