import { createHmac } from 'node:crypto';

/**
 * UID replacement (PS3.15 E.1.1 "U"): HMAC-SHA-256 of the original UID under the transfer's
 * key, its first 128 bits as a decimal integer under the 2.25 arc (PS3.5 B.2, ISO/IEC 9834-8).
 * The same key gives the same UID for the same original in every instance and every run, so
 * references inside sequences (presentation states, SRs, referenced images) stay consistent;
 * without the key the original cannot be recovered or tested.
 */
export class UidRemapper {
  private readonly key: Uint8Array;
  private readonly cache = new Map<string, string>();

  constructor(key: Uint8Array) {
    if (key.length < 16) throw new Error('the UID key must have at least 16 bytes');
    this.key = key;
  }

  remap(uid: string): string {
    const trimmed = uid.replace(/[\0 ]+$/u, '').trim();
    if (trimmed === '') return '';
    const cached = this.cache.get(trimmed);
    if (cached) return cached;
    const digest = createHmac('sha256', this.key).update(`uid\0${trimmed}`).digest();
    const value = BigInt(`0x${digest.subarray(0, 16).toString('hex')}`);
    const mapped = `2.25.${value.toString(10)}`;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(trimmed, mapped);
    return mapped;
  }

  /** A backslash-separated UI value, each UID replaced. */
  remapValue(value: string): string {
    return value
      .split('\\')
      .map((uid) => this.remap(uid))
      .join('\\');
  }

  /** A number in [0, modulo) derived from the key and a label: per-patient date offsets. */
  derive(label: string, modulo: number): number {
    const cacheKey = `derive\0${modulo}\0${label}`;
    const cached = this.cache.get(cacheKey);
    if (cached !== undefined) return Number(cached);
    const digest = createHmac('sha256', this.key).update(`derive\0${label}`).digest();
    const derived = digest.readUInt32BE(0) % modulo;
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(cacheKey, String(derived));
    return derived;
  }
}

const remappers = new WeakMap<Uint8Array, UidRemapper>();

/**
 * The remapper of a key, shared by every instance de-identified under the same key object: the
 * study, series, frame of reference and patient date offset are computed once per run, not once
 * per instance. The mapping depends only on the key's bytes, which are never changed in place.
 */
export function remapperFor(key: Uint8Array): UidRemapper {
  let remapper = remappers.get(key);
  if (!remapper) {
    remapper = new UidRemapper(key);
    remappers.set(key, remapper);
  }
  return remapper;
}
