/**
 * SHA-256 of the bytes sent, computed in the same pass as the send: each chunk is hashed as it is
 * handed to the request body, with no stream stage of its own.
 *
 * Hashing in a worker thread (each chunk copied to it) measured slower than inline hashing on the
 * 2-core bench machine: the copy and the thread compete with the socket and the STOW-RS sink for
 * the same cores. The seam stays so a zero-copy variant can be tried where more cores are free.
 */
import { createHash } from 'node:crypto';

export interface InstanceHash {
  update(chunk: Uint8Array): void;
  /** The hex digest of everything updated; call once, after the last update. */
  digest(): Promise<string>;
  /** Forget it (the instance was not sent in full). */
  abort(): void;
}

export interface Hasher {
  begin(): InstanceHash;
  /** Resolves when the hasher can take more (backpressure); undefined when it can at once. */
  ready(): Promise<void> | undefined;
}

const inline: Hasher = {
  begin() {
    const hash = createHash('sha256');
    return {
      update: (chunk) => void hash.update(chunk),
      digest: () => Promise.resolve(hash.digest('hex')),
      abort: () => undefined,
    };
  },
  ready: () => undefined,
};

/** The hasher uploads use. */
export function sharedHasher(): Hasher {
  return inline;
}
