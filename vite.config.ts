import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/**
 * The renderer's build: relative asset URLs (base './') so the same files load from Electron's
 * app://ferry/ and from the browser host's /<key>/ path; no inline scripts, so the CSP needs none.
 */
export default defineConfig({
  root: 'renderer',
  base: './',
  plugins: [react()],
  build: {
    outDir: '../dist/renderer',
    emptyOutDir: true,
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'chrome120',
  },
});
