/**
 * A spilled model's ONNX export where whole-model sessions run in the engine's own heap (the
 * browser's engine Worker: no isolates) and the host gives export storage (StudioDeps.exportFileStore,
 * OPFS): the with-past graph is encoded straight into a file there through one small window
 * (io/onnx encodeModelTo) instead of into one buffer of the file's size; the file's session opens
 * from storage, each tensor read into one scratch as onnxruntime-web copies it into its heap
 * (io/onnx/external-view.ts placedView, core/lazy-bytes.ts); and the bundle gets the finished file
 * as a Blob read from storage. The export then never holds the written bytes beside the file's
 * session. (The wasm heap keeps the high-water mark of the dense model's whole-model session,
 * latency or generation, and the file's session fits in it: the bytes in memory were what the export
 * added on top; gpt2-124m in Chromium, docs/ARCHITECTURE.md.) The bytes equal the in-memory export's.
 */
import type { ExportFileStore } from '../core/export-file-store';
import type { ModelIR } from '../core/ir';
import { LazyBytes } from '../core/lazy-bytes';
import type { Runner } from '../core/runner';
import { freeScratch, scratchOf, type ScratchBuffer } from '../core/weight-residency';
import { ONNX_MODEL_PATH } from '../exporters/onnx';
import { refuseUnverified } from '../exporters/registry';
import type { ExportOptions, ExportProgress, ExportSubject, ExportVerification } from '../exporters/types';
import { compareSessionWithReference } from '../exporters/verify';
import { buildKvCacheProto } from '../graph/kv-cache';
import type { WithSession } from '../graph/open-file';
import { decodeModel, encodeModelTo, OnnxGraphBuilder, type ModelProto } from '../io/onnx';
import { placedView, type PlacedPart } from '../io/onnx/external-view';
import { isImageClassifier } from './accuracy';
import type { LoadedModel, StudioState } from './state';

/** Whether `m`'s export of `chosen` is streamed into export storage (see the header). */
export function streamsExport(state: StudioState, m: LoadedModel, chosen: ExportOptions): boolean {
  const { deps } = state;
  const isolated = !!deps.runner.isolate && deps.isolateSessions !== 'never';
  return (
    !!deps.exportFileStore &&
    !!m.residency &&
    !isolated &&
    !!deps.runner.readsExternalDataBySubarray &&
    chosen.format === 'onnx' &&
    chosen.dtype === 'fp32' &&
    !isImageClassifier(m.ir)
  );
}

/** A model file written into export storage. */
export interface StreamedFile {
  name: string;
  /** Bytes written. */
  size: number;
  /** Its graph without the weights (the feeds of a run need only this). */
  model: ModelProto;
  /** Opens the file from storage (released after `use`). */
  withSession: WithSession;
  /** Ends reading: the file as a Blob read from storage (the store keeps it until disposed). */
  finish(): Promise<Blob>;
}

/** Each placed tensor's bytes, read from the store when the runner copies them in, through one shared scratch. */
function lazyParts(store: ExportFileStore, parts: readonly PlacedPart[], scratch: ScratchBuffer) {
  return parts.map((part) => ({
    path: part.path,
    data: new LazyBytes(part.length, () => {
      const into = new Uint8Array(scratchOf(scratch, part.length), 0, part.length);
      store.read(into, part.offset);
      return into;
    }),
  }));
}

/** Encodes `ir`'s with-past graph (the ONNX exporter's onnx/model.onnx) into `store`. */
export function writeStreamed(store: ExportFileStore, ir: ModelIR, runner: Runner): StreamedFile {
  const b = new OnnxGraphBuilder(ir.name, { deferWeights: true });
  const graph = buildKvCacheProto(ir, {}, b);
  const written = encodeModelTo(graph, (bytes, at) => store.write(bytes, at), b.deferredWeights);
  const { skeleton, parts } = placedView(graph, written.placed, b.deferredWeights);
  const scratch: ScratchBuffer = {};
  return {
    name: ONNX_MODEL_PATH,
    size: written.bytes,
    model: decodeModel(skeleton),
    async withSession(use) {
      // the weights as loaded (no pre-packed copy: one or a few runs)
      const session = await runner.open(skeleton, { externalData: lazyParts(store, parts, scratch), prepack: false });
      try {
        return await use(session);
      } finally {
        await session.release();
      }
    },
    finish() {
      freeScratch(scratch);
      return store.finish(written.bytes);
    },
  };
}

/**
 * A fresh export store when `m`'s export of `chosen` streams (the model's previous export file is
 * deleted first); undefined when it does not, or when the host's storage cannot open (the export
 * then keeps the bytes in memory, as before).
 */
export async function openExportStore(state: StudioState, m: LoadedModel, chosen: ExportOptions): Promise<ExportFileStore | undefined> {
  if (!streamsExport(state, m, chosen)) return undefined;
  await m.exportFile?.dispose();
  m.exportFile = undefined;
  try {
    return await state.deps.exportFileStore!();
  } catch {
    return undefined;
  }
}

/**
 * Writes the applied model's file into `store` (kept as `m.exportFile` until the next export or the
 * model's unload) and compares it with the reference as writeVerified does; a failure deletes the file.
 */
export async function writeStreamedVerified(
  state: StudioState,
  m: LoadedModel,
  store: ExportFileStore,
  subject: ExportSubject,
  onProgress?: ExportProgress,
): Promise<{ file: StreamedFile; verification: ExportVerification }> {
  try {
    onProgress?.({ stage: 'export', done: 0, total: 2, message: `Writing ONNX into ${store.where}` });
    const file = writeStreamed(store, subject.ir, state.deps.runner);
    onProgress?.({ stage: 'export', done: 1, total: 2, message: 'Re-opening the export and checking it against the preview' });
    const verification = await compareSessionWithReference(file.model, file.withSession, subject, state.deps.runner);
    refuseUnverified(verification, 'fp32');
    m.exportFile = store;
    return { file, verification };
  } catch (e) {
    await store.dispose();
    throw e;
  }
}
