/**
 * A spilled model's written file during its export: the bytes are put once in a fresh store
 * (StudioDeps.gramStore: Node a temp file, the browser's engine Worker OPFS) and prepared to open from
 * it, every tensor read from there; then the bytes in memory are freed (their buffer detached) while
 * the reference runs and the file's session is open, and read back afterwards (`restore`). The export
 * then holds either the written bytes or the session's weights, not both. Where the runner offers
 * disposable isolates that read stored files themselves (Node), the file opens in one and its heap
 * goes back after the check; elsewhere (onnxruntime-web in the engine Worker: OPFS cannot be read by
 * another thread) it opens in the engine's runner, each tensor read from the store as onnxruntime
 * copies it in (graph/open-file.ts `lazy`), into a heap that the block-by-block runs and whole-model
 * sessions have already grown (measured on gpt2-124m: see docs/ARCHITECTURE.md). Without a store,
 * or a runner that reads neither way, or for a small model, there is no host, and the file opens in
 * the engine's runner from the bytes.
 */
import { RuntimeFailure } from '../core/errors';
import type { GramStore } from '../core/gram-store';
import type { WrittenFileHost } from '../exporters/types';
import { LazyBytes } from '../core/lazy-bytes';
import { freeScratch, scratchOf, type ScratchBuffer } from '../core/weight-residency';
import type { Runner, RunnerSession } from '../core/runner';
import { openPrepared, prepareFile, type LazyFileBytes, type PreparedFile, type StoredFileBytes } from '../graph/open-file';
import { withIsolate } from './isolation';
import type { LoadedModel, StudioDeps } from './state';

const KEY = 'written';

interface Entry {
  bytes: Uint8Array;
  /** The bytes' length (a parked array reads 0). */
  length: number;
  stored: StoredFileBytes | undefined;
  lazy: LazyFileBytes | undefined;
  /** Frees the buffer the lazily read tensors passed through (after each open). */
  releaseScratch?: () => void;
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
  if (!m.residency || !gramStore || !(isolated || runner.readsExternalDataBySubarray)) return undefined;
  let store: GramStore | undefined;
  let entry: Entry | undefined;

  const put = async (bytes: Uint8Array): Promise<Entry> => {
    const values = Math.floor(bytes.byteLength / 4);
    const tail = bytes.slice(4 * values);
    let stored: StoredFileBytes | undefined;
    let lazy: LazyFileBytes | undefined;
    let releaseScratch: (() => void) | undefined;
    try {
      await store?.dispose();
      const s = (store = await gramStore());
      if (bytes.byteOffset % 4 === 0) {
        s.put(KEY, new Float32Array(bytes.buffer, bytes.byteOffset, values));
        const base = isolated ? s.locate?.(KEY) : undefined;
        if (base) stored = { at: (o, n) => (o + n <= 4 * values ? { file: base.file, at: base.at + o, bytes: n } : undefined) };
        else if (!isolated && s.readBytes) ({ ranges: lazy, release: releaseScratch } = lazyRanges(s, 4 * values));
      }
    } catch {
      // no storage: the runner is handed the bytes
    }
    return { bytes, length: bytes.byteLength, stored, lazy, ...(releaseScratch ? { releaseScratch } : {}), tail, parked: false };
  };

  const park = (e: Entry) => {
    const { buffer } = e.bytes;
    // only a buffer the bytes fill alone (the sized encoder's output) is freed whole
    if (!(e.stored || e.lazy) || e.parked || !(buffer instanceof ArrayBuffer) || e.bytes.byteLength !== buffer.byteLength) return;
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
      const places = e.stored ? { stored: e.stored } : e.lazy ? { lazy: e.lazy } : {};
      const file = (e.file ??= prepareFile(bytes, { viewed: true, ...places }));
      if (file.fromStorage) park(e);
      const openIn = async <T>(r: Runner, use: (s: RunnerSession) => Promise<T>): Promise<T> => {
        let session: RunnerSession;
        try {
          session = await openPrepared(r, file);
        } finally {
          e.releaseScratch?.();
        }
        try {
          return await use(session);
        } finally {
          await session.release();
        }
      };
      return {
        withSession: (use) =>
          isolated
            ? withIsolate(runner, async (isolate) => {
                if (file.fromStorage && !isolate.readsStoredFiles)
                  throw new RuntimeFailure('This isolate cannot read the stored written file; export with isolateSessions "never".');
                return openIn(isolate, use);
              })
            : openIn(runner, use),
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

/**
 * Ranges of the store's `written` bytes (its first `size` bytes), each read when the runner copies it
 * in, all into one scratch buffer: onnxruntime-web copies each tensor into its heap at once, so
 * opening makes no garbage (which a browser may collect late; core/weight-residency.ts ScratchBuffer).
 * `release` frees that buffer (the size of the largest tensor, the vocabulary matrix) once a session is open.
 */
function lazyRanges(store: GramStore, size: number): { ranges: LazyFileBytes; release: () => void } {
  const scratch: ScratchBuffer = {};
  const ranges: LazyFileBytes = (offset, n) => {
    if (offset + n > size) return undefined;
    return new LazyBytes(n, () => {
      const out = new Uint8Array(scratchOf(scratch, n), 0, n);
      store.readBytes!(KEY, offset, out);
      return out;
    });
  };
  return { ranges, release: () => freeScratch(scratch) };
}
