// `npm run build:main`: bundles the Electron main process (main/app/main.ts) into dist/main/app/,
// and beside it the render worker as render-worker.js: the render pool starts its workers from
// there (new URL('./render-worker.js', import.meta.url) in main/core/imaging/render-pool.ts), so
// a build without it renders no image at all. Packages stay external (node_modules ships with
// the app; the codecs find their .wasm files beside their loaders).
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { build, type BuildOptions } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The entry points and options of the main-process build (the tests build with them too). */
export const mainEntryPoints: Readonly<Record<string, string>> = {
  main: 'main/app/main.ts',
  'render-worker': 'main/core/imaging/render-worker.ts',
};

export const mainBuildOptions: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['electron'],
  packages: 'external',
  logLevel: 'warning',
};

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // --outdir DIR builds elsewhere.
  const { values } = parseArgs({ options: { outdir: { type: 'string' } } });
  const outdir = path.resolve(root, values.outdir ?? path.join('dist', 'main', 'app'));
  await build({ ...mainBuildOptions, entryPoints: mainEntryPoints, outdir });
  process.stdout.write(`main process bundled into ${path.relative(root, outdir)}/\n`);
}
