/**
 * The reference upload portal's HTTP server: the versioned JSON API (/api/v1), the STOW-RS receiver
 * (/dicomweb), the link's own page for the patient (/u/{token}) and the staff pages (/staff).
 * Protocol: docs/upload-link-protocol.md. Operation: docs/portal.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import {
  ArchiveUnavailableError,
  parseArchiveOption,
  type Archive,
  type RetrievedInstance,
} from './archive.ts';
import { PortalError } from './errors.ts';
import { readSmallBody } from './request-body.ts';
import { html, PORTAL_CSS, sendHtml } from './html.ts';
import type { LinkLimits, Transfer } from './model.ts';
import { PortalService, type Authorized } from './service.ts';
import { StaffPages } from './staff.ts';
import { transferStatus, type TransferStatus } from './status.ts';
import { clearTempDir, KeyedLock, receiveStow } from './stow.ts';
import { hashPassword } from './tokens.ts';
import { createMailer, type Mailer } from './mail.ts';

export const PROTOCOL_VERSION = 1;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

export interface PortalOptions {
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Loopback unless told otherwise; put a TLS reverse proxy in front for real use. */
  readonly host?: string;
  readonly dataDir: string;
  /** 'embedded' (default), 'dicomweb:URL', or an Archive. */
  readonly archive?: string | Archive;
  /** The address patients reach the portal at (https://… behind a proxy); the listening URL otherwise. */
  readonly publicUrl?: string;
  /** Password for the first staff user ("admin") when none exists yet; generated and printed otherwise. */
  readonly staffPassword?: string;
  /**
   * smtp://[user:pass@]host:port or smtps://… to send link e-mails; absent: .eml files in
   * <data>/outbox. A message that cannot be sent goes to the outbox too.
   */
  readonly smtp?: string;
  /** The From of link e-mails ("Name <addr>" or "addr"). */
  readonly mailFrom?: string;
  /** SMTP connection, greeting and idle timeouts; default 15 s. */
  readonly smtpTimeoutMs?: number;
  readonly now?: () => Date;
  readonly defaultLimits?: Partial<LinkLimits>;
  readonly verifyRetryMs?: number;
  /** Retry-After (seconds) sent when the archive is down. */
  readonly retryAfterSeconds?: number;
  readonly maxTokenFailures?: number;
  /** Where stderr notices go (the generated staff password); default process.stderr. */
  readonly log?: (line: string) => void;
}

export interface RunningPortal {
  /** The public address: links and the URLs in answers use it (`publicUrl`, else `listeningUrl`). */
  readonly url: string;
  /** Where this process listens, e.g. http://127.0.0.1:8470 (behind a proxy: not `url`). */
  readonly listeningUrl: string;
  readonly service: PortalService;
  readonly dataDir: string;
  /** Where link e-mails go (SMTP or the outbox folder). */
  readonly mailer: Mailer;
  close(): Promise<void>;
}

export async function startPortal(options: PortalOptions): Promise<RunningPortal> {
  const dataDir = path.resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const tmpDir = path.join(dataDir, 'tmp');
  await clearTempDir(tmpDir);
  const archive =
    typeof options.archive === 'object'
      ? options.archive
      : parseArchiveOption(options.archive, dataDir);
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  // Before anything is opened: a bad --smtp is refused at start.
  const mailer = createMailer({
    dataDir,
    smtp: options.smtp,
    from: options.mailFrom,
    log,
    ...(options.smtpTimeoutMs !== undefined ? { smtpTimeoutMs: options.smtpTimeoutMs } : {}),
  });
  const service = new PortalService({
    dataDir,
    archive,
    ...(options.now ? { now: options.now } : {}),
    ...(options.defaultLimits ? { defaultLimits: options.defaultLimits } : {}),
    ...(options.verifyRetryMs !== undefined ? { verifyRetryMs: options.verifyRetryMs } : {}),
    ...(options.maxTokenFailures !== undefined
      ? { maxTokenFailures: options.maxTokenFailures }
      : {}),
  });
  await ensureStaffUser(service, options.staffPassword, log);
  const locks = new KeyedLock();
  const retryAfterSeconds = options.retryAfterSeconds ?? 30;

  const server = http.createServer();
  // Large STOW-RS bodies may take long as a whole, but a connection silent for 5 minutes is dropped.
  server.requestTimeout = 0;
  server.setTimeout(5 * 60_000, (socket) => socket.destroy());
  const staff = new StaffPages(service, mailer);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void handle(req, res).catch((err: unknown) => sendFailure(req, res, err));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://portal.invalid');
    const segments = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const ip = req.socket.remoteAddress ?? 'unknown';
    res.setHeader('cache-control', 'no-store');
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('referrer-policy', 'no-referrer');
    const method = req.method ?? 'GET';
    const [first, ...rest] = segments;

    if (first === 'api') return api(req, res, rest, method, ip);
    if (first === 'dicomweb') return dicomweb(req, res, rest, method, ip);
    if (first === 'u' && rest.length === 1 && method === 'GET')
      return linkPage(res, rest[0] ?? '', ip);
    if (first === 'staff') return staff.handle(req, res, rest, method, ip);
    if (first === 'static' && rest[0] === 'portal.css') {
      res.writeHead(200, {
        'content-type': 'text/css; charset=utf-8',
        'cache-control': 'max-age=3600',
      });
      res.end(PORTAL_CSS);
      return;
    }
    if (segments.length === 0 && method === 'GET') {
      res.writeHead(303, { location: '/staff' });
      res.end();
      return;
    }
    throw new PortalError('not-found');
  }

  const bearer = (req: IncomingMessage): string | undefined =>
    /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];

  async function api(
    req: IncomingMessage,
    res: ServerResponse,
    path: string[],
    method: string,
    ip: string,
  ): Promise<void> {
    if (path.length === 0 && method === 'GET') {
      return sendJson(res, 200, { versions: ['v1'], current: 'v1' });
    }
    const [version, resource, id, sub, ...extra] = path;
    if (version !== 'v1' || extra.length > 0) throw new PortalError('not-found');

    if (resource === 'links' && id !== undefined && sub === undefined) {
      if (method !== 'GET') throw new PortalError('method-not-allowed');
      const auth = service.authorize(id, ip, { readOnly: true });
      const state = service.linkState(auth.link);
      if (state !== 'active') {
        service.audit.record(
          { action: 'link-rejected', actor: `link:${auth.link.id}`, ip, code: `link-${state}` },
          service.now(),
        );
        // Still 403 / 410 (nothing may be sent), with what a status reader needs beside the error.
        throw new PortalError(
          state === 'revoked' ? 'link-revoked' : 'link-expired',
          undefined,
          undefined,
          {
            link: deadLink(auth, state),
          },
        );
      }
      return sendJson(res, 200, resolveLink(auth));
    }
    if (resource !== 'transfers') throw new PortalError('not-found');

    if (id === undefined) {
      if (method === 'GET') {
        const auth = service.authorize(bearer(req), ip, { readOnly: true });
        return sendJson(res, 200, { transfers: transfersOf(auth) });
      }
      if (method === 'POST') {
        const auth = service.authorize(bearer(req), ip);
        const key = req.headers['idempotency-key'];
        const { transfer, created } = service.createTransfer(
          auth,
          await readJson(req),
          ip,
          typeof key === 'string' ? key : undefined,
        );
        // The same Idempotency-Key again: the transfer it made, 200 instead of 201.
        return sendJson(res, created ? 201 : 200, statusOf(transfer, auth), {
          location: `${service.baseUrl}/api/v1/transfers/${transfer.id}`,
        });
      }
      throw new PortalError('method-not-allowed');
    }
    if (sub === undefined) {
      if (method !== 'GET') throw new PortalError('method-not-allowed');
      const auth = service.authorize(bearer(req), ip, { readOnly: true });
      return sendJson(res, 200, statusOf(service.transferOf(auth, id), auth));
    }
    if (sub === 'instances') {
      if (method !== 'GET') throw new PortalError('method-not-allowed');
      const auth = service.authorize(bearer(req), ip, { readOnly: true });
      const transfer = service.transferOf(auth, id);
      const held = service.store.instancesFor(transfer);
      return sendJson(res, 200, {
        transferId: transfer.id,
        count: held.length,
        bytes: held.reduce((n, i) => n + i.bytes, 0),
        instances: held.map((i) => ({
          sopInstanceUid: i.sopInstanceUid,
          studyInstanceUid: i.studyInstanceUid,
          seriesInstanceUid: i.seriesInstanceUid,
          sha256: i.sha256,
          bytes: i.bytes,
        })),
      });
    }
    if (sub === 'commit') {
      if (method !== 'POST') throw new PortalError('method-not-allowed');
      const auth = service.authorize(bearer(req), ip);
      const transfer = service.transferOf(auth, id);
      service.commit(auth, transfer, await readJson(req, { optional: true }), ip);
      return sendJson(res, 200, statusOf(transfer, auth));
    }
    throw new PortalError('not-found');
  }

  async function dicomweb(
    req: IncomingMessage,
    res: ServerResponse,
    path: string[],
    method: string,
    ip: string,
  ): Promise<void> {
    // POST /dicomweb/transfers/{id}/studies[/{study}] or POST /dicomweb/studies[/{study}]
    let transferId: string | undefined;
    let rest = path;
    if (path[0] === 'transfers') {
      transferId = path[1];
      rest = path.slice(2);
    }
    if (rest[0] !== 'studies' || (transferId === undefined && path[0] === 'transfers'))
      throw new PortalError('not-found');
    if (
      method === 'GET' &&
      transferId === undefined &&
      rest.length === 6 &&
      rest[2] === 'series' &&
      rest[4] === 'instances'
    ) {
      return retrieveInstance(req, res, rest[1] ?? '', rest[3] ?? '', rest[5] ?? '', ip);
    }
    if (rest.length > 2) throw new PortalError('not-found');
    if (method !== 'POST') throw new PortalError('method-not-allowed');
    const auth = service.authorize(bearer(req), ip);
    const transfer =
      transferId === undefined
        ? service.implicitTransfer(auth, ip)
        : service.transferOf(auth, transferId);
    const answer = await receiveStow(req, {
      service,
      auth,
      transfer,
      ...(rest[1] !== undefined ? { study: rest[1] } : {}),
      ip,
      locks,
      tmpDir,
      retryAfterSeconds,
    });
    const body = JSON.stringify(answer.body);
    res.writeHead(answer.status, {
      'content-type': 'application/dicom+json',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  }

  /**
   * WADO-RS RetrieveInstance (PS3.18 10.4) of an instance this link's account sent, read from the
   * archive it went to (the embedded store or the DICOMweb archive) and streamed through. The answer
   * is multipart/related; type="application/dicom" with one part, or the bare application/dicom
   * file when that is all the client accepts.
   */
  async function retrieveInstance(
    req: IncomingMessage,
    res: ServerResponse,
    study: string,
    series: string,
    sop: string,
    ip: string,
  ): Promise<void> {
    const auth = service.authorize(bearer(req), ip, { readOnly: true });
    const instance = service.store.instancesOf(auth.account.id).get(sop);
    if (
      instance === undefined ||
      instance.studyInstanceUid !== study ||
      instance.seriesInstanceUid !== series
    ) {
      throw new PortalError('not-found');
    }
    let retrieved: RetrievedInstance | undefined;
    try {
      retrieved = await archive.retrieve(instance);
    } catch (err) {
      if (!(err instanceof ArchiveUnavailableError)) throw err;
      service.audit.record(
        {
          action: 'archive-unavailable',
          actor: `link:${auth.link.id}`,
          ip,
          accountId: auth.account.id,
          code: 'retrieve',
        },
        service.now(),
      );
      throw new PortalError('archive-unavailable', undefined, retryAfterSeconds);
    }
    if (retrieved === undefined) {
      throw new PortalError(
        'not-found',
        "The hospital's archive does not hold this image (any more). Ask the hospital about it.",
      );
    }
    const { body, bytes, cancel } = retrieved;
    const single = acceptsOnlyBareDicom(req.headers.accept);
    const boundary = randomBytes(12).toString('hex');
    const head = single ? '' : `--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`;
    const tail = single ? '' : `\r\n--${boundary}--\r\n`;
    res.writeHead(200, {
      'content-type': single
        ? 'application/dicom'
        : `multipart/related; type="application/dicom"; boundary=${boundary}`,
      ...(bytes !== undefined ? { 'content-length': bytes + head.length + tail.length } : {}),
    });
    let clientGone = false;
    res.on('close', () => {
      if (res.writableFinished) return;
      clientGone = true;
      cancel(); // the client went away: stop reading the archive
    });
    let sent = 0;
    try {
      if (head !== '') res.write(head);
      for await (const chunk of body) {
        if (clientGone) return;
        sent += chunk.length;
        if (bytes !== undefined && sent > bytes)
          throw new Error(`the archive sent more than the ${bytes} bytes it announced`);
        if (!res.write(chunk)) await drainedOrClosed(res);
      }
      if (bytes !== undefined && sent !== bytes)
        throw new Error(`the archive sent ${sent} of the ${bytes} bytes it announced`);
    } catch (err) {
      // Headers are out: the only honest answer left is a cut connection, never a short file.
      cancel();
      res.destroy();
      if (!clientGone) {
        log(
          `portal: retrieving an instance from the ${archive.description} broke off: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      return;
    }
    res.end(tail);
  }

  function statusOf(transfer: Transfer, auth: Authorized): TransferStatus {
    return transferStatus(
      transfer,
      auth.account,
      service.store.instancesFor(transfer),
      service.baseUrl,
    );
  }

  function transfersOf(auth: Authorized): TransferStatus[] {
    return service.store
      .transfersOf(auth.account.id)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .map((t) => statusOf(t, auth));
  }

  /** The read-only resolution of an expired or revoked link (protocol section 3.1). */
  function deadLink(auth: Authorized, state: 'revoked' | 'expired') {
    const { account, link } = auth;
    const transfers = transfersOf(auth);
    return {
      protocol: PROTOCOL_VERSION,
      state,
      reason:
        state === 'revoked'
          ? link.revokedReason
            ? `The hospital revoked this link: ${link.revokedReason}`
            : 'The hospital revoked this link.'
          : `This link expired on ${new Date(link.expiresAt).toUTCString()}.`,
      accountId: account.id,
      provider: account.provider,
      expiresAt: link.expiresAt,
      ...(link.revokedAt !== undefined ? { revokedAt: link.revokedAt } : {}),
      transfersUrl: `${service.baseUrl}/api/v1/transfers`,
      statusUrl: transfers[0]?.urls.self ?? null,
      transfers: transfers.map((t) => ({
        transferId: t.transferId,
        state: t.state,
        message: t.message,
        statusUrl: t.urls.self,
      })),
    };
  }

  function resolveLink(auth: Authorized) {
    const { account, link } = auth;
    const transfers = transfersOf(auth);
    return {
      protocol: PROTOCOL_VERSION,
      state: 'active',
      accountId: account.id,
      provider: account.provider,
      recipient: account.recipient,
      patient: account.patient,
      expiresAt: link.expiresAt,
      policy: account.policy,
      limits: account.limits,
      stowUrl: `${service.baseUrl}/dicomweb/studies`,
      transfersUrl: `${service.baseUrl}/api/v1/transfers`,
      statusUrl: transfers[0]?.urls.self ?? null,
      transfers: transfers.map((t) => ({
        transferId: t.transferId,
        state: t.state,
        message: t.message,
        statusUrl: t.urls.self,
      })),
    };
  }

  /** The patient's page: who expects the images, how to open the link in Ferry, and the status. */
  function linkPage(res: ServerResponse, token: string, ip: string): void {
    let auth: Authorized;
    try {
      auth = service.authorize(token, ip, { readOnly: true });
    } catch (err) {
      if (!(err instanceof PortalError)) throw err;
      sendHtml(
        res,
        err.status,
        'Upload link',
        html`<h1>Upload link</h1>
          <p class="error">${err.message}</p>`,
      );
      return;
    }
    const state = service.linkState(auth.link);
    const transfers = transfersOf(auth);
    const latest = transfers[0];
    const portalHost = new URL(service.baseUrl);
    const deepLink = `ferry://${portalHost.host}${portalHost.pathname.replace(/\/$/, '')}/u/${token}`;
    const { provider } = auth.account;
    const body = html`<h1>Send your images to ${provider.organization || 'the hospital'}</h1>
      <p>
        ${provider.name}${provider.department ? html`, ${provider.department},` : ''} expects
        imaging studies for ${auth.account.patient.name}. This link was made for
        ${auth.account.recipient.name}.
      </p>
      ${
        state === 'active'
          ? html`<p>The link works until ${new Date(auth.link.expiresAt).toUTCString()}.</p>
              <p class="notice">
                <a href="${deepLink}">Open this link in DICOM Ferry</a>. Ferry reads your CD or USB
                drive, shows exactly what will be sent, and sends it. If the button does not open
                Ferry, start Ferry and paste this page's address.
              </p>`
          : html`<p class="error">
              ${state === 'revoked' ? 'The hospital revoked this link.' : 'This link has expired.'}
              Ask the hospital for a new one if you still need to send images.
            </p>`
      }
      <h2>Status</h2>
      ${
        latest === undefined
          ? html`<p>Nothing has been sent with this link yet.</p>`
          : html`<ol class="timeline">
              ${latest.timeline.map((e) => html`<li><span class="muted">${new Date(e.at).toUTCString()}</span> — ${e.message}</li>`)}
            </ol>`
      }`;
    sendHtml(
      res,
      200,
      'Send your images',
      body,
      latest && !latest.terminal ? { refreshSeconds: 15 } : {},
    );
  }

  function sendFailure(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    if (req.destroyed && !(err instanceof PortalError)) {
      res.destroy(); // the client went away mid-request: nobody to answer
      return;
    }
    const error = err instanceof PortalError ? err : new PortalError('internal');
    if (!(err instanceof PortalError))
      console.error(`portal: unexpected error (${(err as Error).name})`);
    if (error.code === 'too-many-attempts') {
      service.audit.record(
        { action: 'rate-limited', actor: 'anonymous', ip: req.socket.remoteAddress ?? 'unknown' },
        service.now(),
      );
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (error.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(error.retryAfterSeconds);
    // Unread request bodies (an oversized or refused upload) are not drained: the connection closes.
    if (!req.complete) headers.connection = 'close';
    const wantsHtml = /^\/(u|staff)(\/|$)/.test(req.url ?? '') || req.url === '/';
    if (wantsHtml) {
      for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
      sendHtml(
        res,
        error.status,
        'Error',
        html`<h1>Something is not right</h1>
          <p class="error">${error.message}</p>`,
      );
    } else {
      sendJson(res, error.status, error.toBody(), headers);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const listeningUrl = `http://${host}:${address.port}`;
  service.baseUrl = (options.publicUrl ?? listeningUrl).replace(/\/$/, '');
  writeJsonAtomic(path.join(dataDir, 'portal.json'), {
    url: service.baseUrl,
    pid: process.pid,
    startedAt: service.now().toISOString(),
  });
  service.resumeVerifications();
  const sweep = setInterval(() => service.expireDue(), 30_000);
  sweep.unref();

  return {
    url: service.baseUrl,
    listeningUrl,
    service,
    dataDir,
    mailer,
    async close() {
      clearInterval(sweep);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await mailer.close();
      service.close();
    },
  };
}

async function ensureStaffUser(
  service: PortalService,
  password: string | undefined,
  log: (line: string) => void,
): Promise<void> {
  service.store.sync();
  if (service.store.users.size > 0) return;
  const chosen = password ?? randomBytes(15).toString('base64url');
  service.store.append({
    t: 'staff-user',
    user: {
      username: 'admin',
      passwordHash: await hashPassword(chosen),
      createdAt: service.now().toISOString(),
    },
  });
  service.audit.record({ action: 'staff-user-created', actor: 'portal' }, service.now());
  if (password === undefined) {
    log(`portal: created staff user "admin" with password ${chosen} (shown once; keep it safe)`);
  }
}

function writeJsonAtomic(file: string, value: unknown): void {
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  renameSync(temp, file);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

export async function readJson(
  req: IncomingMessage,
  options: { optional?: boolean } = {},
): Promise<unknown> {
  const text = (await readSmallBody(req, MAX_JSON_BYTES)).toString('utf8').trim();
  if (text === '' && options.optional) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new PortalError('bad-request', 'The request body is not valid JSON.');
  }
}

/**
 * True when the Accept header names application/dicom itself and no multipart/related (nor a
 * wildcard): then the instance is sent as the bare PS3.10 file. Otherwise the PS3.18 default,
 * multipart/related; type="application/dicom", is sent.
 */
export function acceptsOnlyBareDicom(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const types = (accept.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? [])
    .map((range) => (range.split(';')[0] ?? '').trim().toLowerCase())
    .filter((type) => type !== '');
  return (
    types.includes('application/dicom') &&
    !types.some((t) => t === 'multipart/related' || t === '*/*' || t === 'multipart/*')
  );
}

function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}
