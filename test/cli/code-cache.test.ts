/**
 * bin/code-cache.cjs: the `ferry` bundle runs the same with or without a code cache; a cache is
 * written once per build and command, used by the next run, refused when damaged or made for
 * other code, and its writing never fails a run.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { defaultCacheDir, loadWithCodeCache } from '../../bin/code-cache.cjs';

const work = mkdtempSync(path.join(tmpdir(), 'ferry-code-cache-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

// A CommonJS file with enough code for V8 to cache, that uses require and its own file name.
const source = `
const path = require('node:path');
function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
exports.answer = (n) => ({ fib: fib(n), file: path.basename(__filename), self: module.exports === exports });
`;
const file = path.join(work, 'bundle.cjs');
writeFileSync(file, source);

function load(cacheDir: string | undefined, build = 'cli-1', name = 'scan') {
  const loaded = loadWithCodeCache(file, { cacheDir, build, name });
  expect((loaded.exports as { answer: (n: number) => unknown }).answer(10)).toEqual({
    fib: 55,
    file: 'bundle.cjs',
    self: true,
  });
  return loaded;
}

describe('code cache', () => {
  it('is written after a run that had none, then used; one file per build and command', () => {
    const cacheDir = path.join(work, 'one', 'deeper');
    const first = load(cacheDir);
    expect(first.state()).toBe('absent');
    first.save();
    expect(first.state()).toBe('used');
    const [name] = readdirSync(cacheDir);
    expect(name).toBe(`cli-1-scan-${process.version}-${process.arch}.v8cache`);
    expect(statSync(path.join(cacheDir, name!)).mode & 0o777).toBe(0o600);
    expect(statSync(cacheDir).mode & 0o777).toBe(0o700);

    const second = load(cacheDir);
    expect(second.state()).toBe('used');
    const written = readFileSync(path.join(cacheDir, name!));
    second.save(); // a run that used the cache does not write it again
    expect(readFileSync(path.join(cacheDir, name!))).toEqual(written);

    // Another command has its own cache; a new build removes the old build's caches.
    load(cacheDir, 'cli-1', 'deidentify').save();
    expect(readdirSync(cacheDir)).toHaveLength(2);
    load(cacheDir, 'cli-2', 'scan').save();
    expect(readdirSync(cacheDir)).toEqual([
      `cli-2-scan-${process.version}-${process.arch}.v8cache`,
    ]);
  });

  it('refuses a damaged cache or one made for other code, runs, and writes a good one', () => {
    const cacheDir = path.join(work, 'two');
    load(cacheDir).save();
    const cacheFile = path.join(cacheDir, readdirSync(cacheDir)[0]!);
    const good = readFileSync(cacheFile);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 10]! ^= 0xff; // checksum no longer matches
    writeFileSync(cacheFile, flipped);
    const damaged = load(cacheDir);
    expect(damaged.state()).toBe('refused');
    damaged.save();
    expect(load(cacheDir).state()).toBe('used');

    writeFileSync(cacheFile, good.subarray(0, 20)); // shorter than its checksum
    expect(load(cacheDir).state()).toBe('refused');

    // The cache of an edited bundle of the same length: V8 alone would run the old code.
    writeFileSync(cacheFile, good);
    expect(load(cacheDir).state()).toBe('used');
    writeFileSync(file, source.replace('n - 2', 'n - 3'));
    try {
      const edited = loadWithCodeCache(file, { cacheDir, build: 'cli-1', name: 'scan' });
      expect(edited.state()).toBe('refused');
      // The edited code ran: fib(n - 1) + fib(n - 3) of 10 is 6, not 55.
      expect((edited.exports as { answer: (n: number) => { fib: number } }).answer(10).fib).toBe(6);
    } finally {
      writeFileSync(file, source);
    }
  });

  it('never fails a run: no folder, a folder it cannot write, or a path under /proc', () => {
    expect(load(undefined).state()).toBe('off');
    // A file where the folder should be (a folder without write permission does not stop
    // root, who runs the tests in CI).
    const blocked = path.join(work, 'blocked');
    writeFileSync(blocked, '');
    const cannotWrite = load(path.join(blocked, 'cache'));
    cannotWrite.save();
    expect(cannotWrite.state()).toBe('absent');
    // mkdir's recursive option loops for ever here (Node 20); the cache gives up instead.
    const procFolder = load('/proc/ferry-no-such-folder/cache');
    procFolder.save();
    expect(procFolder.state()).toBe('absent');
  });

  it('reads a bundle with characters beyond ASCII as UTF-8', () => {
    const utf8File = path.join(work, 'utf8.cjs');
    writeFileSync(utf8File, "exports.word = 'señal ✓';\n");
    const cacheDir = path.join(work, 'utf8-cache');
    for (let run = 0; run < 2; run++) {
      const loaded = loadWithCodeCache(utf8File, { cacheDir, build: 'cli-1', name: 'scan' });
      expect((loaded.exports as { word: string }).word).toBe('señal ✓');
      loaded.save();
    }
  });

  it('lives in the per-user cache folder of each platform, or FERRY_CODE_CACHE_DIR', () => {
    expect(defaultCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux')).toBe(
      path.join('/x/cache', 'dicom-ferry', 'code-cache'),
    );
    expect(defaultCacheDir({ LOCALAPPDATA: 'C:\\Users\\a\\AppData\\Local' }, 'win32')).toBe(
      path.join('C:\\Users\\a\\AppData\\Local', 'DICOM Ferry', 'code-cache'),
    );
    expect(defaultCacheDir({}, 'darwin')).toMatch(/Library.Caches.DICOM Ferry.code-cache$/u);
    expect(defaultCacheDir({ FERRY_CODE_CACHE_DIR: '/elsewhere' }, 'linux')).toBe('/elsewhere');
  });
});
