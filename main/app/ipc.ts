/**
 * api.ts wired onto ipcMain, mechanically: one `handle` per method, nothing else. The only file
 * besides preload/ that touches IPC (eslint.config.js forbids it elsewhere). After GitHub
 * Desktop's ipc-main.ts and trusted-ipc-sender.ts: a message counts only when it comes from the
 * main frame of one of the app's own windows showing the app's own URL.
 */
import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import {
  EVENT_NAMES,
  METHOD_NAMES,
  eventChannel,
  invokeChannel,
  type ApiEvents,
  type EventName,
  type EventSink,
} from '../core/api.ts';
import type { Dispatch } from '../core/app-service/dispatch.ts';

/** The renderer's origin: app://ferry (protocol.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'ferry';
export const APP_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** Node's URL gives "null" as the origin of a non-special scheme, so scheme and host are compared. */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}

export type SenderEvent = Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>;

export function isTrustedSender(event: SenderEvent, trustedIds: ReadonlySet<number>): boolean {
  const frame = event.senderFrame;
  if (!frame || !trustedIds.has(event.sender.id)) return false;
  // Only the top frame: an iframe (there should be none) never speaks for the app.
  if (frame.parent !== null) return false;
  return isAppUrl(frame.url);
}

const FORBIDDEN = {
  ok: false,
  error: { code: 'forbidden', message: 'This request did not come from Ferry.' },
} as const;

/** Registers every method; returns a function that removes them again. */
export function wireIpc(
  ipcMain: Pick<IpcMain, 'handle' | 'removeHandler'>,
  dispatch: Dispatch,
  isTrusted: (event: SenderEvent) => boolean,
): () => void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(invokeChannel(method), async (event, request: unknown) =>
      isTrusted(event) ? dispatch(method, request) : FORBIDDEN,
    );
  }
  return () => {
    for (const method of METHOD_NAMES) ipcMain.removeHandler(invokeChannel(method));
  };
}

/** Sends core events to the app's windows (only those still alive and showing the app). */
export function ipcEventSink(
  windows: () => readonly Pick<WebContents, 'isDestroyed' | 'getURL' | 'send'>[],
): EventSink {
  return <E extends EventName>(event: E, payload: ApiEvents[E]) => {
    if (!EVENT_NAMES.includes(event)) return;
    for (const contents of windows()) {
      if (!contents.isDestroyed() && isAppUrl(contents.getURL())) {
        contents.send(eventChannel(event), payload);
      }
    }
  };
}
