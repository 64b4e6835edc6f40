/**
 * The browser host: the built renderer and api.ts over a WebSocket, on loopback only, for tests
 * and for machines without the Electron runtime (ARCHITECTURE.md). Same core service, same
 * dispatch as Electron's IPC; only the transport differs.
 *
 * Guards, since any web page the user visits could try to reach a local port:
 * - listens on 127.0.0.1 only, and answers only requests whose Host is that address (DNS rebinding);
 * - a random token per start is the first path segment of the page and of the WebSocket, compared
 *   in constant time; without it there is nothing but 404;
 * - the WebSocket upgrade also requires the page's own Origin (cross-site WebSocket hijacking);
 * - the page carries the same CSP as in Electron, with connect-src naming only this WebSocket.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { ApiEvents, DriveView, EventName } from '../core/api.ts';
import { createDispatch } from '../core/app-service/dispatch.ts';
import { createDriveSource, watchDrives } from '../core/app-service/drives.ts';
import {
  memorySecretStore,
  noKeepAwake,
  type DriveSource,
  type Engines,
} from '../core/app-service/engines.ts';
import { fileHistory } from '../core/app-service/history.ts';
import { fileMaskTemplates } from '../core/deid/mask-templates.ts';
import {
  createEngines,
  journalKeyFrom,
  type UploadTuning,
} from '../core/app-service/real-engines.ts';
import { createAppService, type AppService } from '../core/app-service/service.ts';
import {
  contentSecurityPolicy,
  readStaticFile,
  securityHeaders,
} from '../core/app-service/static-files.ts';

export interface HostOptions {
  /** The built renderer (dist/renderer). */
  readonly rendererDir: string;
  /** 0 (default): a free port. */
  readonly port?: number;
  /** History and other app data; a temporary folder removed on close when absent. */
  readonly dataDir?: string;
  /** Opened in the page as if it came from a deep link. */
  readonly link?: string;
  readonly engines?: Engines;
  /** Smaller requests and shorter retries (tests of an interrupted network). */
  readonly uploadTuning?: UploadTuning;
  /** Removable drives; the system's (lsblk, /Volumes, drive letters) when absent. */
  readonly drives?: DriveSource;
  readonly drivePollMs?: number;
  readonly version?: string;
  readonly log?: (line: string) => void;
  /** Front-desk mode (AppInfo.kiosk). */
  readonly kiosk?: boolean;
  /** Kiosk: seconds without input before the page offers to return to the start. */
  readonly kioskIdleSeconds?: number;
}

export interface RunningHost {
  /** Open this in a browser: it carries the token. */
  readonly url: string;
  readonly token: string;
  readonly service: AppService;
  close(): Promise<void>;
}

/** Client -> host: `{ id, method, request }`; host -> client: `{ id, result }` or `{ event, payload }`. */
interface CallMessage {
  readonly id: number;
  readonly method: unknown;
  readonly request?: unknown;
}

const MAX_MESSAGE_BYTES = 1024 * 1024;

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function errorKind(error: unknown): string {
  const { name, code } = (error ?? {}) as { name?: unknown; code?: unknown };
  return [typeof name === 'string' ? name : 'Error', typeof code === 'string' ? code : '']
    .filter(Boolean)
    .join(' ');
}

export async function startHost(options: HostOptions): Promise<RunningHost> {
  const token = randomBytes(24).toString('base64url');
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'ferry-host-')));
  const sockets = new Set<WebSocket>();
  const broadcast = <E extends EventName>(event: E, payload: ApiEvents[E]): void => {
    const message = JSON.stringify({ event, payload });
    for (const socket of sockets) if (socket.readyState === socket.OPEN) socket.send(message);
  };
  const drives = options.drives ?? createDriveSource();
  const secrets = memorySecretStore();
  const journalDir = path.join(dataDir, 'uploads');
  const service = createAppService({
    host: 'browser-host',
    version: options.version ?? '0.1.0',
    engines:
      options.engines ??
      createEngines({
        upload: {
          journalDir,
          journalKey: journalKeyFrom(secrets, path.join(dataDir, 'journal.key')),
          ...(options.uploadTuning ? { tuning: options.uploadTuning } : {}),
        },
      }),
    platformServices: { secrets, keepAwake: noKeepAwake, drives },
    history: fileHistory(path.join(dataDir, 'history.json')),
    // Mask templates hold no patient data: kept across people, in kiosk mode too.
    maskTemplates: fileMaskTemplates(path.join(dataDir, 'mask-templates.json')),
    emit: broadcast,
    ...(options.kiosk ? { kiosk: true } : {}),
    ...(options.kioskIdleSeconds !== undefined
      ? { kioskIdleSeconds: options.kioskIdleSeconds }
      : {}),
    // Journals and kept timelines are the person's: emptied between two people in kiosk mode.
    sessionDirs: [journalDir],
  });
  const dispatch = createDispatch(service.handlers, {
    onUnexpected: (method, error) =>
      // Only the error's kind and code: a message from deeper down could carry a path or a value.
      (options.log ?? console.error)(`ferry host: ${method} failed (${errorKind(error)})`),
  });
  if (options.link) service.openLinkFromOutside(options.link);

  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  let origin = '';
  let csp = '';

  const allowedHost = (req: IncomingMessage): boolean => {
    const host = req.headers.host ?? '';
    return host === new URL(origin).host;
  };
  /** The path below /<token>/, or undefined when the token is missing or wrong. */
  const belowToken = (req: IncomingMessage): string | undefined => {
    const pathname = new URL(req.url ?? '/', origin).pathname;
    const match = /^\/([^/]+)(\/.*)?$/u.exec(pathname);
    if (!match || !sameSecret(match[1] ?? '', token)) return undefined;
    return (match[2] ?? '').replace(/^\//u, '');
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const rest = allowedHost(req) && req.method === 'GET' ? belowToken(req) : undefined;
      if (rest === undefined) {
        res.writeHead(404, {
          'content-type': 'text/plain; charset=utf-8',
          ...securityHeaders(csp),
        });
        res.end('Not found');
        return;
      }
      if (rest === '' && !(req.url ?? '').split('?')[0]?.endsWith('/')) {
        // Relative asset URLs need the trailing slash.
        res.writeHead(308, { location: `/${token}/` });
        res.end();
        return;
      }
      const file = await readStaticFile(options.rendererDir, rest);
      res.writeHead(file.status, {
        ...securityHeaders(csp),
        'content-type': file.contentType,
        'content-length': file.body.length,
      });
      res.end(file.body);
    })().catch(() => {
      res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const rest = allowedHost(req) ? belowToken(req) : undefined;
    if (rest !== 'ws' || req.headers.origin !== origin) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        let call: CallMessage;
        try {
          call = JSON.parse(data.toString()) as CallMessage;
        } catch {
          return;
        }
        if (typeof call !== 'object' || call === null || typeof call.id !== 'number') return;
        void dispatch(call.method, call.request).then((result) => {
          if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ id: call.id, result }));
        });
      });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  csp = contentSecurityPolicy([`ws://127.0.0.1:${port}`]);

  const watcher = watchDrives(drives, (list: DriveView[]) => service.drivesChanged(list), {
    intervalMs: options.drivePollMs ?? 3000,
  });

  return {
    url: `${origin}/${token}/`,
    token,
    service,
    async close() {
      watcher.stop();
      service.close();
      for (const socket of sockets) socket.terminate();
      wss.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
