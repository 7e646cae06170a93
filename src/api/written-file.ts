/**
 * A spilled model's written file during its export, where the runner offers disposable isolates that
 * read stored files themselves (Node): the bytes are put once in a fresh store (StudioDeps.gramStore,
 * a temp file) and prepared to open from it, every tensor read from there; then the bytes in memory
 * are freed (their buffer detached) while the reference runs and the file's session is open in an
 * isolate, whose heap goes back after the check, and read back afterwards (`restore`). The export then
 * holds either the written bytes or the session's weights, not both.
 * Elsewhere (onnxruntime-web in the browser's engine Worker) there is no host: there a spilled model's
 * file is never made in memory at all but streamed into export storage (api/streamed-export.ts), since
 * freeing bytes already made saves nothing in a heap that never shrinks and a browser collects the
 * garbage late (measured on gpt2-124m in Chromium: see docs/ARCHITECTURE.md). Nor for a small model.
 */
import { RuntimeFailure } from '../core/errors';
import type { GramStore } from '../core/gram-store';
import type { WrittenFileHost } from '../exporters/types';
import { openPrepared, prepareFile, type PreparedFile, type StoredFileBytes } from '../graph/open-file';
import { withIsolate } from './isolation';
import type { LoadedModel, StudioDeps } from './state';

const KEY = 'written';

interface Entry {
  bytes: Uint8Array;
  /** The bytes' length (a parked array reads 0). */
  length: number;
  stored: StoredFileBytes | undefined;
  /** The bytes past the last whole float32 value (the store holds float32 values). */
  tail: Uint8Array;
  parked: boolean;
  /** The file as the isolate opens it (made before the bytes are freed). */
  file?: PreparedFile;
}

/** A host with dispose (the store's file is removed), or undefined where the file opens in the engine's runner. */
export function writtenFileHost(deps: StudioDeps, m: LoadedModel): (WrittenFileHost & { dispose(): Promise<void> }) | undefined {
  const { runner, gramStore } = deps;
  const isolated = !!runner.isolate && deps.isolateSessions !== 'never';
  if (!m.residency || !gramStore || !isolated) return undefined;
  let store: GramStore | undefined;
  let entry: Entry | undefined;

  const put = async (bytes: Uint8Array): Promise<Entry> => {
    const values = Math.floor(bytes.byteLength / 4);
    const tail = bytes.slice(4 * values);
    let stored: StoredFileBytes | undefined;
    try {
      await store?.dispose();
      const s = (store = await gramStore());
      if (bytes.byteOffset % 4 === 0) {
        s.put(KEY, new Float32Array(bytes.buffer, bytes.byteOffset, values));
        const base = s.locate?.(KEY);
        if (base) stored = { at: (o, n) => (o + n <= 4 * values ? { file: base.file, at: base.at + o, bytes: n } : undefined) };
      }
    } catch {
      // no storage: the runner is handed the bytes
    }
    return { bytes, length: bytes.byteLength, stored, tail, parked: false };
  };

  const park = (e: Entry) => {
    const { buffer } = e.bytes;
    // only a buffer the bytes fill alone (the sized encoder's output) is freed whole
    if (!e.stored || e.parked || !(buffer instanceof ArrayBuffer) || e.bytes.byteLength !== buffer.byteLength) return;
    // detached (transfer(0), else a structured-clone transfer): the memory goes back at the next collection (Node collects below)
    const t = buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
    if (typeof t.transfer === 'function') t.transfer(0);
    else structuredClone(buffer, { transfer: [buffer] });
    e.parked = true;
    deps.collectGarbage?.();
  };

  return {
    async prepare(bytes) {
      if (entry?.bytes !== bytes) entry = await put(bytes);
      const e = entry;
      const file = (e.file ??= prepareFile(bytes, { viewed: true, ...(e.stored ? { stored: e.stored } : {}) }));
      if (file.fromStorage) park(e);
      return {
        withSession: (use) =>
          withIsolate(runner, async (isolate) => {
            if (file.fromStorage && !isolate.readsStoredFiles)
              throw new RuntimeFailure('This isolate cannot read the stored written file; export with isolateSessions "never".');
            const session = await openPrepared(isolate, file);
            try {
              return await use(session);
            } finally {
              await session.release();
            }
          }),
      };
    },
    restore(bytes) {
      if (!entry?.parked || entry.bytes !== bytes || !store) return bytes;
      const out = new Uint8Array(entry.length);
      const values = new Float32Array(out.buffer, 0, Math.floor(entry.length / 4));
      if (store.readInto) store.readInto(KEY, values);
      else values.set(store.get(KEY));
      out.set(entry.tail, 4 * values.length);
      entry = { ...entry, bytes: out, parked: false };
      return out;
    },
    async dispose() {
      await store?.dispose();
      store = undefined;
      entry = undefined;
    },
  };
}
