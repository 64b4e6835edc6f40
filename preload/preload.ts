/**
 * The preload: runs sandboxed with context isolation and exposes api.ts as window.ferry, nothing
 * else. Built to one CommonJS file (npm run build:preload) as sandboxed preloads require.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { exposeBridge } from './bridge.ts';

exposeBridge(contextBridge, ipcRenderer, (file) => webUtils.getPathForFile(file as File));
