#!/usr/bin/env node
// The `ferry` command. Runs the bundle from `npm run build:cli` (dist/cli/cli.js) when it was
// built after the last change to every file it was built from: start-up then compiles no
// TypeScript. Otherwise (a fresh clone, sources edited since the build, or FERRY_FROM_SOURCE=1)
// runs main/cli.ts through tsx, so the CLI needs no build step and never runs stale code.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// FERRY_CLI_BUNDLE names another bundle folder (the tests use it).
const bundleDir = path.resolve(root, process.env.FERRY_CLI_BUNDLE || path.join('dist', 'cli'));

/** True when dist/cli holds a bundle built from the sources as they are now. */
function bundleIsCurrent() {
  if (process.env.FERRY_FROM_SOURCE === '1') return false;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(bundleDir, 'sources.json'), 'utf8'));
  } catch {
    return false; // never built, or a build that did not finish
  }
  if (typeof manifest.builtAt !== 'number' || !Array.isArray(manifest.sources)) return false;
  for (const source of manifest.sources) {
    // A source that is absent (an installed copy without the TypeScript) cannot be newer.
    const info = statSync(path.join(root, source), { throwIfNoEntry: false });
    if (info && info.mtimeMs > manifest.builtAt) return false;
  }
  return true;
}

let cli;
if (bundleIsCurrent()) {
  cli = await import(pathToFileURL(path.join(bundleDir, 'cli.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../main/cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
