/**
 * The engine's Web Worker: builds the in-process StudioApi with the onnxruntime-web Runner and
 * exposes it over comlink as `run(method, args, jobId, onProgress, cancelFlag)` + `cancel(jobId)`.
 * One AbortController per job id (see cancel.ts); errors travel as SerializedError (code + hint kept).
 */
import * as Comlink from 'comlink';
import { createStudioApi } from '../src/api/studio';
import type { ProgressCallback, StudioApi } from '../src/api/types';
import { serializeError } from '../src/core/errors';
import { setCancelPoll } from '../src/core/job';
import { helpersFor, setGemmThreads } from '../src/core/gemm-threads';
import { blobGemmSpawner } from './gemm-helpers';
import { createWebRunner } from '../src/runtime/ort-web';
import { cancellableRunner, jobs, pollCancelFlags } from './cancel';
import type { ArgsOf, Outcome, ResultOf, StudioMethod } from './protocol';
import { browserHubDeps } from './hub-deps';
import { opfsGramStore } from './gram-store-opfs';
import { opfsExportFileStore } from './export-file-opfs';
import type { UnitScores } from '../src/saliency/types';
import type { ExportBundle } from '../src/api/types';

// Long synchronous kernels (stopPoint) and checkpoints read the UI's shared cancel flags.
setCancelPoll(pollCancelFlags);
// The float64 OBS / SlimGPT / GPTQ algebra splits large products over one helper Worker per core (shared memory needs cross-origin isolation).
if (self.crossOriginIsolated) setGemmThreads(blobGemmSpawner, helpersFor(self.navigator.hardwareConcurrency));

const base = new URL(import.meta.env.BASE_URL, self.location.origin);
const api: StudioApi = createStudioApi({
  runner: cancellableRunner(createWebRunner({ wasmPaths: new URL('ort/', base).href })),
  demoUrl: new URL('models/demo-gpt2/', base).href,
  ...browserHubDeps(),
  // a large model's calibration Grams go to OPFS (synchronous access in this dedicated Worker)
  gramStore: opfsGramStore,
  // a large model's ONNX export is streamed into OPFS and bundled as a Blob read from there
  exportFileStore: opfsExportFileStore,
  // the page opened with ?weights=storage: every model's weights in OPFS, as a large model's (ui/studio-client.ts engineWorkerName)
  weightSpill: self.name.split(' ').includes('weights=storage') ? 'always' : 'auto',
});

/** Importance scores move to the UI as transferred copies (the engine keeps its own for allocation). */
function transferScores(s: UnitScores): UnitScores {
  const copy = { ...s, heads: s.heads?.slice() ?? null, ffn: s.ffn?.slice() ?? null, layers: s.layers?.slice() ?? null };
  const buffers = [copy.heads, copy.ffn, copy.layers].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : []));
  return Comlink.transfer(copy, buffers);
}

/**
 * The buffers of an export's model files (.onnx / .safetensors, freshly encoded for this export and
 * each the whole of its buffer), moved to the UI instead of copied: one copy of the model fewer in
 * the tab while it is zipped. Other files (tokenizer.json may be the engine's own) are copied.
 */
function modelFileBuffers(bundle: ExportBundle): ArrayBuffer[] {
  return bundle.files
    .filter((f) => /\.(onnx|safetensors)$/.test(f.name) && f.bytes.byteOffset === 0 && f.bytes.byteLength === f.bytes.buffer.byteLength)
    .map((f) => f.bytes.buffer as ArrayBuffer);
}

const exposed = {
  async run<M extends StudioMethod>(
    method: M,
    args: ArgsOf<M>,
    jobId: string,
    onProgress?: ProgressCallback,
    cancelFlag?: Int32Array,
  ): Promise<Outcome<ResultOf<M>>> {
    const controller = new AbortController();
    jobs.set(jobId, { controller, flag: cancelFlag });
    try {
      const fn = api[method] as (...a: unknown[]) => Promise<ResultOf<M>>;
      const report: ProgressCallback = (p) => {
        pollCancelFlags();
        void onProgress?.(p);
      };
      const value = await fn.call(api, ...args, { onProgress: report, signal: controller.signal });
      if (method === 'computeImportance') {
        const scores = transferScores(value as UnitScores);
        return Comlink.transfer(
          { ok: true, value: scores as ResultOf<M> },
          [scores.heads, scores.ffn, scores.layers].flatMap((a) => (a ? [a.buffer as ArrayBuffer] : [])),
        );
      }
      if (method === 'exportModel') return Comlink.transfer({ ok: true, value }, modelFileBuffers(value as ExportBundle));
      return { ok: true, value };
    } catch (e) {
      const error = serializeError(e);
      // Unexpected errors (bugs) keep their stack in the console; typed ones carry message + hint.
      if (error.code === 'UNKNOWN') console.error(`[engine] ${method} failed:`, e);
      return { ok: false, error };
    } finally {
      jobs.delete(jobId);
      (onProgress as Partial<Comlink.ProxyMethods> | undefined)?.[Comlink.releaseProxy]?.();
    }
  },
  cancel(jobId: string): boolean {
    const job = jobs.get(jobId);
    job?.controller.abort();
    return job !== undefined;
  },
};

export type WorkerApi = typeof exposed;

Comlink.expose(exposed);
