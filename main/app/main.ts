/**
 * The Electron main process: thin wiring of the core's app service onto a hardened window.
 * Everything with logic lives in main/core (tested on plain Node); this file only connects what
 * only Electron has (windows, IPC, dialogs, safeStorage, powerSaveBlocker, the app:// protocol).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  powerSaveBlocker,
  protocol,
  safeStorage,
  session,
  shell,
} from 'electron';
import { createDispatch } from '../core/app-service/dispatch.ts';
import { createDriveSource, watchDrives } from '../core/app-service/drives.ts';
import { fileHistory } from '../core/app-service/history.ts';
import { fileMaskTemplates } from '../core/deid/mask-templates.ts';
import { createEngines, journalKeyFrom } from '../core/app-service/real-engines.ts';
import { createAppService } from '../core/app-service/service.ts';
import {
  contentSecurityPolicy,
  readStaticFile,
  securityHeaders,
} from '../core/app-service/static-files.ts';
import { findLinkInArgv } from './deep-links.ts';
import { guardKioskWindow, kioskSettingsFromArgv, kioskWindowOptions } from './kiosk.ts';
import { APP_HOST, APP_SCHEME, APP_URL, ipcEventSink, isTrustedSender, wireIpc } from './ipc.ts';
import { powerSaveKeepAwake } from './power.ts';
import { safeStorageSecretStore } from './secrets.ts';
import { hardenApp, hardenSession, isSafeExternalUrl } from './security.ts';
import { mainStrings } from './strings.ts';

// dist/main/app/main.js -> dist/renderer, dist/preload/preload.cjs
const distRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const rendererDir = path.join(distRoot, 'renderer');
const preloadFile = path.join(distRoot, 'preload', 'preload.cjs');
const DEEP_LINK_SCHEME = 'ferry';

// Before ready: app:// is a standard, secure origin, so the page is not file:// (no access to
// the disk by URL) and gets a real origin for its CSP.
protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
]);
app.enableSandbox();
hardenApp(app, (url) => {
  // Only http(s) addresses, checked here and in security.ts, go to the system browser.
  if (isSafeExternalUrl(url)) void shell.openExternal(url); // eng-disable OPEN_EXTERNAL_JS_CHECK
});

if (!app.requestSingleInstanceLock()) {
  // Another Ferry runs: it receives our arguments (a deep link) through 'second-instance'.
  app.quit();
} else {
  start();
}

function start(): void {
  const strings = mainStrings(app.getLocale());
  // --kiosk: the front desk (kiosk.ts); a bad --kiosk-idle stops here with its sentence.
  const kiosk = kioskSettingsFromArgv(process.argv);
  const trusted = new Set<number>();
  let window: BrowserWindow | undefined;
  const drives = createDriveSource();
  const userData = app.getPath('userData');
  const secrets = safeStorageSecretStore(safeStorage, path.join(userData, 'secrets.json'));
  const journalDir = path.join(userData, 'uploads');
  const service = createAppService({
    host: 'electron',
    version: app.getVersion(),
    kiosk: kiosk.kiosk,
    ...(kiosk.idleSeconds !== undefined ? { kioskIdleSeconds: kiosk.idleSeconds } : {}),
    // Journals and kept timelines are the person's: emptied between two people in kiosk mode.
    sessionDirs: [journalDir],
    // And whatever the page's engine cached or stored (the language choice stays).
    onSessionReset: async () => {
      await session.defaultSession.clearCache();
      await session.defaultSession.clearStorageData({
        storages: [
          'cookies',
          'filesystem',
          'indexdb',
          'shadercache',
          'serviceworkers',
          'cachestorage',
        ],
      });
    },
    engines: createEngines({
      upload: {
        journalDir,
        journalKey: journalKeyFrom(secrets, path.join(userData, 'journal.key')),
      },
    }),
    platformServices: {
      pickFolder: async () => {
        const options = {
          title: strings['pick.title'],
          properties: ['openDirectory' as const, 'dontAddToRecent' as const],
        };
        const chosen = window
          ? await dialog.showOpenDialog(window, options)
          : await dialog.showOpenDialog(options);
        return chosen.canceled ? null : (chosen.filePaths[0] ?? null);
      },
      secrets,
      keepAwake: powerSaveKeepAwake(powerSaveBlocker),
      drives,
    },
    history: fileHistory(path.join(userData, 'history.json')),
    // Mask templates hold no patient data: kept across people, in kiosk mode too.
    maskTemplates: fileMaskTemplates(path.join(userData, 'mask-templates.json')),
    emit: ipcEventSink(() => (window && !window.isDestroyed() ? [window.webContents] : [])),
  });
  const dispatch = createDispatch(service.handlers, {
    onUnexpected: (method, error) =>
      console.error(`ferry: ${method} failed (${(error as Error).name})`),
  });

  const showWindow = (): void => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  };
  app.on('second-instance', (_event, argv) => {
    const link = findLinkInArgv(argv);
    if (link) service.openLinkFromOutside(link);
    showWindow();
  });
  app.on('open-url', (event, url) => {
    event.preventDefault();
    service.openLinkFromOutside(url);
    showWindow();
  });
  const launchLink = findLinkInArgv(process.argv);
  if (launchLink) service.openLinkFromOutside(launchLink);
  if (process.defaultApp && process.argv[1] !== undefined) {
    // ferry:// links only hand a URL to openLinkFromOutside, which parses it as data.
    const devArgs = [path.resolve(process.argv[1])];
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME, process.execPath, devArgs); // eng-disable PROTOCOL_HANDLER_JS_CHECK
  } else {
    app.setAsDefaultProtocolClient(DEEP_LINK_SCHEME); // eng-disable PROTOCOL_HANDLER_JS_CHECK
  }

  void app.whenReady().then(() => {
    hardenSession(session.defaultSession);
    const csp = contentSecurityPolicy();
    // Every response the window receives carries the CSP, whatever serves it.
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({
        responseHeaders: {
          ...details.responseHeaders,
          'Content-Security-Policy': [
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; connect-src 'none'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'; frame-ancestors 'none'",
          ],
        },
      });
    });
    // app:// serves only the built renderer's files (static-files.ts refuses anything outside).
    protocol.handle(APP_SCHEME, async (request) => {
      const url = new URL(request.url);
      const file =
        url.host === APP_HOST
          ? await readStaticFile(rendererDir, url.pathname.replace(/^\/+/u, ''))
          : await readStaticFile(rendererDir, '\0');
      return new Response(new Uint8Array(file.body), {
        status: file.status,
        headers: { ...securityHeaders(csp), 'content-type': file.contentType },
      });
    });
    wireIpc(ipcMain, dispatch, (event) => isTrustedSender(event, trusted));
    // No menu in kiosk mode: its accelerators (reload, developer tools, close) would leave the app.
    if (kiosk.kiosk) Menu.setApplicationMenu(null);
    const watcher = watchDrives(drives, (list) => service.drivesChanged(list));
    window = createWindow(trusted);
    app.on('window-all-closed', () => {
      watcher.stop();
      service.close();
      app.quit();
    });
  });

  function createWindow(trustedIds: Set<number>): BrowserWindow {
    const win = new BrowserWindow({
      width: 1100,
      height: 800,
      minWidth: 640,
      minHeight: 520,
      show: false,
      title: 'DICOM Ferry',
      backgroundColor: '#ffffff',
      ...(kiosk.kiosk ? kioskWindowOptions() : {}),
      // Written out here, not built elsewhere, so reviewers and electronegativity see them.
      webPreferences: {
        // The preload exposes api.ts only (preload/bridge.ts).
        preload: preloadFile, // eng-disable PRELOAD_JS_CHECK
        contextIsolation: true,
        sandbox: true,
        nodeIntegration: false,
        nodeIntegrationInWorker: false,
        nodeIntegrationInSubFrames: false,
        webSecurity: true,
        allowRunningInsecureContent: false,
        experimentalFeatures: false,
        webviewTag: false,
        navigateOnDragDrop: false,
        safeDialogs: true,
        spellcheck: false,
        disableBlinkFeatures: 'Auxclick',
        devTools: !kiosk.kiosk,
      },
    });
    if (kiosk.kiosk) {
      guardKioskWindow(win, {
        platform: process.platform,
        confirmClose: () =>
          dialog.showMessageBoxSync(win, {
            type: 'question',
            title: strings['kiosk.close.title'],
            message: strings['kiosk.close.message'],
            detail: strings['kiosk.close.detail'],
            buttons: [strings['kiosk.close.stay'], strings['kiosk.close.quit']],
            defaultId: 0,
            cancelId: 0,
          }) === 1,
      });
    }
    const id = win.webContents.id;
    trustedIds.add(id);
    win.on('closed', () => trustedIds.delete(id));
    win.once('ready-to-show', () => win.show());
    // The page asks to stay (beforeunload) while images are being sent: confirm natively.
    win.webContents.on('will-prevent-unload', (event) => {
      const choice = dialog.showMessageBoxSync(win, {
        type: 'warning',
        title: strings['leave.title'],
        message: strings['leave.message'],
        detail: strings['leave.detail'],
        buttons: [strings['leave.stay'], strings['leave.quit']],
        defaultId: 0,
        cancelId: 0,
      });
      if (choice === 1) event.preventDefault();
    });
    void win.loadURL(APP_URL);
    return win;
  }
}
