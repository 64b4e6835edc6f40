/**
 * The browser host's transport: the same FerryBridge as Electron's preload, over the host's
 * WebSocket (main/host/server.ts). The page's own address carries the host's per-start key, and
 * the socket lives under it: `ws://127.0.0.1:PORT/<key>/ws`.
 */
import {
  METHOD_NAMES,
  isEventName,
  type ApiResult,
  type FerryBridge,
} from '../../main/core/api.ts';

export function hostSocketUrl(location: Pick<Location, 'href'>): string {
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = '';
  url.hash = '';
  return url.href;
}

const LOST = {
  ok: false,
  error: { code: 'network', message: 'The connection to Ferry was lost.' },
} as const;

export function createWsBridge(url: string, onDisconnect: () => void): FerryBridge {
  const socket = new WebSocket(url);
  const opened = new Promise<boolean>((resolve) => {
    socket.addEventListener('open', () => resolve(true), { once: true });
    socket.addEventListener('close', () => resolve(false), { once: true });
  });
  let nextId = 1;
  const pending = new Map<number, (result: ApiResult<unknown>) => void>();
  const listeners = new Map<string, Set<(payload: unknown) => void>>();

  socket.addEventListener('message', (event: MessageEvent) => {
    let message: { id?: unknown; result?: ApiResult<unknown>; event?: unknown; payload?: unknown };
    try {
      message = JSON.parse(String(event.data)) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id === 'number' && message.result) {
      pending.get(message.id)?.(message.result);
      pending.delete(message.id);
    } else if (isEventName(message.event)) {
      for (const listener of listeners.get(message.event) ?? []) listener(message.payload);
    }
  });
  socket.addEventListener('close', () => {
    for (const resolve of pending.values()) resolve(LOST);
    pending.clear();
    onDisconnect();
  });

  const call = async (method: string, request: unknown): Promise<ApiResult<unknown>> => {
    if (!(await opened) || socket.readyState !== WebSocket.OPEN) return LOST;
    return new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, request }));
    });
  };

  const bridge: Record<string, unknown> = {};
  for (const method of METHOD_NAMES) {
    bridge[method] = (request: unknown) => call(method, request);
  }
  bridge.on = (event: string, listener: (payload: unknown) => void) => {
    let set = listeners.get(event);
    if (!set) {
      set = new Set();
      listeners.set(event, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  };
  return bridge as unknown as FerryBridge;
}
