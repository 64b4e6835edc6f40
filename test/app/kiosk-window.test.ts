/**
 * Kiosk mode in Electron (main/app/kiosk.ts, and main/app/main.ts started with --kiosk against a
 * fake 'electron' module): a full-screen window without menu or developer tools, shortcuts that
 * would leave the app blocked, and closing only after the staff confirm.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  guardKioskWindow,
  kioskSettingsFromArgv,
  kioskShortcut,
  kioskWindowOptions,
  type GuardedWindow,
} from '../../main/app/kiosk.ts';
import { invokeChannel } from '../../main/core/api.ts';
import { FakeEmitter, FakeIpcMain, preventable } from './fakes.ts';

const key = (
  name: string,
  modifiers: Partial<{ control: boolean; meta: boolean; alt: boolean; shift: boolean }> = {},
) => ({
  type: 'keyDown' as const,
  key: name,
  control: false,
  meta: false,
  alt: false,
  shift: false,
  ...modifiers,
});

describe('kiosk shortcuts', () => {
  it('blocks reload, developer tools and new windows; asks before closing', () => {
    for (const [input, platform, verdict] of [
      [key('r', { control: true }), 'linux', 'block'],
      [key('R', { control: true, shift: true }), 'win32', 'block'],
      [key('F5'), 'win32', 'block'],
      [key('F12'), 'linux', 'block'],
      [key('I', { control: true, shift: true }), 'linux', 'block'],
      [key('i', { meta: true, alt: true }), 'darwin', 'block'],
      [key('n', { control: true }), 'win32', 'block'],
      [key('ArrowLeft', { alt: true }), 'linux', 'block'],
      [key('w', { control: true }), 'linux', 'confirm-close'],
      [key('F4', { alt: true }), 'win32', 'confirm-close'],
      [key('q', { meta: true }), 'darwin', 'confirm-close'],
    ] as const) {
      expect(kioskShortcut(input, platform), `${JSON.stringify(input)} on ${platform}`).toBe(
        verdict,
      );
    }
  });

  it('lets typing, Tab, Enter and copy-paste through', () => {
    for (const input of [
      key('a'),
      key('Tab'),
      key('Tab', { shift: true }),
      key('Enter'),
      key('v', { control: true }),
      key('c', { control: true }),
      key('w'),
      { ...key('r', { control: true }), type: 'keyUp' as const },
    ]) {
      expect(kioskShortcut(input, 'linux'), JSON.stringify(input)).toBe('allow');
    }
    // On macOS Ctrl+R is not reload.
    expect(kioskShortcut(key('r', { control: true }), 'darwin')).toBe('allow');
  });
});

describe('the kiosk settings and window', () => {
  it('reads --kiosk and --kiosk-idle, and says what is wrong', () => {
    expect(kioskSettingsFromArgv(['electron', '.'])).toEqual({ kiosk: false });
    expect(kioskSettingsFromArgv(['ferry', '--kiosk'])).toEqual({ kiosk: true });
    expect(kioskSettingsFromArgv(['ferry', '--kiosk', '--kiosk-idle', '90'])).toEqual({
      kiosk: true,
      idleSeconds: 90,
    });
    expect(kioskSettingsFromArgv(['ferry', '--kiosk-idle=120', '--kiosk'])).toEqual({
      kiosk: true,
      idleSeconds: 120,
    });
    expect(() => kioskSettingsFromArgv(['ferry', '--kiosk', '--kiosk-idle', 'x'])).toThrow(
      /whole number of seconds/u,
    );
    expect(() => kioskSettingsFromArgv(['ferry', '--kiosk-idle', '60'])).toThrow(/--kiosk/u);
    expect(kioskWindowOptions()).toMatchObject({
      kiosk: true,
      fullscreen: true,
      minimizable: false,
    });
  });

  it('closes only after confirmation, and shuts developer tools', async () => {
    const win = new FakeEmitter() as FakeEmitter & GuardedWindow & { closed: number };
    const contents = new FakeEmitter() as FakeEmitter & GuardedWindow['webContents'];
    const closeDevTools = vi.fn();
    Object.assign(contents, { closeDevTools });
    Object.assign(win, { webContents: contents, closed: 0 });
    win.close = () => {
      win.closed += 1;
      const event = preventable();
      win.fire('close', event);
    };
    let answer = false;
    const confirmClose = vi.fn(() => answer);
    guardKioskWindow(win, { confirmClose, platform: 'linux' });

    const reload = preventable();
    contents.fire('before-input-event', reload, key('r', { control: true }));
    expect(reload.prevented).toBe(true);
    expect(confirmClose).not.toHaveBeenCalled();
    const typing = preventable();
    contents.fire('before-input-event', typing, key('a'));
    expect(typing.prevented).toBe(false);

    // Ctrl+W and the system's close (Alt+F4) ask; "stay" keeps the window.
    const ctrlW = preventable();
    contents.fire('before-input-event', ctrlW, key('w', { control: true }));
    const systemClose = preventable();
    win.fire('close', systemClose);
    expect(ctrlW.prevented).toBe(true);
    expect(systemClose.prevented).toBe(true);
    expect(confirmClose).toHaveBeenCalledTimes(2);
    expect(win.closed).toBe(0);

    answer = true;
    const confirmed = preventable();
    win.fire('close', confirmed);
    expect(confirmed.prevented).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(win.closed).toBe(1);
    expect(confirmClose).toHaveBeenCalledTimes(3);

    contents.fire('devtools-opened');
    expect(closeDevTools).toHaveBeenCalled();
  });
});

// main.ts with --kiosk, on a fake 'electron' (the pattern of main.test.ts, cut to what kiosk needs).
interface Fakes {
  app: FakeEmitter & Record<string, unknown>;
  windows: FakeWindow[];
  ipcMain: FakeIpcMain;
  menu: unknown[];
  dialogAnswers: number[];
  userData: string;
  cleared: string[];
}

let fakes: Fakes;

class FakeWindow extends FakeEmitter {
  static nextId = 1;
  readonly options: Record<string, unknown> & { webPreferences: Record<string, unknown> };
  readonly webContents: FakeEmitter & Record<string, unknown>;
  closeCalls = 0;

  constructor(options: FakeWindow['options']) {
    super();
    this.options = options;
    const contents = new FakeEmitter() as FakeEmitter & Record<string, unknown>;
    contents.id = FakeWindow.nextId++;
    contents.isDestroyed = () => false;
    contents.send = () => {};
    contents.getURL = () => 'app://ferry/index.html';
    contents.closeDevTools = vi.fn();
    this.webContents = contents;
    fakes.windows.push(this);
  }

  loadURL() {
    return Promise.resolve();
  }
  close() {
    this.closeCalls += 1;
  }
  isDestroyed() {
    return false;
  }
  isMinimized() {
    return false;
  }
  restore() {}
  focus() {}
  show() {}
}

vi.mock('electron', () => ({
  app: new Proxy({}, { get: (_t, name: string) => fakes.app[name] }),
  BrowserWindow: FakeWindow,
  Menu: { setApplicationMenu: (menu: unknown) => fakes.menu.push(menu) },
  ipcMain: new Proxy(
    {},
    {
      get: (_t, name: string) => {
        const member = (fakes.ipcMain as unknown as Record<string, unknown>)[name];
        return typeof member === 'function' ? member.bind(fakes.ipcMain) : member;
      },
    },
  ),
  dialog: {
    showMessageBoxSync: () => fakes.dialogAnswers.shift() ?? 0,
    showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
  },
  powerSaveBlocker: { start: () => 1, stop: () => {}, isStarted: () => false },
  protocol: { registerSchemesAsPrivileged: () => {}, handle: () => {} },
  safeStorage: {
    isEncryptionAvailable: () => false,
    encryptString: () => Buffer.alloc(0),
    decryptString: () => '',
  },
  session: {
    defaultSession: {
      setPermissionRequestHandler: () => {},
      setPermissionCheckHandler: () => {},
      setDevicePermissionHandler: () => {},
      webRequest: { onHeadersReceived: () => {} },
      clearCache: async () => {
        fakes.cleared.push('cache');
      },
      clearStorageData: async (options: { storages: string[] }) => {
        fakes.cleared.push(...options.storages);
      },
    },
  },
  shell: { openExternal: () => {} },
}));

async function loadMain(argv: string[]): Promise<void> {
  const userData = await mkdtemp(path.join(os.tmpdir(), 'ferry-kiosk-main-'));
  const app = new FakeEmitter() as FakeEmitter & Record<string, unknown>;
  Object.assign(app, {
    enableSandbox: () => {},
    requestSingleInstanceLock: () => true,
    quit: vi.fn(),
    getLocale: () => 'en-US',
    getVersion: () => '0.1.0',
    getPath: () => userData,
    setAsDefaultProtocolClient: () => {},
    whenReady: () => Promise.resolve(),
  });
  fakes = {
    app,
    windows: [],
    ipcMain: new FakeIpcMain(),
    menu: [],
    dialogAnswers: [],
    userData,
    cleared: [],
  };
  const saved = process.argv;
  process.argv = argv;
  try {
    vi.resetModules();
    await import('../../main/app/main.ts');
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.argv = saved;
  }
}

afterEach(async () => {
  if (!fakes) return;
  fakes.app.fire('window-all-closed');
  await rm(fakes.userData, { recursive: true, force: true });
});

describe('main.ts with --kiosk', () => {
  const appInfo = async (window: FakeWindow) =>
    (await fakes.ipcMain.invoke(
      invokeChannel('app.info'),
      { sender: window.webContents, senderFrame: { url: 'app://ferry/index.html', parent: null } },
      undefined,
    )) as { ok: boolean; value: { kiosk: boolean; kioskIdleSeconds?: number } };

  it('opens a full-screen kiosk window without menu or developer tools', async () => {
    await loadMain(['electron', '.', '--kiosk', '--kiosk-idle', '90']);
    const [window] = fakes.windows;
    expect(window?.options).toMatchObject({ kiosk: true, fullscreen: true });
    expect(window?.options.webPreferences).toMatchObject({ devTools: false, sandbox: true });
    expect(fakes.menu).toEqual([null]);
    expect((await appInfo(window!)).value).toMatchObject({ kiosk: true, kioskIdleSeconds: 90 });

    // Closing asks; "Keep Ferry open" (0) keeps it, "Close Ferry" (1) closes.
    fakes.dialogAnswers.push(0, 1);
    const first = preventable();
    window!.fire('close', first);
    expect(first.prevented).toBe(true);
    const second = preventable();
    window!.fire('close', second);
    await new Promise((resolve) => setImmediate(resolve));
    expect(window!.closeCalls).toBe(1);
    const reload = preventable();
    window!.webContents.fire('before-input-event', reload, key('r', { control: true }));
    expect(reload.prevented).toBe(true);

    // Next person: the page engine's caches and storage go too (the language choice stays).
    const reset = await fakes.ipcMain.invoke(
      invokeChannel('session.reset'),
      { sender: window!.webContents, senderFrame: { url: 'app://ferry/index.html', parent: null } },
      undefined,
    );
    expect(reset).toEqual({ ok: true, value: { removedFiles: 0 } });
    expect(fakes.cleared).toContain('cache');
    expect(fakes.cleared).toContain('indexdb');
    expect(fakes.cleared).not.toContain('localstorage');
  });

  it('stays an ordinary window without --kiosk', async () => {
    await loadMain(['electron', '.']);
    const [window] = fakes.windows;
    expect(window?.options.kiosk).toBeUndefined();
    expect(window?.options.webPreferences.devTools).toBe(true);
    expect(fakes.menu).toEqual([]);
    expect((await appInfo(window!)).value.kiosk).toBe(false);
    const close = preventable();
    window!.fire('close', close);
    expect(close.prevented).toBe(false);
  });
});
