/**
 * A fresh file in a folder of the Origin Private File System, opened with a
 * FileSystemSyncAccessHandle (synchronous read / write in a dedicated Worker): what the engine
 * Worker's OPFS stores (gram-store-opfs.ts, export-file-opfs.ts) start from.
 */

/** The synchronous part of FileSystemSyncAccessHandle the stores use. */
export interface SyncHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

export type FileHandle = FileSystemFileHandle & { createSyncAccessHandle?: () => Promise<SyncHandle> };
export type Folder = FileSystemDirectoryHandle & { keys?: () => AsyncIterable<string> };

export interface OpenedSyncFile {
  folder: Folder;
  file: FileHandle;
  name: string;
  handle: SyncHandle;
}

/**
 * Opens `<prefix>-<time, base 36>-<random><suffix>` in the OPFS folder `folderName` (made if absent),
 * after `removeStale` has tidied the folder; rejects where OPFS or synchronous access is missing.
 */
export async function openSyncFile(
  folderName: string,
  prefix: string,
  suffix: string,
  removeStale: (folder: Folder) => Promise<void>,
): Promise<OpenedSyncFile> {
  const storage = (globalThis.navigator as Navigator | undefined)?.storage;
  if (!storage?.getDirectory) throw new Error('the Origin Private File System is not available here');
  const root = await storage.getDirectory();
  const folder = (await root.getDirectoryHandle(folderName, { create: true })) as Folder;
  await removeStale(folder);
  const name = `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}${suffix}`;
  const file = (await folder.getFileHandle(name, { create: true })) as FileHandle;
  if (!file.createSyncAccessHandle) {
    await folder.removeEntry(name).catch(() => undefined);
    throw new Error('OPFS synchronous access needs a dedicated Worker');
  }
  return { folder, file, name, handle: await file.createSyncAccessHandle() };
}
