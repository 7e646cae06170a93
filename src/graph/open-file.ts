/**
 * Opening written ONNX bytes (an export, a bundle file) in a runner without a second copy of their
 * weights: a large file opens as an external-data view of its own bytes (io/onnx/external-view.ts),
 * and where the bytes also lie in a file the runner reads itself (Runner.readsStoredFiles: Node
 * isolates), each tensor is read from there when the session copies it in, so the bytes are not
 * cloned across to the isolate either; then the caller may even free its copy while the session
 * lives (`park`, api/written-bytes.ts).
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
  /** Called once the session no longer needs the bytes in memory (every tensor is read from storage), before it opens. */
  park?: () => void;
}

/** Opens `bytes` with the weights as loaded (no pre-packed copy: the callers run a few times). */
export async function openFileBytes(runner: Runner, bytes: Uint8Array, options: OpenFileOptions): Promise<RunnerSession> {
  if (!options.viewed) return runner.open(bytes, { prepack: false });
  const stored = runner.readsStoredFiles ? options.stored : undefined;
  const view = externalView(bytes, { perTensor: !!stored });
  const externalData = view.externalData.map((f): ExternalFile => {
    const where = stored?.at(f.offset, f.data.byteLength);
    return where ? { path: f.path, data: new Uint8Array(0), stored: where } : { path: f.path, data: f.data };
  });
  if (stored && externalData.every((f) => f.stored)) options.park?.();
  return runner.open(view.skeleton, { externalData, prepack: false });
}
