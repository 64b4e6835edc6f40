/**
 * main/app/main.ts run on Node against a fake 'electron' module: the window's preferences, the
 * app:// protocol, the CSP header, IPC registration, single instance, deep links and the
 * leave-while-sending dialog.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { METHOD_NAMES, eventChannel, invokeChannel } from '../../main/core/api.ts';
import { FakeEmitter, FakeIpcMain, preventable } from './fakes.ts';

const token = 'Q'.repeat(43);

interface Fakes {
  app: FakeEmitter & Record<string, unknown>;
  windows: FakeWindow[];
  ipcMain: FakeIpcMain;
  protocolHandlers: Map<string, (request: Request) => Promise<Response>>;
  privileged: unknown[];
  session: Record<string, unknown> & {
    headersHook?: (details: unknown, cb: (r: unknown) => void) => void;
  };
  dialogChoice: number;
  dialogCalls: unknown[];
  openExternal: (url: string) => void;
  lock: boolean;
  userData: string;
}

class FakeWindow extends FakeEmitter {
  static nextId = 1;
  readonly options: { webPreferences: Record<string, unknown> };
  readonly webContents: FakeEmitter & Record<string, unknown>;
  loaded: string | undefined;

  constructor(options: { webPreferences: Record<string, unknown> }) {
    super();
    this.options = options;
    const id = FakeWindow.nextId++;
    const contents = new FakeEmitter() as FakeEmitter & Record<string, unknown>;
    contents.id = id;
    contents.sent = [] as unknown[];
    contents.isDestroyed = () => false;
    contents.getURL = () => this.loaded ?? '';
    contents.send = (channel: string, payload: unknown) =>
      (contents.sent as unknown[]).push([channel, payload]);
    this.webContents = contents;
    fakes.windows.push(this);
  }

  loadURL(url: string) {
    this.loaded = url;
    return Promise.resolve();
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

let fakes: Fakes;

vi.mock('electron', () => {
  const app = new Proxy(
    {},
    { get: (_target, name: string) => (fakes.app as Record<string, unknown>)[name] },
  );
  return {
    app,
    BrowserWindow: FakeWindow,
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
      showMessageBoxSync: (...args: unknown[]) => {
        fakes.dialogCalls.push(args);
        return fakes.dialogChoice;
      },
      showOpenDialog: async () => ({ canceled: true, filePaths: [] }),
    },
    powerSaveBlocker: { start: () => 1, stop: () => {}, isStarted: () => false },
    protocol: {
      registerSchemesAsPrivileged: (schemes: unknown[]) => fakes.privileged.push(...schemes),
      handle: (scheme: string, handler: (request: Request) => Promise<Response>) =>
        fakes.protocolHandlers.set(scheme, handler),
    },
    safeStorage: {
      isEncryptionAvailable: () => false,
      encryptString: () => Buffer.alloc(0),
      decryptString: () => '',
    },
    session: {
      get defaultSession() {
        return fakes.session;
      },
    },
    shell: { openExternal: (url: string) => fakes.openExternal(url) },
  };
});

async function loadMain(options: { lock?: boolean; argv?: string[] } = {}): Promise<void> {
  const userData = await mkdtemp(path.join(os.tmpdir(), 'ferry-main-'));
  const app = new FakeEmitter() as FakeEmitter & Record<string, unknown>;
  Object.assign(app, {
    enableSandbox: vi.fn(),
    requestSingleInstanceLock: () => options.lock ?? true,
    quit: vi.fn(),
    getLocale: () => 'en-US',
    getVersion: () => '0.1.0',
    getPath: () => userData,
    setAsDefaultProtocolClient: vi.fn(),
    whenReady: () => Promise.resolve(),
  });
  fakes = {
    app,
    windows: [],
    ipcMain: new FakeIpcMain(),
    protocolHandlers: new Map(),
    privileged: [],
    session: {
      setPermissionRequestHandler: vi.fn(),
      setPermissionCheckHandler: vi.fn(),
      setDevicePermissionHandler: vi.fn(),
      webRequest: {
        onHeadersReceived: (hook: Fakes['session']['headersHook']) => {
          fakes.session.headersHook = hook;
        },
      },
    },
    dialogChoice: 0,
    dialogCalls: [],
    openExternal: vi.fn(),
    lock: options.lock ?? true,
    userData,
  };
  const argv = process.argv;
  process.argv = options.argv ?? ['electron', '.'];
  try {
    vi.resetModules();
    await import('../../main/app/main.ts');
    await new Promise((resolve) => setTimeout(resolve, 10));
  } finally {
    process.argv = argv;
  }
}

beforeEach(() => {
  FakeWindow.nextId = 1;
});

afterEach(async () => {
  fakes.app.fire('window-all-closed');
  await rm(fakes.userData, { recursive: true, force: true });
});

describe('the Electron main process (main/app/main.ts)', () => {
  it('opens one hardened window on app://ferry, not file://', async () => {
    await loadMain();
    expect(fakes.app.enableSandbox).toHaveBeenCalled();
    expect(fakes.windows).toHaveLength(1);
    const prefs = fakes.windows[0]!.options.webPreferences;
    expect(prefs).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
    // dist/main/app/main.js -> dist/preload/preload.cjs once built.
    expect(String(prefs.preload)).toMatch(/preload[/\\]preload\.cjs$/u);
    expect(fakes.windows[0]!.loaded).toBe('app://ferry/index.html');
    expect(fakes.privileged).toEqual([
      { scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } },
    ]);
  });

  it('wires every api.ts method onto ipcMain', async () => {
    await loadMain();
    expect([...fakes.ipcMain.handlers.keys()].sort()).toEqual(
      METHOD_NAMES.map(invokeChannel).sort(),
    );
    const window = fakes.windows[0]!;
    const frame = { url: 'app://ferry/index.html', parent: null };
    const answer = await fakes.ipcMain.invoke(
      invokeChannel('app.info'),
      { sender: window.webContents, senderFrame: frame },
      undefined,
    );
    expect(answer).toMatchObject({ ok: true, value: { host: 'electron', canPickFolder: true } });
  });

  it('serves the built renderer over app:// with the CSP, and nothing outside it', async () => {
    await loadMain();
    const handler = fakes.protocolHandlers.get('app')!;
    for (const url of [
      'app://ferry/../../package.json',
      'app://ferry/%2e%2e/%2e%2e/package.json',
      'app://other/index.html',
      'app://ferry/main.ts',
    ]) {
      const response = await handler(new Request(url));
      expect(response.status, url).toBe(404);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
    let headers: unknown;
    fakes.session.headersHook?.({ responseHeaders: { a: ['b'] } }, (result) => (headers = result));
    expect(headers).toMatchObject({
      responseHeaders: {
        a: ['b'],
        'Content-Security-Policy': [expect.stringContaining("script-src 'self'")],
      },
    });
    expect(fakes.session.setPermissionRequestHandler).toHaveBeenCalled();
  });

  it('quits when another Ferry already runs', async () => {
    await loadMain({ lock: false });
    expect(fakes.app.quit).toHaveBeenCalled();
    expect(fakes.windows).toHaveLength(0);
  });

  it('hands deep links from a second launch and from macOS to the window', async () => {
    await loadMain();
    const contents = fakes.windows[0]!.webContents;
    fakes.app.fire('second-instance', {}, ['ferry', `ferry://portal.example/u/${token}`]);
    const event = preventable();
    fakes.app.fire('open-url', event, `ferry://portal.example/u/${token}`);
    expect(event.prevented).toBe(true);
    const linkEvents = (contents.sent as [string, unknown][]).filter(
      ([channel]) => channel === eventChannel('link.opened'),
    );
    expect(linkEvents).toEqual([
      [eventChannel('link.opened'), { url: `ferry://portal.example/u/${token}` }],
      [eventChannel('link.opened'), { url: `ferry://portal.example/u/${token}` }],
    ]);
    expect(fakes.app.setAsDefaultProtocolClient).toHaveBeenCalledWith('ferry');
  });

  it('remembers a link given at launch for the page to read', async () => {
    await loadMain({ argv: ['electron', '.', `ferry://portal.example/u/${token}`] });
    const window = fakes.windows[0]!;
    const answer = (await fakes.ipcMain.invoke(
      invokeChannel('app.info'),
      { sender: window.webContents, senderFrame: { url: 'app://ferry/index.html', parent: null } },
      undefined,
    )) as { value: { pendingLink: string } };
    expect(answer.value.pendingLink).toBe(`ferry://portal.example/u/${token}`);
  });

  it('asks before closing while the page says images are being sent', async () => {
    await loadMain();
    const contents = fakes.windows[0]!.webContents;
    const stay = preventable();
    fakes.dialogChoice = 0;
    contents.fire('will-prevent-unload', stay);
    expect(stay.prevented).toBe(false);
    const quit = preventable();
    fakes.dialogChoice = 1;
    contents.fire('will-prevent-unload', quit);
    expect(quit.prevented).toBe(true);
    expect(fakes.dialogCalls).toHaveLength(2);
  });

  it('guards every web contents it creates and opens only web addresses outside', async () => {
    await loadMain();
    const contents = new FakeEmitter() as FakeEmitter & { open?: (d: { url: string }) => unknown };
    Object.assign(contents, {
      setWindowOpenHandler: (h: (d: { url: string }) => unknown) => (contents.open = h),
    });
    fakes.app.fire('web-contents-created', {}, contents);
    expect(contents.open?.({ url: 'https://portal.example/' })).toEqual({ action: 'deny' });
    expect(contents.open?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(vi.mocked(fakes.openExternal)).toHaveBeenCalledTimes(1);
  });
});
