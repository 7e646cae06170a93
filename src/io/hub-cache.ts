/**
 * The download cache contract (pure) and two implementations: in memory (tests, Node) and over the
 * Cache API (`CacheStorage`, passed in by the browser worker; this module never touches globals).
 * Entries are written only after a complete, verified download, in one `put`, so a failed or
 * cut-off download never leaves a half entry; `get` re-checks the size and drops mismatches.
 */

export interface BlobCache {
  /** The bytes under `key`, or undefined; an entry whose size differs from `expectedSize` is deleted. */
  get(key: string, expectedSize?: number): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array, meta?: { sha256?: string }): Promise<void>;
  delete(key: string): Promise<void>;
}

export interface MemoryCache extends BlobCache {
  readonly entries: Map<string, Uint8Array>;
}

export function memoryCache(): MemoryCache {
  const entries = new Map<string, Uint8Array>();
  return {
    entries,
    async get(key, expectedSize) {
      const b = entries.get(key);
      if (b && expectedSize !== undefined && b.length !== expectedSize) {
        entries.delete(key);
        return undefined;
      }
      return b;
    },
    async put(key, bytes) {
      entries.set(key, bytes.slice());
    },
    async delete(key) {
      entries.delete(key);
    },
  };
}

/** The subset of the Cache API used here (structural, so Node tests can pass a fake). */
export interface CacheLike {
  match(request: string): Promise<Response | undefined>;
  put(request: string, response: Response): Promise<void>;
  delete(request: string): Promise<boolean>;
}

export interface CacheStorageLike {
  open(name: string): Promise<CacheLike>;
}

const SIZE_HEADER = 'x-prune-studio-size';

/** A BlobCache over the Cache API. Keys must be absolute http(s) URLs (the resolve URL at a commit). */
export function cacheStorageCache(storage: CacheStorageLike, name = 'prune-studio-hub-v1'): BlobCache {
  let cache: Promise<CacheLike> | undefined;
  const open = () => (cache ??= storage.open(name));
  const drop = async (key: string) => {
    await (await open()).delete(key);
  };
  return {
    async get(key, expectedSize) {
      const res = await (await open()).match(key);
      if (!res) return undefined;
      const stored = Number(res.headers.get(SIZE_HEADER));
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await res.arrayBuffer());
      } catch {
        await drop(key);
        return undefined;
      }
      if (bytes.length !== stored || (expectedSize !== undefined && bytes.length !== expectedSize)) {
        await drop(key);
        return undefined;
      }
      return bytes;
    },
    async put(key, bytes, meta) {
      const headers: Record<string, string> = { [SIZE_HEADER]: String(bytes.length), 'content-type': 'application/octet-stream' };
      if (meta?.sha256) headers['x-prune-studio-sha256'] = meta.sha256;
      try {
        await (await open()).put(key, new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
      } catch (e) {
        await drop(key).catch(() => undefined);
        throw e;
      }
    },
    delete: drop,
  };
}
