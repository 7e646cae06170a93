/**
 * Engine harness for e2e/engine-models.spec.ts: the same engine the worker runs (createStudioApi +
 * the onnxruntime-web Runner + workers/hub-deps.ts: Cache API cache and memory budget), bundled
 * with esbuild and injected into a cross-origin-isolated page of the built app, so the browser-only
 * paths (cross-origin fetch under COEP, redirects, streaming, WebCrypto, Cache API, picked File
 * objects) are tested in Chromium without depending on the UI. Exposed as window.__engine.
 */
import { createStudioApi } from '../../src/api/studio';
import type { ModelSource, ModelSummary, StudioApi } from '../../src/api/types';
import { serializeError, type SerializedError } from '../../src/core/errors';
import { asFloat32, int64Tensor } from '../../src/core/runner';
import type { MemoryBudget } from '../../src/io/memory-budget';
import { createWebRunner } from '../../src/runtime/ort-web';
import { browserHubDeps, HUB_CACHE_NAME } from '../../workers/hub-deps';

type Outcome<T> = { ok: true; value: T } | { ok: false; error: SerializedError };

async function outcome<T>(p: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    return { ok: false, error: serializeError(e) };
  }
}

function createHarness(hubUrl: string, backend: 'wasm' | 'webgpu') {
  const deps = browserHubDeps();
  let budget: MemoryBudget | undefined;
  // The WebGPU spec runs on Chromium's SwiftShader adapter (software): allow it explicitly.
  const runner = createWebRunner({
    wasmPaths: new URL('/ort/', location.href).href,
    preferWebGpu: backend === 'webgpu',
    allowSoftwareGpu: backend === 'webgpu',
  });
  const api = createStudioApi({
    runner,
    demoUrl: new URL('/models/demo-gpt2/', location.href).href,
    hubEndpoint: hubUrl,
    ...deps,
    memoryBudget: () => budget ?? deps.memoryBudget?.(),
    stallMs: 5000,
  });
  const input = document.createElement('input');
  input.type = 'file';
  input.id = 'harness-files';
  input.multiple = true;
  input.setAttribute('webkitdirectory', '');
  document.body.append(input);
  return {
    load: (source: ModelSource): Promise<Outcome<ModelSummary>> => outcome(api.loadModel(source)),
    /** Any api method, its result as an Outcome (typed arrays converted to plain arrays). */
    call: <M extends keyof StudioApi>(method: M, ...args: Parameters<StudioApi[M]>): Promise<Outcome<unknown>> =>
      outcome((api[method] as (...a: unknown[]) => Promise<unknown>)(...args).then(plain)),
    /** Loads what was picked into #harness-files (real File objects, webkitRelativePath kept). */
    loadPicked: (): Promise<Outcome<ModelSummary>> =>
      outcome(
        api.loadModel({
          kind: 'files',
          files: [...(input.files ?? [])].map((file) => ({ path: file.webkitRelativePath || file.name, file })),
        }),
      ),
    /** Max |logit - golden| of the loaded model over the golden cases. */
    async goldenDiff(cases: { ids: number[]; logits: number[][] }[]): Promise<number> {
      const session = await runner.open(await api.exportOnnx());
      let worst = 0;
      try {
        for (const c of cases) {
          const got = asFloat32((await session.run({ input_ids: int64Tensor(c.ids, [1, c.ids.length]) }, ['logits'])).logits, 'logits');
          c.logits.flat().forEach((x, i) => (worst = Math.max(worst, Math.abs(got[i]! - x))));
        }
      } finally {
        await session.release();
      }
      return worst;
    },
    /** Runs ONNX bytes with one execution provider; outputs as plain arrays (for backend comparisons). */
    async runOnnx(
      bytes: number[],
      feeds: Record<string, { ids: number[]; dims: number[] }>,
      provider: string,
    ): Promise<Record<string, number[]>> {
      const session = await runner.open(Uint8Array.from(bytes), { preferredBackends: [provider] });
      try {
        const input = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, int64Tensor(v.ids, v.dims)]));
        const out = await session.run(input);
        return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, Array.from(t.data as ArrayLike<number>, Number)]));
      } finally {
        await session.release();
      }
    },
    setBudget(bytes: number | null) {
      budget = bytes === null ? undefined : { bytes, source: 'budget set by the test' };
    },
    realBudget: () => deps.memoryBudget?.(),
    async cacheKeys(): Promise<string[]> {
      return (await (await caches.open(HUB_CACHE_NAME)).keys()).map((r) => r.url);
    },
  };
}

/** Typed arrays become plain arrays so results survive page.evaluate's serialisation. */
function plain(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as unknown as ArrayLike<number>);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export type EngineHarness = ReturnType<typeof createHarness>;

declare global {
  interface Window {
    __engine?: EngineHarness;
    __engineInit?: (hubUrl: string, backend?: 'wasm' | 'webgpu') => void;
  }
}

window.__engineInit = (hubUrl, backend = 'wasm') => {
  window.__engine = createHarness(hubUrl, backend);
};
