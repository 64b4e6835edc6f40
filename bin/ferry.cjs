#!/usr/bin/env node
// The `ferry` command. Runs the bundle from `npm run build:cli` (dist/cli/cli.cjs) when it was
// built after the last change to every file it was built from: start-up then compiles no
// TypeScript, and with a code cache from an earlier run of the same command (code-cache.cjs)
// compiles almost nothing. Otherwise (a fresh clone, sources edited since the build, or
// FERRY_FROM_SOURCE=1) runs main/cli.ts through tsx, so the CLI needs no build step and never
// runs stale code. CommonJS, as code-cache.cjs is: an ES module entry starts Node's ES module
// loader first, about 10 ms of every run.
const { readFileSync, statSync } = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
// FERRY_CLI_BUNDLE names another bundle folder (the tests use it).
const bundleDir = path.resolve(root, process.env.FERRY_CLI_BUNDLE || path.join('dist', 'cli'));

/** The build time of dist/cli when it holds a bundle of the sources as they are now. */
function currentBuild() {
  if (process.env.FERRY_FROM_SOURCE === '1') return undefined;
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(bundleDir, 'sources.json'), 'utf8'));
  } catch {
    return undefined; // never built, or a build that did not finish
  }
  if (typeof manifest.builtAt !== 'number' || !Array.isArray(manifest.sources)) return undefined;
  for (const source of manifest.sources) {
    // A source that is absent (an installed copy without the TypeScript) cannot be newer.
    const info = statSync(path.join(root, source), { throwIfNoEntry: false });
    if (info && info.mtimeMs > manifest.builtAt) return undefined;
  }
  return manifest.builtAt;
}

async function run() {
  const args = process.argv.slice(2);
  const build = currentBuild();
  if (build !== undefined) {
    const { defaultCacheDir, loadWithCodeCache } = require('./code-cache.cjs');
    // A cache per command (main/cli.ts's), each holding the code its command ran; one for the rest.
    const commands = ['scan', 'preview', 'validate', 'upload', 'status', 'deidentify'];
    const command = commands.includes(args[0]) ? args[0] : 'other';
    const bundle = loadWithCodeCache(path.join(bundleDir, 'cli.cjs'), {
      cacheDir: defaultCacheDir(),
      build: `cli-${build}`,
      name: command,
    });
    process.exitCode = await bundle.exports.main(args);
    bundle.save();
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    const cli = await import('../main/cli.ts');
    process.exitCode = await cli.main(args);
  }
  // The command is done: exit once stdout and stderr have flushed, rather than wait for whatever
  // a library left open and for V8's background work to wind down (about 8 ms). Commands finish
  // their own writes before they return (the upload waits for its journal).
  process.stdout.write('', () => process.stderr.write('', () => process.exit()));
}

void run();
