#!/usr/bin/env node
// `npm run build:cli`: bundles the `ferry` command (main/cli.ts) with esbuild into
// dist/cli/cli.cjs, so the command starts without compiling TypeScript. CommonJS in one file:
// bin/ferry.cjs runs it from a V8 code cache (bin/code-cache.cjs), which Node 20 offers for
// scripts but not for ES modules; each command's modules still initialise only when it runs.
// A small pure-JavaScript package (yauzl) is bundled: loading it from node_modules costs more
// than the code itself. iconv-lite is not: it is loaded on first use (dicom/charset.ts), since
// most runs never need its tables. The rest stay external: the codecs find their .wasm files
// beside their loaders, and the HTTP and mail packages load only for the commands that use
// them. dist/cli/sources.json lists the files the bundle was built from and when the build
// started; bin/ferry.cjs runs the bundle only while none of them has changed since.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --outdir DIR builds elsewhere (the tests do, so they never replace the bundle in use).
const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
const outdir = path.resolve(root, values.outdir ?? path.join('dist', 'cli'));

// Taken before reading any source: a file saved during the build counts as newer than it.
const builtAt = Date.now();
const bundled = new Set(['yauzl']);
const manifest = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
const external = [
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.devDependencies ?? {}),
].filter((name) => !bundled.has(name));
await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { cli: 'main/cli.ts' },
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external,
  // import.meta.url (createRequire, the codecs' .wasm files) as the bundle's own URL.
  define: { 'import.meta.url': 'ferryBundleUrl' },
  banner: { js: "var ferryBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  outExtension: { '.js': '.cjs' },
  outdir,
  metafile: true,
  logLevel: 'warning',
});
// Sources only: a bundled package changes with package.json, which is listed too.
const sources = [
  'package.json',
  ...Object.keys(result.metafile.inputs).filter((input) => !input.startsWith('node_modules/')),
].sort();
await writeFile(
  path.join(outdir, 'sources.json'),
  `${JSON.stringify({ builtAt, sources }, null, 2)}\n`,
);
process.stdout.write(
  `ferry CLI bundled into ${path.relative(root, outdir)}/ from ${sources.length} files\n`,
);
