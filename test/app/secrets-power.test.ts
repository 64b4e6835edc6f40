import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { powerSaveKeepAwake } from '../../main/app/power.ts';
import { safeStorageSecretStore } from '../../main/app/secrets.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A reversible stand-in for the OS keychain's encryption. */
function fakeSafeStorage(backend = 'gnome_libsecret', available = true) {
  return {
    isEncryptionAvailable: () => available,
    getSelectedStorageBackend: () => backend,
    encryptString: (text: string) => Buffer.from([...Buffer.from(text)].map((b) => b ^ 0x5a)),
    decryptString: (sealed: Buffer) => Buffer.from([...sealed].map((b) => b ^ 0x5a)).toString(),
  };
}

describe('the link kept with safeStorage (main/app/secrets.ts)', () => {
  it('keeps the link encrypted on disk and reads it back in a new store', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-secrets-'));
    dirs.push(dir);
    const file = path.join(dir, 'secrets.json');
    const link = `https://portal.example/u/${'T'.repeat(43)}`;
    const store = safeStorageSecretStore(fakeSafeStorage(), file, 'linux');
    expect(store.persistent).toBe(true);
    await store.set('upload-link', link);
    expect(await readFile(file, 'utf8')).not.toContain('TTTT');
    const again = safeStorageSecretStore(fakeSafeStorage(), file, 'linux');
    expect(await again.get('upload-link')).toBe(link);
    await again.delete('upload-link');
    expect(await again.get('upload-link')).toBeUndefined();
  });

  it('keeps nothing on disk where safeStorage would only obfuscate', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'ferry-secrets-'));
    dirs.push(dir);
    for (const safeStorage of [fakeSafeStorage('basic_text'), fakeSafeStorage('x', false)]) {
      const store = safeStorageSecretStore(safeStorage, path.join(dir, 'secrets.json'), 'linux');
      expect(store.persistent).toBe(false);
      await store.set('upload-link', 'x');
      expect(await store.get('upload-link')).toBe('x');
      await expect(readFile(path.join(dir, 'secrets.json'))).rejects.toThrow();
    }
  });
});

describe('keeping the computer awake (main/app/power.ts)', () => {
  it('starts one blocker during an upload and stops it after', () => {
    const started = new Set<number>();
    let next = 1;
    const blocker = {
      start: vi.fn(() => {
        started.add(next);
        return next++;
      }),
      stop: vi.fn((id: number) => started.delete(id)),
      isStarted: (id: number) => started.has(id),
    };
    const keepAwake = powerSaveKeepAwake(blocker);
    keepAwake.start();
    keepAwake.start();
    expect(blocker.start).toHaveBeenCalledTimes(1);
    expect(blocker.start).toHaveBeenCalledWith('prevent-app-suspension');
    keepAwake.stop();
    keepAwake.stop();
    expect(blocker.stop).toHaveBeenCalledTimes(1);
    expect(started.size).toBe(0);
  });
});
