/**
 * bin/ferry.cjs runs the prebuilt bundle (npm run build:cli) only while it is current, and the
 * TypeScript through tsx otherwise; the real bundle gives the same results as the sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { image, part10, text } from '../core/deid/planted.ts';
import { makeMedia } from '../support/make-media.ts';

const repo = path.resolve(import.meta.dirname, '..', '..');
const ferry = path.join(repo, 'bin', 'ferry.cjs');
// Under the repository (dist/ is ignored by git): the bundle finds node_modules from there.
const scratch = path.join(repo, 'dist', `cli-test-${process.pid}`);
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(command: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, command, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('bin/ferry.cjs', () => {
  it('runs a current bundle, and the sources when there is none or one is newer', () => {
    const fake = path.join(scratch, 'fake');
    mkdirSync(fake, { recursive: true });
    const source = path.join(fake, 'source.ts');
    writeFileSync(source, '');
    const past = Date.now() / 1000 - 60;
    utimesSync(source, past, past);
    writeFileSync(
      path.join(fake, 'cli.cjs'),
      "exports.main = async (args) => { process.stdout.write(`bundle ${args.join(' ')}`); return 3; };\n",
    );
    writeFileSync(
      path.join(fake, 'sources.json'),
      JSON.stringify({ builtAt: Date.now(), sources: [path.relative(repo, source)] }),
    );
    const env = { FERRY_CLI_BUNDLE: fake, FERRY_CODE_CACHE_DIR: path.join(scratch, 'fake-cache') };

    expect(run([ferry, '--help'], env)).toMatchObject({ status: 3, stdout: 'bundle --help' });
    const forced = run([ferry, '--help'], { ...env, FERRY_FROM_SOURCE: '1' });
    expect(forced.status).toBe(0);
    expect(forced.stdout).toContain('Usage: ferry <command>');

    const future = Date.now() / 1000 + 60;
    utimesSync(source, future, future);
    const stale = run([ferry, '--help'], env);
    expect(stale.status).toBe(0);
    expect(stale.stdout).toContain('Usage: ferry <command>');

    const none = run([ferry, '--help'], { FERRY_CLI_BUNDLE: path.join(scratch, 'none') });
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('Usage: ferry <command>');
  }, 60_000);

  it('the bundle prints the same help and writes the same files as the sources', async () => {
    const bundle = path.join(scratch, 'bundle');
    execFileSync(process.execPath, [
      path.join(repo, 'scripts', 'build-cli.js'),
      '--outdir',
      bundle,
    ]);
    const manifest = JSON.parse(readFileSync(path.join(bundle, 'sources.json'), 'utf8')) as {
      builtAt: number;
      sources: string[];
    };
    expect(manifest.sources).toEqual(
      expect.arrayContaining(['main/cli.ts', 'main/commands/deidentify.ts', 'package.json']),
    );
    expect(manifest.sources.some((source) => source.startsWith('node_modules/'))).toBe(false);
    // The bundle itself, not bin/ferry.cjs's choice (which depends on the sources' times).
    const entry = path.join(bundle, 'cli.cjs');
    const runner = `require(${JSON.stringify(entry)}).main(process.argv.slice(1)).then((code) => { process.exitCode = code; });`;
    const viaBundle = (...args: string[]) => run(['-e', runner, '--', ...args]);
    const viaSources = (...args: string[]) => run([ferry, ...args], { FERRY_FROM_SOURCE: '1' });

    expect(viaBundle('--help')).toEqual(viaSources('--help'));

    const media = await makeMedia({
      outDir: path.join(scratch, 'disc'),
      patients: 1,
      studiesPerPatient: 1,
      seriesPerStudy: 2,
      instancesPerSeries: 2,
      modalities: ['CT', 'MR'],
      withDicomdir: false,
      seed: 21,
    });
    const key = path.join(scratch, 'key');
    writeFileSync(key, Buffer.alloc(32, 9));
    const outputs = [path.join(scratch, 'out-bundle'), path.join(scratch, 'out-sources')];
    expect(
      viaBundle('deidentify', media.root, '--out', outputs[0]!, '--key-file', key).status,
    ).toBe(0);
    expect(
      viaSources('deidentify', media.root, '--out', outputs[1]!, '--key-file', key).status,
    ).toBe(0);
    const [fromBundle, fromSources] = outputs.map((out) =>
      readdirSync(out, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => {
          const file = path.join(entry.parentPath, entry.name);
          const text = readFileSync(file, 'latin1');
          return [
            path.relative(out, file),
            // The report carries its own run time.
            entry.name.endsWith('.json') ? text.replace(/"seconds": [\d.]+/u, '') : text,
          ];
        })
        .sort(),
    );
    expect(fromBundle).toHaveLength(media.totalInstances + 1);
    expect(fromBundle).toEqual(fromSources);
  }, 120_000);

  it('bin/ferry.cjs runs the bundle from a code cache the first run writes', () => {
    const bundle = path.join(scratch, 'cached');
    execFileSync(process.execPath, [
      path.join(repo, 'scripts', 'build-cli.js'),
      '--outdir',
      bundle,
    ]);
    const cacheDir = path.join(scratch, 'code-cache');
    const env = { FERRY_CLI_BUNDLE: bundle, FERRY_CODE_CACHE_DIR: cacheDir };
    const first = run([ferry, '--help'], env);
    expect(first).toMatchObject({ status: 0, stderr: '' });
    expect(first.stdout).toContain('Usage: ferry <command>');
    const written = readdirSync(cacheDir);
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^cli-\d+-other-v[\d.]+-\w+\.v8cache$/u);
    const cacheFile = path.join(cacheDir, written[0]!);
    const cached = readFileSync(cacheFile);
    expect(run([ferry, '--help'], env)).toEqual(first);
    expect(readFileSync(cacheFile)).toEqual(cached); // used, not written again
    // A cache in a folder that cannot be made: the run is the same.
    writeFileSync(path.join(scratch, 'not-a-folder'), '');
    const blocked = run([ferry, '--help'], {
      ...env,
      FERRY_CODE_CACHE_DIR: path.join(scratch, 'not-a-folder', 'cache'),
    });
    expect(blocked).toEqual(first);

    // The caches hold compiled code only: nothing of the images a run read.
    const disc = path.join(scratch, 'cache-disc');
    mkdirSync(disc, { recursive: true });
    const marker = 'CACHEMARKER^PATIENT';
    const elements = image(8, 8).map((element) =>
      element.tag === 0x00100010 ? text(0x00100010, 'PN', marker) : element,
    );
    writeFileSync(path.join(disc, 'one.dcm'), part10(elements));
    const key = path.join(scratch, 'cache-key');
    writeFileSync(key, Buffer.alloc(32, 5));
    for (const args of [
      [
        'deidentify',
        disc,
        '--out',
        path.join(scratch, 'cache-out'),
        '--key-file',
        key,
        '--confirm-burned-in',
      ],
      ['scan', disc],
    ]) {
      expect(run([ferry, ...args], env).status).toBe(0);
    }
    // Strings of the code itself are stored as plain bytes: the search below would find one.
    expect(cached.includes(Buffer.from('Usage: ferry <command>'))).toBe(true);
    const caches = readdirSync(cacheDir).filter((name) => /-(deidentify|scan)-/u.test(name));
    expect(caches).toHaveLength(2);
    for (const name of caches) {
      const bytes = readFileSync(path.join(cacheDir, name));
      expect(bytes.includes(Buffer.from('CACHEMARKER'))).toBe(false);
      expect(bytes.includes(Buffer.from('CACHEMARKER', 'utf16le'))).toBe(false);
    }
  }, 60_000);
});
