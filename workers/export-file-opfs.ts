/**
 * The engine Worker's ExportFileStore (src/core/export-file-store.ts) over the Origin Private File
 * System: one file per export in the folder `prune-studio-exports`, written and read through a
 * FileSystemSyncAccessHandle (synchronous in a dedicated Worker); `finish` closes the handle and
 * gives the file itself (FileSystemFileHandle.getFile: a Blob read from disk, which the zip and the
 * download read without a copy in memory). The file stays until dispose (the next export, or the
 * model's unload); files left by a closed tab are removed when the next store opens (after 15 minutes: another tab's
 * recent export may still be downloading).
 */
import type { ExportFileStore, ExportFileStoreFactory } from '../src/core/export-file-store';

const FOLDER = 'prune-studio-exports';

interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  flush(): void;
  close(): void;
}

type FileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncHandle> };
type Folder = FileSystemDirectoryHandle & { keys?: () => AsyncIterable<string> };

/** Names of this realm's files not yet disposed (never removed as stale). */
const live = new Set<string>();

/** Another tab's export this recent may still be downloading: left alone. */
const KEEP_RECENT_MS = 15 * 60_000;

function madeAt(name: string): number {
  const stamp = /^export-([0-9a-z]+)-/.exec(name)?.[1];
  return stamp ? parseInt(stamp, 36) : 0;
}

async function removeStale(folder: Folder): Promise<void> {
  if (!folder.keys) return;
  const now = Date.now();
  for await (const name of folder.keys()) {
    if (live.has(name) || now - madeAt(name) < KEEP_RECENT_MS) continue;
    await folder.removeEntry(name).catch(() => undefined);
  }
}

async function openStore(): Promise<ExportFileStore> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage?.getDirectory) throw new Error('the Origin Private File System is not available here');
  const root = await storage.getDirectory();
  const folder = (await root.getDirectoryHandle(FOLDER, { create: true })) as Folder;
  await removeStale(folder);
  const name = `export-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}.onnx`;
  const file = (await folder.getFileHandle(name, { create: true })) as FileHandle;
  if (!file.createSyncAccessHandle) {
    await folder.removeEntry(name).catch(() => undefined);
    throw new Error('OPFS synchronous access needs a dedicated Worker');
  }
  let handle: SyncHandle | undefined = await file.createSyncAccessHandle();
  live.add(name);
  const where = `browser storage (OPFS ${FOLDER}/${name})`;
  const open = () => {
    if (!handle) throw new Error(`${where} is closed`);
    return handle;
  };
  return {
    where,
    write(bytes, at) {
      const n = open().write(bytes, { at });
      if (n !== bytes.length) throw new Error(`wrote ${n} of ${bytes.length} bytes to ${where} (storage quota?)`);
    },
    read(into, at) {
      const n = open().read(into, { at });
      if (n !== into.length) throw new Error(`read ${n} of ${into.length} bytes from ${where}`);
    },
    async finish(size) {
      const h = open();
      h.flush();
      h.close();
      handle = undefined;
      const blob = await file.getFile();
      if (blob.size !== size) throw new Error(`${where} has ${blob.size} bytes, not ${size}`);
      return blob;
    },
    async dispose() {
      handle?.close();
      handle = undefined;
      live.delete(name);
      await folder.removeEntry(name).catch(() => undefined);
    },
  };
}

/** StudioDeps.exportFileStore for the engine Worker. */
export const opfsExportFileStore: ExportFileStoreFactory = openStore;
