/**
 * Storage for one written export file (StudioDeps.exportFileStore): the browser's engine Worker
 * streams a large model's ONNX file into it (Origin Private File System, workers/export-file-opfs.ts)
 * instead of holding the bytes in memory, opens the file's session from it tensor by tensor, and
 * hands the bundle the finished file as a Blob backed by storage (api/streamed-export.ts). Node's
 * (tests): a temp file, cli/export-file-store.ts.
 */
export interface ExportFileStore {
  /** What it is, for messages (e.g. 'OPFS prune-studio-exports/…'). */
  readonly where: string;
  /** Writes `bytes` at byte `at`, synchronously (the caller reuses the buffer). Throws on a storage failure (quota). */
  write(bytes: Uint8Array, at: number): void;
  /** Reads `into.length` bytes from byte `at`. Throws when they are not there. */
  read(into: Uint8Array, at: number): void;
  /** Ends writing and reading: the file, `size` bytes, as a Blob read from storage (valid until dispose). */
  finish(size: number): Promise<Blob>;
  /** Deletes the file (a Blob from finish can no longer be read). Idempotent. */
  dispose(): Promise<void>;
}

/** Opens a fresh, empty file; rejects when the host's storage is unavailable. */
export type ExportFileStoreFactory = () => Promise<ExportFileStore>;
