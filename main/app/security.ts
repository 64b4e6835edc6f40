/**
 * Electron's security checklist, applied app-wide: every web contents may neither navigate nor
 * open windows (GitHub Desktop's main-process/main.ts), webviews are refused, permission
 * requests are denied, and only http(s) addresses are ever handed to the system browser
 * (Electron Fiddle's safelyOpenWebURL).
 */
import type { App, Session, WebContents } from 'electron';
import { isAppUrl } from './ipc.ts';

/** Only web pages go to the system browser; never file:, custom schemes or javascript:. */
export function isSafeExternalUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return (parsed.protocol === 'https:' || parsed.protocol === 'http:') && !parsed.username;
  } catch {
    return false;
  }
}

type GuardedContents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

export function guardWebContents(
  contents: GuardedContents,
  openExternal: (url: string) => void,
): void {
  // The app is one page; any navigation (a dropped file, a link, a redirect) is refused.
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) openExternal(url);
    return { action: 'deny' };
  });
}

export function hardenApp(app: Pick<App, 'on'>, openExternal: (url: string) => void): void {
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, openExternal));
}

export function hardenSession(
  session: Pick<
    Session,
    'setPermissionRequestHandler' | 'setPermissionCheckHandler' | 'setDevicePermissionHandler'
  >,
): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
