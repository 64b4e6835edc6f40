import { describe, expect, it, vi } from 'vitest';
import {
  guardWebContents,
  hardenApp,
  hardenSession,
  isSafeExternalUrl,
} from '../../main/app/security.ts';
import { FakeEmitter, preventable } from './fakes.ts';

class FakeContents extends FakeEmitter {
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.openHandler = handler;
  }
}

function guarded() {
  const contents = new FakeContents();
  const openExternal = vi.fn();
  guardWebContents(contents as never, openExternal);
  return { contents, openExternal };
}

describe('window security (main/app/security.ts)', () => {
  it('refuses navigation away from the app, redirects and webviews', () => {
    const { contents } = guarded();
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://evil/index.html']) {
      const event = preventable();
      contents.fire('will-navigate', event, url);
      expect(event.prevented, url).toBe(true);
    }
    const redirect = preventable();
    contents.fire('will-redirect', redirect, 'https://evil.example/');
    expect(redirect.prevented).toBe(true);
    const webview = preventable();
    contents.fire('will-attach-webview', webview);
    expect(webview.prevented).toBe(true);
  });

  it('denies every new window, handing only web addresses to the system browser', () => {
    const { contents, openExternal } = guarded();
    expect(contents.openHandler?.({ url: 'https://portal.example/u/x' })).toEqual({
      action: 'deny',
    });
    expect(openExternal).toHaveBeenCalledWith('https://portal.example/u/x');
    for (const url of [
      'javascript:alert(1)',
      'file:///C:/Windows/system32/calc.exe',
      'ferry://x/u/y',
      'smb://host/share',
    ]) {
      expect(contents.openHandler?.({ url })).toEqual({ action: 'deny' });
    }
    expect(openExternal).toHaveBeenCalledTimes(1);
  });

  it('guards every web contents the app creates', () => {
    const app = new FakeEmitter();
    hardenApp(app as never, vi.fn());
    const contents = new FakeContents();
    app.fire('web-contents-created', {}, contents);
    expect(contents.openHandler).toBeDefined();
    expect(contents.listeners.get('will-navigate')).toHaveLength(1);
  });

  it('denies every permission request and check', () => {
    let request: ((c: unknown, p: string, cb: (granted: boolean) => void) => void) | undefined;
    let check: (() => boolean) | undefined;
    let device: (() => boolean) | undefined;
    hardenSession({
      setPermissionRequestHandler: (h: typeof request) => (request = h),
      setPermissionCheckHandler: (h: typeof check) => (check = h),
      setDevicePermissionHandler: (h: typeof device) => (device = h),
    } as never);
    for (const permission of [
      'media',
      'geolocation',
      'notifications',
      'openExternal',
      'clipboard-read',
    ]) {
      const callback = vi.fn();
      request?.({}, permission, callback);
      expect(callback).toHaveBeenCalledWith(false);
    }
    expect(check?.()).toBe(false);
    expect(device?.()).toBe(false);
  });

  it('knows which addresses may go to the system browser', () => {
    expect(isSafeExternalUrl('https://portal.example/')).toBe(true);
    expect(isSafeExternalUrl('http://127.0.0.1:8470/u/x')).toBe(true);
    expect(isSafeExternalUrl('https://user:pw@portal.example/')).toBe(false);
    expect(isSafeExternalUrl('mailto:a@b.org')).toBe(false);
    expect(isSafeExternalUrl('nonsense')).toBe(false);
  });
});
