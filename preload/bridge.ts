/**
 * The bridge the preload exposes as window.ferry: one function per api.ts method, `on` for its
 * events, and the dropped-file path helper, derived from the contract's name lists so nothing
 * else can be reached. The IPC event object never reaches the page (it would hand over
 * ipcRenderer itself).
 */
import type { ContextBridge, IpcRenderer, IpcRendererEvent } from 'electron';
import {
  BRIDGE_GLOBAL,
  METHOD_NAMES,
  eventChannel,
  invokeChannel,
  isEventName,
  type ApiResult,
  type FerryBridge,
} from '../main/core/api.ts';

export type BridgeIpc = Pick<IpcRenderer, 'invoke' | 'on' | 'removeListener'>;

export function buildBridge(ipc: BridgeIpc, pathForFile?: (file: unknown) => string): FerryBridge {
  const bridge: Record<string, unknown> = {};
  for (const method of METHOD_NAMES) {
    bridge[method] = (request: unknown) =>
      ipc.invoke(invokeChannel(method), request) as Promise<ApiResult<unknown>>;
  }
  bridge.on = (event: unknown, listener: unknown): (() => void) => {
    if (!isEventName(event) || typeof listener !== 'function') return () => {};
    const channel = eventChannel(event);
    const forward = (_event: IpcRendererEvent, payload: unknown): void => {
      (listener as (payload: unknown) => void)(payload);
    };
    ipc.on(channel, forward);
    return () => {
      ipc.removeListener(channel, forward);
    };
  };
  if (pathForFile) bridge.pathForFile = (file: unknown) => pathForFile(file);
  return Object.freeze(bridge) as unknown as FerryBridge;
}

export function exposeBridge(
  contextBridge: Pick<ContextBridge, 'exposeInMainWorld'>,
  ipc: BridgeIpc,
  pathForFile?: (file: unknown) => string,
): void {
  contextBridge.exposeInMainWorld(BRIDGE_GLOBAL, buildBridge(ipc, pathForFile));
}
