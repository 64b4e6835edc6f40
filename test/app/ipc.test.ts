import { describe, expect, it, vi } from 'vitest';
import {
  EVENT_NAMES,
  METHOD_NAMES,
  eventChannel,
  invokeChannel,
  type ApiHandlers,
} from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { APP_URL, ipcEventSink, isAppUrl, isTrustedSender, wireIpc } from '../../main/app/ipc.ts';
import { FakeIpcMain, senderEvent } from './fakes.ts';

function handlers(overrides: Partial<Record<string, (request: unknown) => Promise<unknown>>> = {}) {
  const all: Record<string, (request: unknown) => Promise<unknown>> = {};
  for (const method of METHOD_NAMES) all[method] = async () => `${method} answered`;
  return { ...all, ...overrides } as unknown as ApiHandlers;
}

describe('IPC wiring (main/app/ipc.ts)', () => {
  it('registers one handler per api.ts method and nothing else', () => {
    const ipcMain = new FakeIpcMain();
    const unwire = wireIpc(ipcMain as never, createDispatch(handlers()), () => true);
    expect([...ipcMain.handlers.keys()].sort()).toEqual(METHOD_NAMES.map(invokeChannel).sort());
    unwire();
    expect(ipcMain.handlers.size).toBe(0);
  });

  it('answers a trusted frame through dispatch, with the request checked first', async () => {
    const ipcMain = new FakeIpcMain();
    const open = vi.fn(async () => 'opened');
    const trusted = new Set([7]);
    wireIpc(ipcMain as never, createDispatch(handlers({ 'link.open': open })), (event) =>
      isTrustedSender(event, trusted),
    );
    const event = senderEvent(7, APP_URL);
    expect(
      await ipcMain.invoke(invokeChannel('link.open'), event, { url: 'https://x/u/t' }),
    ).toEqual({
      ok: true,
      value: 'opened',
    });
    const bad = (await ipcMain.invoke(invokeChannel('link.open'), event, { url: 42 })) as {
      error: { code: string };
    };
    expect(bad.error.code).toBe('bad-request');
    const extra = (await ipcMain.invoke(invokeChannel('link.open'), event, {
      url: 'x',
      evil: true,
    })) as { error: { code: string } };
    expect(extra.error.code).toBe('bad-request');
    expect(open).toHaveBeenCalledTimes(1);
  });

  it.each([
    ['another window', senderEvent(8, APP_URL)],
    ['a page that navigated away', senderEvent(7, 'https://evil.example/')],
    ['a file: page', senderEvent(7, 'file:///tmp/index.html')],
    ['an iframe', senderEvent(7, APP_URL, { subframe: true })],
    ['a destroyed frame', senderEvent(7, APP_URL, { noFrame: true })],
  ])('refuses %s', async (_name, event) => {
    const ipcMain = new FakeIpcMain();
    const info = vi.fn(async () => 'info');
    wireIpc(ipcMain as never, createDispatch(handlers({ 'app.info': info })), (e) =>
      isTrustedSender(e, new Set([7])),
    );
    const answer = (await ipcMain.invoke(invokeChannel('app.info'), event)) as {
      ok: boolean;
      error: { code: string };
    };
    expect(answer.ok).toBe(false);
    expect(answer.error.code).toBe('forbidden');
    expect(info).not.toHaveBeenCalled();
  });

  it('never lets an unexpected error message cross the bridge', async () => {
    const ipcMain = new FakeIpcMain();
    const failing = async () => {
      throw new Error('ENOENT /home/jane/DOE^JANE/secret.dcm');
    };
    const onUnexpected = vi.fn();
    wireIpc(
      ipcMain as never,
      createDispatch(handlers({ 'history.list': failing }), { onUnexpected }),
      () => true,
    );
    const answer = (await ipcMain.invoke(invokeChannel('history.list'), {})) as {
      error: { code: string; message: string };
    };
    expect(answer.error.code).toBe('internal');
    expect(answer.error.message).not.toContain('JANE');
    expect(onUnexpected).toHaveBeenCalledWith('history.list', expect.any(Error));
  });

  it('sends events only to live windows showing the app, on the event channels', () => {
    const app = { isDestroyed: () => false, getURL: () => APP_URL, send: vi.fn() };
    const elsewhere = {
      isDestroyed: () => false,
      getURL: () => 'https://evil.example/',
      send: vi.fn(),
    };
    const gone = { isDestroyed: () => true, getURL: () => APP_URL, send: vi.fn() };
    const sink = ipcEventSink(() => [app, elsewhere, gone]);
    sink('drives.changed', { drives: [] });
    expect(app.send).toHaveBeenCalledWith(eventChannel('drives.changed'), { drives: [] });
    expect(elsewhere.send).not.toHaveBeenCalled();
    expect(gone.send).not.toHaveBeenCalled();
    sink('not.an.event' as never, {} as never);
    expect(app.send).toHaveBeenCalledTimes(1);
    expect(EVENT_NAMES.length).toBeGreaterThan(0);
  });

  it('tells the app URL from look-alikes', () => {
    expect(isAppUrl('app://ferry/index.html')).toBe(true);
    expect(isAppUrl('app://ferry.evil/index.html')).toBe(false);
    expect(isAppUrl('app://evil/index.html')).toBe(false);
    expect(isAppUrl('https://ferry/index.html')).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });
});
