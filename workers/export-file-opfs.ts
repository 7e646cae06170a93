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
import { openSyncFile, type Folder, type SyncHandle } from './opfs-file';

const FOLDER = 'prune-studio-exports';

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
  const opened = await openSyncFile(FOLDER, 'export', '.onnx', removeStale);
  const { folder, file, name } = opened;
  let handle: SyncHandle | undefined = opened.handle;
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
