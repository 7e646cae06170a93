/**
 * Where calibration keeps its packed float32 Grams (core/packed-gram.ts) when a large model's would
 * cost too much RAM: a `GramStore`, injected by the host (Node: a temp file, src/cli/gram-file-store.ts;
 * the browser's engine Worker: an OPFS file, workers/gram-store-opfs.ts). Opening is async (OPFS
 * opens its sync access handle asynchronously); put / get / drop are synchronous, so the consumers
 * (core/stats.ts `hessian`) stay plain functions. A store holds one calibration's Grams and is
 * disposed when the statistics are replaced or the model is unloaded. Values come back bit for bit.
 * The same stores hold a large model's spilled weights (core/weight-residency.ts, api/weight-spill.ts).
 */
import { GramStoreError } from './errors';

export interface GramStore {
  /** What it is, for messages (e.g. 'temp file /tmp/…', 'OPFS'). */
  readonly where: string;
  /** Writes `values` under `key` (replacing an earlier value). Throws on a storage failure (quota, I/O). */
  put(key: string, values: Float32Array): void;
  /** A fresh copy of the values stored under `key`. Throws when they cannot be read back. */
  get(key: string): Float32Array;
  /** Reads the values stored under `key` into `into` (exactly their length); absent: use get. */
  readInto?(key: string, into: Float32Array): void;
  /**
   * Reads `into.length` bytes of the values stored under `key`, from byte `at` of them (a part: rows of
   * a matrix, one tensor of a stored file). Throws when the range is not inside them. Absent: get.
   */
  readBytes?(key: string, at: number, into: Uint8Array): void;
  /** Forgets `key` (its bytes are reclaimed at the latest by dispose). */
  drop(key: string): void;
  /** Frees the storage (deletes the file). Idempotent. */
  dispose(): Promise<void>;
  /**
   * Where `key`'s values lie in a file that another thread of this process can read (a Node temp
   * file; absent for stores others cannot open, e.g. OPFS with its exclusive handle).
   */
  locate?(key: string): StoredBytes | undefined;
}

/** Throws unless bytes at..at+length lie within `key`'s `values` float32 values (GramStore.readBytes). */
export function checkByteRange(key: string, values: number, at: number, length: number): void {
  if (at < 0 || at + length > 4 * values) throw new Error(`bytes ${at}..${at + length} are outside "${key}" (${4 * values} bytes)`);
}

/** Bytes at a place in a file. */
export interface StoredBytes {
  file: string;
  at: number;
  bytes: number;
}

/** Opens a fresh, empty store; rejects when the host's storage is unavailable. */
export type GramStoreFactory = () => Promise<GramStore>;

/** A Gram kept in a store instead of memory: read back on use (core/stats.ts `packedGram`). */
export interface StoredGram {
  store: GramStore;
  key: string;
  /** Values (float32) stored. */
  length: number;
}

/** Why a storage call failed, in words. */
export function storageReason(e: unknown): string {
  if (e instanceof Error) return e.name && e.name !== 'Error' ? `${e.name}: ${e.message}` : e.message;
  return String(e);
}

/**
 * An in-memory store with the file stores' contract (copies in and out): the tests' reference and
 * a host without storage. It saves no RAM.
 */
export function memoryGramStore(where = 'memory'): GramStore {
  const values = new Map<string, Float32Array>();
  return {
    where,
    put: (key, v) => void values.set(key, v.slice()),
    get(key) {
      const v = values.get(key);
      if (!v) throw new GramStoreError(`No Gram "${key}" in ${where}.`);
      return v.slice();
    },
    readInto(key, into) {
      const v = values.get(key);
      if (!v || v.length !== into.length) throw new GramStoreError(`No Gram "${key}" of ${into.length} values in ${where}.`);
      into.set(v);
    },
    readBytes(key, at, into) {
      const v = values.get(key);
      if (!v || at < 0 || at + into.length > v.byteLength)
        throw new GramStoreError(`No bytes ${at}..${at + into.length} of "${key}" in ${where}.`);
      into.set(new Uint8Array(v.buffer, v.byteOffset + at, into.length));
    },
    drop: (key) => void values.delete(key),
    dispose: async () => values.clear(),
  };
}
