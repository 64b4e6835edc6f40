import { describe, expect, it, vi } from 'vitest';
import {
  BRIDGE_GLOBAL,
  METHOD_NAMES,
  eventChannel,
  invokeChannel,
  type FerryBridge,
} from '../../main/core/api.ts';
import { createDispatch } from '../../main/core/app-service/dispatch.ts';
import { APP_URL, isTrustedSender, wireIpc } from '../../main/app/ipc.ts';
import { buildBridge, exposeBridge } from '../../preload/bridge.ts';
import { FakeContextBridge, FakeIpcMain, FakeIpcRenderer, senderEvent } from './fakes.ts';

describe('the preload bridge (preload/bridge.ts)', () => {
  it('exposes exactly the contract as window.ferry, once', () => {
    const contextBridge = new FakeContextBridge();
    exposeBridge(contextBridge, new FakeIpcRenderer(undefined) as never);
    expect([...contextBridge.exposed.keys()]).toEqual([BRIDGE_GLOBAL]);
    const bridge = contextBridge.exposed.get(BRIDGE_GLOBAL) as Record<string, unknown>;
    expect(Object.keys(bridge).sort()).toEqual([...METHOD_NAMES, 'on'].sort());
    expect(Object.isFrozen(bridge)).toBe(true);
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it('adds the dropped-file path helper only when given one', () => {
    const pathForFile = vi.fn(() => '/media/cdrom');
    const bridge = buildBridge(new FakeIpcRenderer(undefined) as never, pathForFile);
    expect(bridge.pathForFile?.({ name: 'DICOMDIR' })).toBe('/media/cdrom');
    expect(Object.keys(bridge)).toContain('pathForFile');
  });

  it('invokes each method on its own channel', async () => {
    const ipc = new FakeIpcRenderer(undefined);
    const invoke = vi.spyOn(ipc, 'invoke');
    const bridge = buildBridge(ipc as never);
    await bridge['media.scan']({ path: '/media/cdrom' });
    expect(invoke).toHaveBeenCalledWith(invokeChannel('media.scan'), { path: '/media/cdrom' });
  });

  it('passes event payloads without the IPC event object, and unsubscribes', () => {
    const ipc = new FakeIpcRenderer(undefined);
    const bridge = buildBridge(ipc as never);
    const listener = vi.fn();
    const off = bridge.on('drives.changed', listener);
    ipc.emit(eventChannel('drives.changed'), { drives: [] });
    expect(listener).toHaveBeenCalledWith({ drives: [] });
    expect(listener.mock.calls[0]).toHaveLength(1);
    off();
    ipc.emit(eventChannel('drives.changed'), { drives: [] });
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('subscribes to nothing for a name outside the contract', () => {
    const ipc = new FakeIpcRenderer(undefined);
    const bridge = buildBridge(ipc as never) as unknown as {
      on(event: string, listener: unknown): () => void;
    };
    bridge.on('ipc-internal', () => {});
    bridge.on('drives.changed', 'not a function');
    expect(ipc.listeners.size).toBe(0);
  });

  it('carries a call from the page to the core service and back (preload -> ipc -> dispatch)', async () => {
    const ipcMain = new FakeIpcMain();
    const info = vi.fn(async () => ({ host: 'electron' }));
    const all = Object.fromEntries(METHOD_NAMES.map((m) => [m, async () => null]));
    wireIpc(ipcMain as never, createDispatch({ ...all, 'app.info': info } as never), (event) =>
      isTrustedSender(event, new Set([3])),
    );
    const page: FerryBridge = buildBridge(
      new FakeIpcRenderer(ipcMain, () => senderEvent(3, APP_URL)) as never,
    );
    expect(await page['app.info'](undefined)).toEqual({ ok: true, value: { host: 'electron' } });
    const bad = await page['media.scan']({ path: 7 } as never);
    expect(bad.ok).toBe(false);
    const foreign: FerryBridge = buildBridge(
      new FakeIpcRenderer(ipcMain, () => senderEvent(3, 'https://evil.example/')) as never,
    );
    const refused = await foreign['app.info'](undefined);
    expect(refused).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(info).toHaveBeenCalledTimes(1);
  });
});
