/**
 * Opening written ONNX bytes (an export, a bundle file) in a runner without a second copy of their
 * weights: a large file opens as an external-data view of its own bytes (io/onnx/external-view.ts),
 * and where the bytes also lie in a file the runner reads itself (Runner.readsStoredFiles: Node
 * isolates), each tensor is read from there when the session copies it in, so the bytes are not
 * cloned across to the isolate either, and need not even stay in memory (api/written-file.ts).
 */
import type { StoredBytes } from '../core/gram-store';
import type { ExternalFile, Runner, RunnerSession } from '../core/runner';
import { externalView } from '../io/onnx/external-view';

/** Where the bytes of a written file lie in storage: `at(offset, length)` of a range of them, or undefined if not stored. */
export interface StoredFileBytes {
  at(offset: number, length: number): StoredBytes | undefined;
}

export interface OpenFileOptions {
  /** Open as an external-data view of the bytes (large files). */
  viewed: boolean;
  /** The same bytes in storage (read per tensor by runners that read stored files). */
  stored?: StoredFileBytes;
}

/** What a runner opens: the model bytes (a skeleton when viewed) and its external data. */
export interface PreparedFile {
  model: Uint8Array;
  externalData?: ExternalFile[];
  /** Every tensor is read from storage: the bytes themselves are no longer needed. */
  fromStorage: boolean;
}

/** The file as a runner opens it; `stored` places are used as given (for a runner that reads stored files). */
export function prepareFile(bytes: Uint8Array, options: OpenFileOptions): PreparedFile {
  if (!options.viewed) return { model: bytes, fromStorage: false };
  const { stored } = options;
  const view = externalView(bytes, { perTensor: !!stored });
  const externalData = view.externalData.map((f): ExternalFile => {
    const where = stored?.at(f.offset, f.data.byteLength);
    return where ? { path: f.path, data: new Uint8Array(0), stored: where } : { path: f.path, data: f.data };
  });
  const fromStorage = !!stored && externalData.every((f) => f.stored);
  return { model: view.skeleton, externalData, fromStorage };
}

/** Opens a prepared file with the weights as loaded (no pre-packed copy: the callers run a few times). */
export function openPrepared(runner: Runner, file: PreparedFile): Promise<RunnerSession> {
  return runner.open(file.model, { ...(file.externalData ? { externalData: file.externalData } : {}), prepack: false });
}

/** Opens `bytes` (stored places only for a runner that reads stored files). */
export function openFileBytes(runner: Runner, bytes: Uint8Array, options: OpenFileOptions): Promise<RunnerSession> {
  const stored = runner.readsStoredFiles ? options.stored : undefined;
  return openPrepared(runner, prepareFile(bytes, { viewed: options.viewed, ...(stored ? { stored } : {}) }));
}

/** Runs `use` on a session, released afterwards. */
export type WithSession = <T>(use: (session: RunnerSession) => Promise<T>) => Promise<T>;
