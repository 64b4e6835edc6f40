// Loads the `ferry` command's CommonJS bundle (dist/cli/cli.cjs) with a V8 code cache, so that
// a run starts from the bytecode an earlier run of the same command compiled instead of
// parsing and compiling the bundle again (the cache Node 22 offers as module.enableCompileCache,
// which Node 20 lacks).
//
// - One cache file per bundle build and command, in the user's cache folder (never shared
//   with other users: the folder is made 0700 and each file 0600). It holds compiled code
//   only, no data of any run.
// - A cache is written once, after a run of its command that had none, or whose cache was
//   refused: damaged, made from other source, or by V8 (other flags). V8 checks only versions,
//   flags and the source's length, so each file starts with the SHA-256 of its code and of the
//   source it was made from.
// - Writing is best effort: a read-only or full disk only means the next run compiles again.
const { isAscii } = require('node:buffer');
const {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} = require('node:fs');
const { createRequire } = require('node:module');
const os = require('node:os');
const path = require('node:path');
const vm = require('node:vm');

const digestBytes = 32;

/** Where Ferry keeps its code caches: the platform's per-user cache folder. */
function defaultCacheDir(env = process.env, platform = process.platform) {
  if (env.FERRY_CODE_CACHE_DIR) return env.FERRY_CODE_CACHE_DIR;
  if (platform === 'win32') {
    return path.join(
      env.LOCALAPPDATA || path.join(os.homedir(), 'AppData', 'Local'),
      'DICOM Ferry',
      'code-cache',
    );
  }
  if (platform === 'darwin')
    return path.join(os.homedir(), 'Library', 'Caches', 'DICOM Ferry', 'code-cache');
  return path.join(
    env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'),
    'dicom-ferry',
    'code-cache',
  );
}

function digest(bytes) {
  // Loaded on first use: a run without a cache folder needs no crypto here.
  const { createHash } = require('node:crypto');
  return createHash('sha256').update(bytes).digest();
}

/**
 * The cached code in `file` for the source whose digest is `sourceDigest`: undefined without a
 * cache file, {} for a damaged one or one made from other source. V8 itself compares only the
 * source's length: the cache of an edited bundle of the same length would run the old code.
 */
function readCache(file, sourceDigest) {
  let bytes;
  try {
    bytes = readFileSync(file);
  } catch {
    return undefined;
  }
  if (bytes.length <= 2 * digestBytes) return {};
  // The source first: comparing it costs nothing, hashing the code does.
  if (!sourceDigest.equals(bytes.subarray(digestBytes, 2 * digestBytes))) return {};
  const code = bytes.subarray(2 * digestBytes);
  if (!digest(code).equals(bytes.subarray(0, digestBytes))) return {};
  return { code };
}

/**
 * Compiles and runs the CommonJS file `file`, from the cache `name` of build `build` in
 * `cacheDir` when V8 accepts it. Returns the file's exports, `state()` (what happened to the
 * cache: 'used'; 'absent'; 'refused': damaged, made from other source, or by V8 with other
 * flags; 'off': no cacheDir) and `save()`, which writes the cache when this run could not use one.
 */
function loadWithCodeCache(file, { cacheDir, build, name }) {
  const sourceBytes = readFileSync(file);
  // esbuild writes ASCII (non-ASCII characters escaped): a one-byte string, no UTF-8 decoding.
  const source = sourceBytes.toString(isAscii(sourceBytes) ? 'latin1' : 'utf8');
  // Node's version is in the name: a machine with two of them keeps a cache for each.
  const cacheFile = cacheDir
    ? path.join(cacheDir, `${build}-${name}-${process.version}-${process.arch}.v8cache`)
    : undefined;
  const sourceDigest = cacheFile ? digest(sourceBytes) : undefined;
  const cached = cacheFile ? readCache(cacheFile, sourceDigest) : undefined;
  // The CommonJS wrapper, as Node's own loader writes it.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname) {${source}\n})`,
    {
      filename: file,
      cachedData: cached?.code,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    },
  );
  let state = 'off';
  if (cacheFile) {
    if (cached === undefined) state = 'absent';
    else if (cached.code === undefined || script.cachedDataRejected) state = 'refused';
    else state = 'used';
  }
  const module = { exports: {} };
  script
    .runInThisContext()
    .call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  const save = () => {
    if (!cacheFile || state === 'used') return;
    try {
      writeCache(cacheDir, cacheFile, sourceDigest, script.createCachedData());
      pruneOtherBuilds(cacheDir, `${build}-`);
      state = 'used';
    } catch {
      // Best effort (see above): the next run compiles again.
    }
  };
  return { exports: module.exports, state: () => state, save };
}

/**
 * Makes `dir` and its missing parents (0700). Not mkdirSync's `recursive`, which in Node 20
 * loops for ever where mkdir answers ENOENT for a folder whose parent exists (under /proc).
 */
function makeFolders(dir) {
  const missing = [];
  for (let folder = path.resolve(dir); !existsSync(folder); folder = path.dirname(folder)) {
    missing.push(folder);
    if (path.dirname(folder) === folder) break;
  }
  for (const folder of missing.reverse()) {
    try {
      mkdirSync(folder, { mode: 0o700 });
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
  }
}

/** Writes the cache via a temporary name: a run never reads a half-written file. */
function writeCache(cacheDir, cacheFile, sourceDigest, code) {
  makeFolders(cacheDir);
  const partial = `${cacheFile}.${process.pid}.partial`;
  try {
    writeFileSync(partial, Buffer.concat([digest(code), sourceDigest, code]), { mode: 0o600 });
    renameSync(partial, cacheFile);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

/** Removes the caches of other builds of the bundle, which no run can use again. */
function pruneOtherBuilds(cacheDir, prefix) {
  for (const name of readdirSync(cacheDir)) {
    if (name.endsWith('.v8cache') && !name.startsWith(prefix)) {
      rmSync(path.join(cacheDir, name), { force: true });
    }
  }
}

module.exports = { defaultCacheDir, loadWithCodeCache };
