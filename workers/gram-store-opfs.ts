/**
 * The engine Worker's GramStore (src/core/gram-store.ts) over the Origin Private File System: one
 * file per calibration in the folder `prune-studio-grams`, opened once (async) with a
 * FileSystemSyncAccessHandle, whose read / write are synchronous in a dedicated Worker (the studio's
 * engine runs in one: src/ui/studio-client.ts). Files left by a closed tab are removed when the next
 * store opens (a file another tab still holds is locked and skipped). Without OPFS or outside a
 * dedicated Worker the factory rejects, and calibration keeps the Grams in memory with a warning.
 */
import { checkByteRange, type GramStore, type GramStoreFactory } from '../src/core/gram-store';
import { openSyncFile, type Folder } from './opfs-file';

const FOLDER = 'prune-studio-grams';

/** Names of this realm's open stores (never removed as stale). */
const open = new Set<string>();

async function removeStale(folder: Folder): Promise<void> {
  if (!folder.keys) return;
  for await (const name of folder.keys()) {
    if (open.has(name)) continue;
    // a file another tab holds open is locked: removeEntry fails and it stays
    await folder.removeEntry(name).catch(() => undefined);
  }
}

function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

async function openStore(): Promise<GramStore> {
  const { folder, name, handle } = await openSyncFile(FOLDER, 'grams', '.bin', removeStale);
  open.add(name);
  const where = `browser storage (OPFS ${FOLDER}/${name})`;
  const index = new Map<string, { at: number; length: number }>();
  let end = 0;
  let closed = false;
  const live = () => {
    if (closed) throw new Error(`${where} is closed`);
  };
  const readInto = (key: string, out: Float32Array) => {
    live();
    const e = index.get(key);
    if (!e) throw new Error(`no Gram "${key}" in ${where}`);
    if (out.length !== e.length) throw new Error(`Gram "${key}" has ${e.length} values, not ${out.length}`);
    const n = handle.read(bytesOf(out), { at: e.at });
    if (n !== out.byteLength) throw new Error(`read ${n} of ${out.byteLength} bytes`);
  };
  const readBytes = (key: string, at: number, into: Uint8Array) => {
    live();
    const e = index.get(key);
    if (!e) throw new Error(`no Gram "${key}" in ${where}`);
    checkByteRange(key, e.length, at, into.length);
    const n = handle.read(into, { at: e.at + at });
    if (n !== into.length) throw new Error(`read ${n} of ${into.length} bytes`);
  };
  return {
    where,
    put(key, values) {
      live();
      const bytes = bytesOf(values);
      const n = handle.write(bytes, { at: end });
      if (n !== bytes.length) throw new Error(`wrote ${n} of ${bytes.length} bytes (storage quota?)`);
      index.set(key, { at: end, length: values.length });
      end += bytes.length;
    },
    get(key) {
      const out = new Float32Array(index.get(key)?.length ?? 0);
      readInto(key, out);
      return out;
    },
    readInto,
    readBytes,
    drop: (key) => void index.delete(key),
    async dispose() {
      if (closed) return;
      closed = true;
      index.clear();
      try {
        handle.truncate(0);
      } finally {
        handle.close();
        open.delete(name);
        await folder.removeEntry(name).catch(() => undefined);
      }
    },
  };
}

/** StudioDeps.gramStore for the engine Worker. */
export const opfsGramStore: GramStoreFactory = openStore;
