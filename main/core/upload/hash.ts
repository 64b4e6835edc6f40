/**
 * SHA-256 of the bytes sent, off the main thread: one hashing thread for the process, fed the
 * chunks of each instance in the order they went out.
 *
 * A file is read into slots of memory shared with the thread (the chunk pool below): once the
 * socket has taken a chunk, the thread hashes the same bytes and the slot is read into again: no
 * copy, no allocation, no garbage per chunk. Another chunk the source owns outright (nothing else
 * holds its ArrayBuffer) moves to the thread without a copy (postMessage transfer list); any other
 * chunk is copied first, since its memory may be shared (a slice of a pool, a buffer a
 * de-identifier keeps). The main thread then only reads files and writes
 * sockets; the hashing (about 1 s per GiB on the bench machine) runs beside it.
 *
 * If the thread cannot start or dies, every unfinished digest rejects: the caller leaves those
 * instances out of the journal's `sent` records rather than record a wrong hash.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

export interface InstanceHash {
  /**
   * Adds the next chunk. With `owned`, the chunk's memory is handed over: the caller must not
   * read or write it afterwards (it is detached when it moves to the hashing thread).
   */
  update(chunk: Uint8Array, owned?: boolean): void;
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

/**
 * Main thread -> hashing thread. A chunk is either a slot of the shared pool (no copy, nothing
 * moves) or a buffer that moved here (`length` bytes at its start).
 */
type HashRequest =
  | { readonly kind: 'update'; readonly id: number; readonly slot: number; readonly length: number }
  | {
      readonly kind: 'update';
      readonly id: number;
      readonly buffer: ArrayBuffer;
      readonly length: number;
    }
  | { readonly kind: 'digest'; readonly id: number }
  | { readonly kind: 'abort'; readonly id: number };

/** Hashing thread -> main thread: bytes hashed and pool slots done with, or a digest. */
type HashResponse =
  | { readonly kind: 'hashed'; readonly bytes: number; readonly slots: number[] }
  | { readonly kind: 'digest'; readonly id: number; readonly hex: string };

/**
 * The thread's whole program: plain JavaScript with no imports of ours, so it runs the same from
 * source (tsx, vitest) and from a build, with no file to ship. Acknowledgements are batched (one
 * per 2 MiB, one per digest, one per abort that leaves slots) to keep messages few.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { pool, chunkBytes } = workerData;
const hashes = new Map();
let bytes = 0;
let slots = [];
const acknowledge = () => {
  parentPort.postMessage({ kind: 'hashed', bytes, slots });
  bytes = 0;
  slots = [];
};
parentPort.on('message', (m) => {
  if (m.kind === 'update') {
    let h = hashes.get(m.id);
    if (h === undefined) { h = createHash('sha256'); hashes.set(m.id, h); }
    if (m.buffer === undefined) {
      h.update(new Uint8Array(pool, m.slot * chunkBytes, m.length));
      slots.push(m.slot);
    } else {
      h.update(new Uint8Array(m.buffer, 0, m.length));
    }
    bytes += m.length;
    if (bytes >= 2 * 1024 * 1024) acknowledge();
  } else if (m.kind === 'digest') {
    const h = hashes.get(m.id) ?? createHash('sha256');
    hashes.delete(m.id);
    acknowledge();
    parentPort.postMessage({ kind: 'digest', id: m.id, hex: h.digest('hex') });
  } else {
    hashes.delete(m.id);
    // An instance cut short: its pool slots go back now, not with the next upload's bytes.
    if (slots.length > 0) acknowledge();
  }
});
`;

/**
 * Read buffers for file sources, in memory shared with the hashing thread: a chunk read into a
 * slot is written to the socket and hashed from the same bytes, and the slot is read into again
 * once the thread is done with it. Nothing is allocated, copied or collected per chunk. A slot is
 * only reused after it was handed to the hasher (or released by its one reader), so a chunk that
 * went elsewhere keeps its slot; when every slot is taken, reads get fresh buffers.
 */
export const POOL_CHUNK_BYTES = 1024 * 1024;
/**
 * Enough for the thread's backlog (MAX_OUTSTANDING_BYTES and one acknowledgement) plus, for each
 * request in flight, a chunk read ahead and one at the socket.
 */
const POOL_SLOTS = 32;

class ChunkPool {
  /** Address space only until used: pages are touched as slots are first read into. */
  readonly memory = new SharedArrayBuffer(POOL_SLOTS * POOL_CHUNK_BYTES);
  readonly #free = Array.from({ length: POOL_SLOTS }, (_, i) => POOL_SLOTS - 1 - i);
  readonly #taken = new Uint8Array(POOL_SLOTS);

  take(): Buffer | undefined {
    const slot = this.#free.pop();
    if (slot === undefined) return undefined;
    this.#taken[slot] = 1;
    return Buffer.from(this.memory, slot * POOL_CHUNK_BYTES, POOL_CHUNK_BYTES);
  }

  slotOf(chunk: Uint8Array): number | undefined {
    return chunk.buffer === this.memory
      ? Math.floor(chunk.byteOffset / POOL_CHUNK_BYTES)
      : undefined;
  }

  release(slot: number): void {
    if (this.#taken[slot] !== 1) return;
    this.#taken[slot] = 0;
    this.#free.push(slot);
  }
}

let chunkPool: ChunkPool | undefined;

function thePool(): ChunkPool {
  chunkPool ??= new ChunkPool();
  return chunkPool;
}

/** A pool buffer of POOL_CHUNK_BYTES nobody else holds, or undefined when all are in use. */
export function takePoolChunk(): Buffer | undefined {
  return thePool().take();
}

/**
 * Gives back a pool chunk that will not reach the hasher (not sent, or its read failed). The
 * caller must be its one holder. Anything that is not a pool chunk is left alone.
 */
export function releasePoolChunk(chunk: Uint8Array): void {
  const slot = chunkPool?.slotOf(chunk);
  if (slot !== undefined) chunkPool!.release(slot);
}

/** Bytes handed to the thread and not yet hashed before `ready()` asks the sender to wait. */
const MAX_OUTSTANDING_BYTES = 12 * 1024 * 1024;

interface PendingDigest {
  resolve(hex: string): void;
  reject(error: Error): void;
}

/** The hashing thread and its bookkeeping; started on first use, replaced after a crash. */
class ThreadHasher implements Hasher {
  #worker: Worker | undefined;
  #nextId = 1;
  #outstanding = 0;
  readonly #digests = new Map<number, PendingDigest>();
  #waiters: (() => void)[] = [];

  #thread(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { pool: thePool().memory, chunkBytes: POOL_CHUNK_BYTES },
    });
    worker.on('message', (response: HashResponse) => {
      if (response.kind === 'hashed') {
        for (const slot of response.slots) thePool().release(slot);
        this.#outstanding = Math.max(0, this.#outstanding - response.bytes);
        this.#wake();
        return;
      }
      const pending = this.#digests.get(response.id);
      this.#digests.delete(response.id);
      if (this.#digests.size === 0) worker.unref();
      pending?.resolve(response.hex);
    });
    const lost = (): void => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#outstanding = 0;
      const failed = [...this.#digests.values()];
      this.#digests.clear();
      for (const pending of failed) pending.reject(new Error('the hashing thread stopped'));
      this.#wake();
    };
    worker.on('error', lost);
    worker.on('exit', lost);
    // Idle, the thread must not keep the process alive; a digest being awaited refs it.
    worker.unref();
    this.#worker = worker;
    return worker;
  }

  #wake(): void {
    if (this.#outstanding >= MAX_OUTSTANDING_BYTES) return;
    for (const wake of this.#waiters.splice(0)) wake();
  }

  #post(request: HashRequest, transfer?: ArrayBuffer): void {
    this.#thread().postMessage(request, transfer ? [transfer] : undefined);
  }

  begin(): InstanceHash {
    const id = this.#nextId++;
    const worker = this.#thread();
    let state: 'open' | 'digesting' | 'aborted' = 'open';
    return {
      update: (chunk, owned = false) => {
        if (state === 'open' && this.#worker !== worker) state = 'aborted'; // the thread died
        if (state !== 'open' || chunk.byteLength === 0) {
          if (owned) releasePoolChunk(chunk);
          return;
        }
        this.#outstanding += chunk.byteLength;
        const length = chunk.byteLength;
        const slot = owned ? chunkPool?.slotOf(chunk) : undefined;
        if (slot !== undefined) {
          this.#post({ kind: 'update', id, slot, length });
          return;
        }
        const buffer = chunk.buffer;
        if (owned && buffer instanceof ArrayBuffer && chunk.byteOffset === 0) {
          try {
            this.#post({ kind: 'update', id, buffer, length }, buffer);
            return;
          } catch {
            // not transferable (a marked buffer): copied below
          }
        }
        const copy = Uint8Array.prototype.slice.call(chunk).buffer as ArrayBuffer;
        this.#post({ kind: 'update', id, buffer: copy, length }, copy);
      },
      digest: () => {
        if (state !== 'open' || this.#worker !== worker) {
          state = 'aborted';
          return Promise.reject(new Error('the hashing thread stopped'));
        }
        state = 'digesting';
        return new Promise<string>((resolve, reject) => {
          this.#digests.set(id, { resolve, reject });
          worker.ref();
          this.#post({ kind: 'digest', id });
        });
      },
      abort: () => {
        if (state !== 'open') return;
        state = 'aborted';
        if (this.#worker === worker) this.#post({ kind: 'abort', id });
      },
    };
  }

  ready(): Promise<void> | undefined {
    if (this.#outstanding < MAX_OUTSTANDING_BYTES) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }
}

/** Hashing on the calling thread: for tests that compare, and where no thread can start. */
export const inlineHasher: Hasher = {
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

let shared: ThreadHasher | undefined;

/** The hasher uploads use: one hashing thread for the process. */
export function sharedHasher(): Hasher {
  shared ??= new ThreadHasher();
  return shared;
}
