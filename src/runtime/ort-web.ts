/**
 * Runner over onnxruntime-web: the browser Worker (WebGPU when available, else WASM) and Node
 * (WASM, for tests and benchmarks). WASM threads = min(hardwareConcurrency, 4) when the page is
 * cross-origin isolated or in Node, else 1. onnxruntime-web's settings are global (ort.env) and
 * fixed by the first session, so the first Runner to open a session decides them.
 */
import * as ort from 'onnxruntime-web';
import type { BackendInfo, Runner, SessionOptions } from '../core/runner';
import { runtimeFailure, wrapSession, type OrtTensorClass } from './convert';

export interface WebRunnerOptions {
  /** Where ort-wasm-*.mjs/.wasm are served (the app serves them under `${base}ort/`). Node needs none. */
  wasmPaths?: string;
  /** Try WebGPU first when `navigator.gpu` exists (default true). */
  preferWebGpu?: boolean;
  /** WASM threads; default min(hardwareConcurrency, 4) where threads are allowed, else 1. */
  threads?: number;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function hardwareConcurrency(): Promise<number> {
  const n = globalThis.navigator?.hardwareConcurrency;
  if (n) return n;
  if (!isNode) return 1;
  // Node 20 has no navigator; the specifier is hidden from bundlers (this branch never runs in a browser).
  const specifier = 'node:os';
  const os = (await import(/* @vite-ignore */ specifier)) as { availableParallelism(): number };
  return os.availableParallelism();
}

async function defaultThreads(): Promise<number> {
  const threadsAllowed = isNode || globalThis.crossOriginIsolated === true;
  return threadsAllowed ? Math.max(1, Math.min(await hardwareConcurrency(), 4)) : 1;
}

let configured: Promise<number> | undefined;

/** Sets ort.env once (threads, wasm paths, log level); returns the thread count in effect. */
function configure(opts: WebRunnerOptions): Promise<number> {
  configured ??= (async () => {
    const threads = opts.threads ?? (await defaultThreads());
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.proxy = false;
    if (opts.wasmPaths) ort.env.wasm.wasmPaths = opts.wasmPaths;
    ort.env.logLevel = 'error';
    return threads;
  })();
  return configured;
}

function defaultBackends(opts: WebRunnerOptions): string[] {
  const hasWebGpu = !isNode && typeof globalThis.navigator !== 'undefined' && 'gpu' in globalThis.navigator;
  return hasWebGpu && opts.preferWebGpu !== false ? ['webgpu', 'wasm'] : ['wasm'];
}

export function createWebRunner(defaults: WebRunnerOptions = {}): Runner {
  return {
    async open(model: Uint8Array, options: SessionOptions = {}) {
      const threads = await configure({ ...defaults, ...(options.threads ? { threads: options.threads } : {}) });
      const backends = options.preferredBackends ?? defaultBackends(defaults);
      const errors: string[] = [];
      // One execution provider per attempt, so BackendInfo names the one actually in use.
      for (const name of backends) {
        try {
          const session = await ort.InferenceSession.create(model, {
            executionProviders: [name],
            graphOptimizationLevel: 'all',
            logSeverityLevel: 3,
          });
          const backend: BackendInfo = {
            name,
            threads: ort.env.wasm.numThreads ?? threads,
            engine: `onnxruntime-web ${ort.env.versions.web ?? ort.env.versions.common}`,
          };
          return wrapSession(session, backend, ort.Tensor as unknown as OrtTensorClass);
        } catch (e) {
          errors.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
      throw runtimeFailure('onnxruntime-web could not open the model', new Error(errors.join('; ')));
    },
  };
}
