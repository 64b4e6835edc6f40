/**
 * Encryption at rest for the upload journal and the kept status timelines: AES-256-GCM with a
 * 256-bit key that the app takes from the OS key store (Electron safeStorage) and the CLI from a
 * key file (0600). Each file derives its own key from the master key and a random salt (HKDF).
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, mkdir, open, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FerryError } from '../errors.ts';

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Per-file key: HKDF-SHA256(master, salt, purpose). */
export function deriveKey(master: Buffer, salt: Buffer, purpose: string): Buffer {
  checkKey(master);
  return Buffer.from(hkdfSync('sha256', master, salt, `dicom-ferry ${purpose}`, KEY_BYTES));
}

export function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== KEY_BYTES) {
    throw new FerryError('journal-key', { detail: `the key must be ${KEY_BYTES} bytes` });
  }
}

/** iv (12) | ciphertext | tag (16). */
export function seal(key: Buffer, plaintext: Buffer, aad?: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Throws when the key is wrong or the bytes were changed. */
export function unseal(key: Buffer, sealed: Buffer, aad?: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new Error('sealed record too short');
  const iv = sealed.subarray(0, IV_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  if (aad) decipher.setAAD(aad);
  return Buffer.concat([
    decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)),
    decipher.final(),
  ]);
}

/** A name that says nothing to whoever lists the folder, stable for the same key and inputs. */
export function keyedName(key: Buffer, ...parts: string[]): string {
  return createHmac('sha256', key).update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Ferry's per-user configuration folder (XDG on Linux, Application Support, %APPDATA%). */
export function configDir(): string {
  if (process.env.FERRY_CONFIG_DIR) return path.resolve(process.env.FERRY_CONFIG_DIR);
  const home = os.homedir();
  if (process.platform === 'win32') {
    return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'DICOM Ferry');
  }
  if (process.platform === 'darwin') {
    return path.join(home, 'Library', 'Application Support', 'DICOM Ferry');
  }
  return path.join(process.env.XDG_CONFIG_HOME ?? path.join(home, '.config'), 'dicom-ferry');
}

export function defaultKeyFile(): string {
  return path.join(configDir(), 'journal.key');
}

export function defaultJournalDir(): string {
  return path.join(configDir(), 'uploads');
}

/**
 * The CLI's key: 64 hex digits in a file only the user can read. Created (0600, exclusive) when
 * missing; refused when others may read it.
 */
export async function loadOrCreateKeyFile(file: string): Promise<Buffer> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  try {
    const handle = await open(
      file,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
      0o600,
    );
    try {
      await handle.writeFile(`${randomBytes(KEY_BYTES).toString('hex')}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const handle = await open(file, 'r');
  try {
    const info = await handle.stat();
    if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
      await chmod(file, 0o600);
    }
  } finally {
    await handle.close();
  }
  const text = (await readFile(file, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/i.test(text)) {
    throw new FerryError('journal-key', { detail: 'the key file does not hold 64 hex digits' });
  }
  return Buffer.from(text, 'hex');
}
