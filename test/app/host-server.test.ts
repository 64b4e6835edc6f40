/** The browser host (main/host/server.ts): loopback only, the per-start key, origin checks. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { DriveView } from '../../main/core/api.ts';
import { startHost, type RunningHost } from '../../main/host/server.ts';

let dir: string;
let host: RunningHost;
let drives: DriveView[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-host-test-'));
  const rendererDir = path.join(dir, 'renderer');
  await mkdir(path.join(rendererDir, 'assets'), { recursive: true });
  await writeFile(path.join(rendererDir, 'index.html'), '<!doctype html><title>t</title>');
  await writeFile(path.join(rendererDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(dir, 'secret.txt'), 'not for the browser');
  host = await startHost({
    rendererDir,
    dataDir: path.join(dir, 'data'),
    drives: { list: async () => drives },
    drivePollMs: 20,
    engines: {},
  });
});

afterAll(async () => {
  await host.close();
  await rm(dir, { recursive: true, force: true });
});

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on('error', reject);
  });
}

function connect(url: string, origin: string | undefined): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin === undefined ? {} : { origin });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
    socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
}

function call(socket: WebSocket, id: number, method: string, request?: unknown): Promise<unknown> {
  return new Promise((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { id?: number; result?: unknown };
      if (message.id === id) {
        socket.off('message', onMessage);
        resolve(message.result);
      }
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ id, method, request }));
  });
}

describe('the browser host', () => {
  it('listens on loopback and serves the page only under its key, with the CSP', async () => {
    const url = new URL(host.url);
    expect(url.hostname).toBe('127.0.0.1');
    expect(host.token.length).toBeGreaterThanOrEqual(32);
    const page = await get(host.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toContain(
      `connect-src ws://127.0.0.1:${url.port}`,
    );
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect((await get(`${host.url}assets/app.js`)).status).toBe(200);
    expect((await get(`${url.origin}/`)).status).toBe(404);
    expect((await get(`${url.origin}/wrong-key/`)).status).toBe(404);
    expect((await get(`${url.origin}/${host.token.slice(0, -1)}x/`)).status).toBe(404);
    expect((await get(`${host.url}../secret.txt`)).status).toBe(404);
    expect((await get(`${host.url}%2e%2e/secret.txt`)).status).toBe(404);
    const noSlash = await get(`${url.origin}/${host.token}`);
    expect(noSlash.status).toBe(308);
  });

  it('refuses another Host name (DNS rebinding)', async () => {
    expect((await get(host.url, { host: `evil.example:${new URL(host.url).port}` })).status).toBe(
      404,
    );
  });

  it('opens the WebSocket only with the key and the page own origin', async () => {
    const url = new URL(host.url);
    const ws = `ws://127.0.0.1:${url.port}/${host.token}/ws`;
    await expect(connect(ws, 'https://evil.example')).rejects.toThrow('403');
    await expect(connect(ws, undefined)).rejects.toThrow('403');
    await expect(connect(`ws://127.0.0.1:${url.port}/nope/ws`, url.origin)).rejects.toThrow('403');
    const socket = await connect(ws, url.origin);
    const info = (await call(socket, 1, 'app.info')) as {
      ok: boolean;
      value: { host: string; canPickFolder: boolean };
    };
    expect(info.ok).toBe(true);
    expect(info.value.host).toBe('browser-host');
    expect(info.value.canPickFolder).toBe(false);
    expect(await call(socket, 2, 'no.such.method')).toMatchObject({
      ok: false,
      error: { code: 'unknown-method' },
    });
    expect(await call(socket, 3, 'media.scan', { path: 3 })).toMatchObject({
      ok: false,
      error: { code: 'bad-request' },
    });
    expect(await call(socket, 4, 'link.open', { url: 'https://x' })).toMatchObject({
      ok: false,
      error: { code: 'link-invalid' },
    });
    socket.close();
  });

  it('pushes core events to the page', async () => {
    const url = new URL(host.url);
    const socket = await connect(`ws://127.0.0.1:${url.port}/${host.token}/ws`, url.origin);
    const event = new Promise<unknown>((resolve) =>
      socket.on('message', (data) => {
        const message = JSON.parse(data.toString()) as { event?: string; payload?: unknown };
        if (message.event === 'drives.changed') resolve(message.payload);
      }),
    );
    drives = [{ id: '/dev/sr0', label: 'CD', mountPath: '/media/cdrom', kind: 'optical' }];
    expect(await event).toEqual({ drives });
    socket.close();
  });
});
