/**
 * The main-process build (`npm run build:main`, scripts/build-main.ts) ships the render worker
 * beside the bundle: the render pool starts its workers from `./render-worker.js` next to the
 * code that runs it, so a bundle without that file renders no image (every preview came back
 * "the render worker stopped"). Built here with the build's own entry points and options, into
 * a folder under node_modules (so the external packages resolve as they do in the app), a
 * bundled caller renders pydicom's CT through the pool.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

import { mainBuildOptions, mainEntryPoints } from '../../scripts/build-main.ts';
import { missingPydicom, pydicomTestFiles, skipFor } from '../support/tools.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../..');
const cacheDir = path.join(repoRoot, 'node_modules', '.cache');
let work: string | undefined;

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('main-process build', () => {
  it('puts render-worker.js beside main.js', () => {
    expect(mainEntryPoints).toEqual({
      main: 'main/app/main.ts',
      'render-worker': 'main/core/imaging/render-worker.ts',
    });
  });

  it('renders through the render pool from the bundle', async (context) => {
    if (skipFor(missingPydicom())) return context.skip();
    await mkdir(cacheDir, { recursive: true });
    work = await mkdtemp(path.join(cacheDir, 'ferry-main-build-'));
    const caller = path.join(work, 'caller.ts');
    const pool = path.join(repoRoot, 'main/core/imaging/render-pool.ts');
    await writeFile(
      caller,
      [
        `import { closeRenderPool, renderInWorker } from ${JSON.stringify(pool)};`,
        'const result = await renderInWorker({ path: process.argv[2] });',
        "process.stdout.write(JSON.stringify({ kind: result.kind, ...('reason' in result ? { reason: result.reason } : {}) }));",
        'await closeRenderPool();',
      ].join('\n'),
    );
    const outdir = path.join(work, 'out');
    await build({
      ...mainBuildOptions,
      entryPoints: { main: caller, 'render-worker': mainEntryPoints['render-worker']! },
      outdir,
    });
    expect(existsSync(path.join(outdir, 'render-worker.js'))).toBe(true);
    const { stdout } = await execFileAsync(
      process.execPath,
      [path.join(outdir, 'main.js'), path.join(pydicomTestFiles(), 'CT_small.dcm')],
      { timeout: 60_000 },
    );
    expect(JSON.parse(stdout)).toEqual({ kind: 'rendered' });
  });
});
