// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Layering, enforced: each folder may only import in the direction data flows (ARCHITECTURE.md). */
const electronBan = {
  name: 'electron',
  message: 'main/core is plain Node: Electron-only pieces are handed in by main/app.',
};

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', 'out/**', 'coverage/**', 'test-results/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['main/core/**', 'main/cli.ts', 'portal/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [electronBan], patterns: ['**/app/**'] }],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The renderer talks only through api.ts.' }],
          patterns: [
            { group: ['node:*'], message: 'The renderer has no Node.' },
            {
              group: ['**/main/core/*', '!**/main/core/api*'],
              message: 'Only the api.ts contract.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['preload/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/main/core/*', '!**/main/core/api*'],
              message: 'The preload exposes the api.ts contract and nothing else.',
            },
          ],
        },
      ],
    },
  },
  // The core never reaches up into the shells that carry it (Electron, browser host, UI).
  {
    files: ['main/core/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [electronBan],
          patterns: [
            {
              group: ['**/app/**', '**/host/**'],
              message: 'main/core is carried by the shells, not the reverse.',
            },
            { group: ['**/renderer/**'], message: 'main/core never imports the UI.' },
          ],
        },
      ],
    },
  },
  // The bridge (GitHub Desktop's rule): IPC only in the wiring files, so every channel is api.ts.
  {
    files: ['main/app/**'],
    ignores: ['main/app/ipc.ts', 'main/app/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcMain', 'ipcRenderer'],
              message: 'IPC is wired in main/app/ipc.ts from api.ts only.',
            },
          ],
          patterns: [{ group: ['**/renderer/**'], message: 'main never imports the UI.' }],
        },
      ],
    },
  },
  {
    files: ['main/app/ipc.ts', 'main/app/main.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              importNames: ['ipcRenderer'],
              message: 'ipcRenderer belongs to the preload.',
            },
          ],
          patterns: [{ group: ['**/renderer/**'], message: 'main never imports the UI.' }],
        },
      ],
    },
  },
  {
    // The browser host is plain Node: the same core service, a WebSocket instead of IPC.
    files: ['main/host/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'The browser host runs without Electron.' }],
          patterns: [{ group: ['**/renderer/**', '**/app/**'], message: 'Only main/core.' }],
        },
      ],
    },
  },
  {
    files: ['preload/**', 'renderer/**', 'main/core/**', 'main/host/**', 'portal/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
        {
          selector:
            "ImportDeclaration[source.value='electron'] ImportSpecifier[imported.name='ipcMain']",
          message: 'ipcMain is wired in main/app/ipc.ts only.',
        },
      ],
    },
  },
  {
    files: ['vitest.config.ts', 'vite.config.ts', 'eslint.config.js'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // CommonJS on purpose (bin/ferry.cjs says why): require is how it imports.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
