/**
 * The renderer's entry: picks the transport (Electron's preload put window.ferry there; in the
 * browser host it is the WebSocket under the page's own address), then renders the flow.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { FerryBridge } from '../main/core/api.ts';
import { setBridge } from './api-client.ts';
import { App } from './app.tsx';
import { actions, store } from './app-state.ts';
import { initialLocale, setLocale } from './i18n/index.ts';
import { createWsBridge, hostSocketUrl } from './transport/ws-bridge.ts';
import './styles.css';

declare global {
  interface Window {
    ferry?: FerryBridge;
  }
}

setLocale(initialLocale(navigator.language || 'en'));
setBridge(
  window.ferry ??
    createWsBridge(hostSocketUrl(window.location), () => store.setState({ disconnected: true })),
);
void actions.init().catch(() => store.setState({ disconnected: true }));

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
