/**
 * The upload link's token, kept between launches with Electron's safeStorage (the OS keychain:
 * Keychain, DPAPI, libsecret/kwallet). Where safeStorage would only obfuscate (Linux without a
 * keyring: the "basic_text" backend) nothing is written and the link lives in memory only.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SafeStorage } from 'electron';
import { memorySecretStore, type SecretStore } from '../core/app-service/engines.ts';

export type SafeStorageLike = Pick<
  SafeStorage,
  'isEncryptionAvailable' | 'encryptString' | 'decryptString'
> & { getSelectedStorageBackend?: () => string };

export function canPersistSecrets(safeStorage: SafeStorageLike, platform: string): boolean {
  if (!safeStorage.isEncryptionAvailable()) return false;
  if (platform === 'linux') {
    const backend = safeStorage.getSelectedStorageBackend?.() ?? 'unknown';
    return backend !== 'basic_text' && backend !== 'unknown';
  }
  return true;
}

export function safeStorageSecretStore(
  safeStorage: SafeStorageLike,
  file: string,
  platform: string = process.platform,
): SecretStore {
  if (!canPersistSecrets(safeStorage, platform)) return memorySecretStore();
  const read = async (): Promise<Record<string, string>> => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
    } catch {
      return {};
    }
  };
  const write = async (values: Record<string, string>): Promise<void> => {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    const temp = `${file}.tmp`;
    await writeFile(temp, JSON.stringify(values), { mode: 0o600 });
    await rename(temp, file);
  };
  return {
    persistent: true,
    async get(name) {
      const sealed = (await read())[name];
      if (sealed === undefined) return undefined;
      try {
        return safeStorage.decryptString(Buffer.from(sealed, 'base64'));
      } catch {
        return undefined; // another user's or another machine's keychain: forget it
      }
    },
    async set(name, value) {
      const values = await read();
      values[name] = safeStorage.encryptString(value).toString('base64');
      await write(values);
    },
    async delete(name) {
      const values = await read();
      delete values[name];
      if (Object.keys(values).length === 0) await rm(file, { force: true });
      else await write(values);
    },
  };
}
