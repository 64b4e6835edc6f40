/**
 * The upload-link protocol client (docs/upload-link-protocol.md, version 1): resolve a link, create
 * a transfer with its manifest, ask which instances the portal already holds, commit, read status.
 * Every answer is checked for shape before use; addresses the portal names are checked before the
 * token is sent there (link-url.ts). Transient failures are retried here; the images themselves
 * travel through upload/stow.ts.
 */
import type { AxiosInstance, AxiosResponse } from 'axios';
import { randomUUID } from 'node:crypto';
import { FerryError, isFerryError } from '../errors.ts';
import {
  createHttp,
  errorForResponse,
  errorForTransport,
  jsonBody,
  withRetries,
  type HttpOptions,
  type RetryEvent,
  type RetryPolicy,
} from './http.ts';
import { checkPortalAddress, parseUploadLink, type UploadLink } from './link-url.ts';
import type {
  HeldInstance,
  LinkInfo,
  LinkPolicy,
  LinkTransferSummary,
  TimelineEntry,
  TransferManifest,
  TransferState,
  TransferStatus,
} from './model.ts';
import { TRANSFER_STATES } from './model.ts';

export const PROTOCOL_VERSION = 1;

/** A link as `ferry status` sees it: live (with its details) or dead with the portal's reason. */
export type LinkResolution =
  | { readonly state: 'active'; readonly transfersUrl: string; readonly info: LinkInfo }
  | {
      readonly state: 'expired' | 'revoked';
      readonly transfersUrl: string;
      /** The portal's sentence, word for word. */
      readonly reason: string;
    };

/** PS3.15 E.1-1 options a link may name (docs/upload-link-protocol.md, section 3). */
export const BASIC_PROFILE_OPTIONS: ReadonlySet<unknown> = new Set([
  'retain-safe-private',
  'retain-uids',
  'retain-device-identity',
  'retain-institution-identity',
  'retain-patient-characteristics',
  'retain-longitudinal-full-dates',
  'retain-longitudinal-modified-dates',
  'clean-descriptors',
  'clean-structured-content',
  'clean-graphics',
  'clean-pixel-data',
  'clean-recognizable-visual-features',
]);
/** A subject ID becomes Patient ID (LO): printable ASCII without backslash, 1-64 characters. */
const SUBJECT_ID = /^[\x21-\x5b\x5d-\x7e]{1,64}$/;
const CLIENT = { name: 'DICOM Ferry', version: '0.1.0' };

export interface LinkClientOptions extends HttpOptions {
  readonly retry?: RetryPolicy;
  readonly signal?: AbortSignal;
  readonly onRetry?: (event: RetryEvent & { readonly what: string }) => void;
  /** Share one axios instance (and its sockets) with the STOW-RS sender. */
  readonly http?: AxiosInstance;
}

export class LinkClient {
  readonly link: UploadLink;
  readonly http: AxiosInstance;
  readonly #options: LinkClientOptions;

  constructor(link: UploadLink | string, options: LinkClientOptions = {}) {
    this.link = typeof link === 'string' ? parseUploadLink(link) : link;
    this.http = options.http ?? createHttp(options);
    this.#options = options;
  }

  /** Checks an address the portal named before the token goes there. */
  address(url: string): string {
    return checkPortalAddress(this.link, url);
  }

  get authorization(): string {
    return `Bearer ${this.link.token}`;
  }

  /** GET /api/v1/links/{token}: who expects the images, policy, limits, addresses. */
  async resolve(): Promise<LinkInfo> {
    const url = `${this.link.portalUrl}/api/v1/links/${encodeURIComponent(this.link.token)}`;
    const body = await this.#json('resolve the link', () => this.http.get(url), [200]);
    return parseLinkInfo(body, this);
  }

  /**
   * POST the manifest. Every attempt carries the same Idempotency-Key (protocol 4), so a retry
   * after a lost answer gets the transfer the first attempt made, never a second one.
   */
  async createTransfer(
    transfersUrl: string,
    manifest: TransferManifest,
    idempotencyKey: string = randomUUID(),
  ): Promise<TransferStatus> {
    const url = this.address(transfersUrl);
    const body = await this.#json(
      'create the transfer',
      () =>
        this.http.post(url, JSON.stringify({ ...manifest, client: CLIENT }), {
          headers: {
            authorization: this.authorization,
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
          },
        }),
      [200, 201],
    );
    return parseTransferStatus(body, this);
  }

  /**
   * What `ferry status` needs, also for a dead link: resolve, and when the portal answers
   * link-expired / link-revoked with the read-only resolution (protocol 3.1), its transfers
   * address and the reason. Other failures throw as usual.
   */
  async resolveForStatus(): Promise<LinkResolution> {
    const url = `${this.link.portalUrl}/api/v1/links/${encodeURIComponent(this.link.token)}`;
    try {
      const info = await this.resolve();
      return { state: 'active', transfersUrl: info.transfersUrl, info };
    } catch (error) {
      if (!isFerryError(error, 'link-expired') && !isFerryError(error, 'link-revoked')) throw error;
      let response: AxiosResponse;
      try {
        response = await this.http.get(url);
      } catch {
        throw error;
      }
      const dead = (jsonBody(response) as { link?: Record<string, unknown> } | undefined)?.link;
      const state = error.code === 'link-revoked' ? 'revoked' : 'expired';
      return {
        state,
        reason: typeof dead?.reason === 'string' ? dead.reason : error.message,
        // A portal without the read-only resolution: the protocol's default address.
        transfersUrl: this.address(
          typeof dead?.transfersUrl === 'string'
            ? dead.transfersUrl
            : `${this.link.portalUrl}/api/v1/transfers`,
        ),
      };
    }
  }

  async transferStatus(statusUrl: string): Promise<TransferStatus> {
    const url = this.address(statusUrl);
    const body = await this.#json('read the transfer status', () =>
      this.http.get(url, { headers: { authorization: this.authorization } }),
    );
    return parseTransferStatus(body, this);
  }

  /** GET {transfersUrl}: every transfer of this link's account, newest first. Works on a dead link. */
  async listTransfers(transfersUrl?: string): Promise<TransferStatus[]> {
    const url = this.address(transfersUrl ?? `${this.link.portalUrl}/api/v1/transfers`);
    const body = (await this.#json('list the transfers', () =>
      this.http.get(url, { headers: { authorization: this.authorization } }),
    )) as { transfers?: unknown };
    if (!Array.isArray(body?.transfers)) throw protocolError('transfers list');
    return body.transfers.map((t) => parseTransferStatus(t, this));
  }

  async heldInstances(instancesUrl: string): Promise<HeldInstance[]> {
    const url = this.address(instancesUrl);
    const body = (await this.#json('ask which images the portal holds', () =>
      this.http.get(url, { headers: { authorization: this.authorization } }),
    )) as { instances?: unknown };
    if (!Array.isArray(body?.instances)) throw protocolError('held instances');
    return body.instances.flatMap((i: unknown) => {
      const item = i as Record<string, unknown> | null;
      if (typeof item?.sopInstanceUid !== 'string') return [];
      return [
        {
          sopInstanceUid: item.sopInstanceUid,
          ...(typeof item.sha256 === 'string' ? { sha256: item.sha256 } : {}),
          ...(typeof item.bytes === 'number' ? { bytes: item.bytes } : {}),
        },
      ];
    });
  }

  /** POST commit; `instances` declares how many the portal should hold when some were refused. */
  async commit(commitUrl: string, instances?: number): Promise<TransferStatus> {
    const url = this.address(commitUrl);
    const body = await this.#json('finish the transfer', () =>
      this.http.post(url, instances === undefined ? '' : JSON.stringify({ instances }), {
        headers: { authorization: this.authorization, 'content-type': 'application/json' },
      }),
    );
    return parseTransferStatus(body, this);
  }

  async #json(
    what: string,
    request: () => Promise<AxiosResponse>,
    ok: readonly number[] = [200],
    retry?: RetryPolicy,
  ): Promise<unknown> {
    return withRetries(
      async () => {
        let response: AxiosResponse;
        try {
          response = await request();
        } catch (error) {
          throw errorForTransport(error, what);
        }
        if (!ok.includes(response.status)) throw errorForResponse(response, what);
        const body = jsonBody(response);
        if (body === undefined) throw protocolError(`${what}: the answer is not JSON`);
        return body;
      },
      {
        policy: { ...this.#options.retry, ...retry },
        ...(this.#options.signal ? { signal: this.#options.signal } : {}),
        onRetry: (event) => this.#options.onRetry?.({ ...event, what }),
      },
    );
  }
}

function protocolError(detail: string): FerryError {
  return new FerryError('portal-protocol', { detail });
}

const STATES: ReadonlySet<string> = new Set(TRANSFER_STATES);

function text(value: unknown, what: string): string {
  if (typeof value !== 'string') throw protocolError(`${what} is missing`);
  return value;
}

function count(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw protocolError(`${what} is not a count`);
  }
  return value;
}

function state(value: unknown): TransferState {
  if (typeof value !== 'string' || !STATES.has(value))
    throw protocolError('unknown transfer state');
  return value as TransferState;
}

export function parsePolicy(value: unknown): LinkPolicy {
  const policy = value as Record<string, unknown> | null;
  const kind = typeof policy?.kind === 'string' ? policy.kind : 'missing';
  if (kind === 'none') return { kind: 'none' };
  if (kind === 'basic') {
    const options = Array.isArray(policy?.options) ? policy.options : [];
    // An option this version does not know must stop the upload, not be ignored (protocol 3).
    const unknown = options.find((o) => typeof o !== 'string' || !BASIC_PROFILE_OPTIONS.has(o));
    if (unknown !== undefined) return { kind: 'unknown', name: `basic:${String(unknown)}` };
    const subjectId = policy?.subjectId;
    if (subjectId !== undefined && (typeof subjectId !== 'string' || !SUBJECT_ID.test(subjectId)))
      return { kind: 'unknown', name: 'basic:subjectId' };
    return subjectId === undefined
      ? { kind: 'basic', options: options as string[] }
      : { kind: 'basic', options: options as string[], subjectId };
  }
  if (kind === 'reconcile' && typeof policy?.mrn === 'string' && policy.mrn !== '') {
    return typeof policy.issuer === 'string'
      ? { kind: 'reconcile', mrn: policy.mrn, issuer: policy.issuer }
      : { kind: 'reconcile', mrn: policy.mrn };
  }
  return { kind: 'unknown', name: kind };
}

export function parseLinkInfo(value: unknown, client: LinkClient): LinkInfo {
  const body = value as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null) throw protocolError('link answer');
  const protocol = body.protocol;
  if (protocol !== PROTOCOL_VERSION) {
    throw protocolError(
      `protocol version ${String(protocol)}, this Ferry speaks ${PROTOCOL_VERSION}`,
    );
  }
  const provider = (body.provider ?? {}) as Record<string, unknown>;
  const recipient = (body.recipient ?? {}) as Record<string, unknown>;
  const patient = (body.patient ?? {}) as Record<string, unknown>;
  const limits = (body.limits ?? {}) as Record<string, unknown>;
  const transfers = Array.isArray(body.transfers) ? body.transfers : [];
  return {
    protocol,
    accountId: text(body.accountId, 'accountId'),
    provider: {
      name: text(provider.name, 'provider.name'),
      department: typeof provider.department === 'string' ? provider.department : '',
      organization: typeof provider.organization === 'string' ? provider.organization : '',
    },
    recipient: {
      name: typeof recipient.name === 'string' ? recipient.name : '',
      email: typeof recipient.email === 'string' ? recipient.email : '',
    },
    patient: {
      name: typeof patient.name === 'string' ? patient.name : '',
      birthDate: typeof patient.birthDate === 'string' ? patient.birthDate : '',
    },
    expiresAt: text(body.expiresAt, 'expiresAt'),
    policy: parsePolicy(body.policy),
    limits: {
      maxBytes: count(limits.maxBytes, 'limits.maxBytes'),
      maxInstances: count(limits.maxInstances, 'limits.maxInstances'),
      maxRequestBytes: count(limits.maxRequestBytes, 'limits.maxRequestBytes'),
    },
    stowUrl: client.address(text(body.stowUrl, 'stowUrl')),
    transfersUrl: client.address(text(body.transfersUrl, 'transfersUrl')),
    transfers: transfers.flatMap((t: unknown): LinkTransferSummary[] => {
      const item = t as Record<string, unknown> | null;
      if (typeof item?.transferId !== 'string' || typeof item.statusUrl !== 'string') return [];
      if (typeof item.state !== 'string' || !STATES.has(item.state)) return [];
      return [
        {
          transferId: item.transferId,
          state: item.state as TransferState,
          message: typeof item.message === 'string' ? item.message : '',
          statusUrl: item.statusUrl,
        },
      ];
    }),
  };
}

export function parseTransferStatus(value: unknown, client: LinkClient): TransferStatus {
  const body = value as Record<string, unknown> | null;
  if (typeof body !== 'object' || body === null) throw protocolError('transfer status');
  const received = (body.received ?? {}) as Record<string, unknown>;
  const expected = body.expected as Record<string, unknown> | null | undefined;
  const urls = (body.urls ?? {}) as Record<string, unknown>;
  const timeline = Array.isArray(body.timeline) ? body.timeline : [];
  const transferState = state(body.state);
  return {
    transferId: text(body.transferId, 'transferId'),
    state: transferState,
    terminal: typeof body.terminal === 'boolean' ? body.terminal : false,
    message: typeof body.message === 'string' ? body.message : '',
    received: {
      instances: count(received.instances ?? 0, 'received.instances'),
      bytes: count(received.bytes ?? 0, 'received.bytes'),
    },
    expected:
      expected == null
        ? null
        : {
            instances: count(expected.instances, 'expected.instances'),
            bytes: count(expected.bytes, 'expected.bytes'),
          },
    createdAt: typeof body.createdAt === 'string' ? body.createdAt : '',
    timeline: timeline.flatMap((e: unknown): TimelineEntry[] => {
      const entry = e as Record<string, unknown> | null;
      if (typeof entry?.state !== 'string' || !STATES.has(entry.state)) return [];
      return [
        {
          state: entry.state as TransferState,
          at: typeof entry.at === 'string' ? entry.at : '',
          ...(typeof entry.updatedAt === 'string' ? { updatedAt: entry.updatedAt } : {}),
          message: typeof entry.message === 'string' ? entry.message : '',
        },
      ];
    }),
    urls: {
      self: client.address(text(urls.self, 'urls.self')),
      instances: client.address(text(urls.instances, 'urls.instances')),
      commit: client.address(text(urls.commit, 'urls.commit')),
      stow: client.address(text(urls.stow, 'urls.stow')),
    },
  };
}
