/**
 * Runner over onnxruntime-web: the browser Worker (WebGPU when a hardware adapter is available,
 * else WASM; a software adapter such as SwiftShader is ~100x slower than WASM, so it is skipped) and Node
 * (WASM, for tests and benchmarks; WebGPU only where a bench installs Dawn as navigator.gpu and loads
 * onnxruntime-web's browser build, bench/webgpu-node.ts). WASM threads = min(hardwareConcurrency, 4) when the page is
 * cross-origin isolated or in Node, else 1. onnxruntime-web's settings are global (ort.env) and
 * fixed by the first session, so the first Runner to open a session decides them.
 */
import * as ort from 'onnxruntime-web';
import { sessionConfigEntries, type BackendInfo, type IsolatedRunner, type Runner, type SessionOptions } from '../core/runner';
import { canShareMemory } from '../core/shared-weights';
import { runtimeFailure, wrapSession, type OrtTensorClass } from './convert';
import { isolatedRunner } from './isolate-client';
import type { ChildRunnerOptions } from './isolate-protocol';
import type * as IsolateNodeModule from './isolate-node';

export interface WebRunnerOptions {
  /** Where ort-wasm-*.mjs/.wasm are served (the app serves them under `${base}ort/`). Node needs none. */
  wasmPaths?: string;
  /** Try WebGPU first when `navigator.gpu` offers a hardware adapter (default true). */
  preferWebGpu?: boolean;
  /**
   * Also use a software (fallback) WebGPU adapter such as SwiftShader, which runs on the CPU far
   * slower than WASM (default false: such an adapter means WASM; tests of the WebGPU path set it).
   */
  allowSoftwareGpu?: boolean;
  /** WASM threads; default min(hardwareConcurrency, 4) where threads are allowed, else 1. */
  threads?: number;
  /**
   * Offer `isolate()` (default true where SharedArrayBuffer can be made): sessions in a child realm
   * (a Node worker thread; browsers get none) with its own wasm heap, freed on dispose.
   */
  isolate?: boolean;
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

interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { isFallbackAdapter?: boolean; architecture?: string; vendor?: string };
}

/** Whether WebGPU can run here: an adapter exists, and it is a hardware one unless software is allowed. */
export async function webGpuUsable(allowSoftware: boolean): Promise<boolean> {
  const gpu = (globalThis.navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } } | undefined)?.gpu;
  if (!gpu) return false;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return false;
    const software =
      adapter.info?.isFallbackAdapter === true ||
      adapter.isFallbackAdapter === true ||
      /swiftshader/i.test(adapter.info?.architecture ?? '');
    return allowSoftware || !software;
  } catch {
    return false;
  }
}

let gpuCheck: Promise<boolean> | undefined;

async function defaultBackends(opts: WebRunnerOptions): Promise<string[]> {
  if (opts.preferWebGpu === false) return ['wasm'];
  gpuCheck ??= webGpuUsable(opts.allowSoftwareGpu === true);
  return (await gpuCheck) ? ['webgpu', 'wasm'] : ['wasm'];
}

async function openIsolate(defaults: WebRunnerOptions): Promise<IsolatedRunner> {
  // the child runs with the threads this realm settled on (or was given)
  const { isolate: _isolate, ...rest } = defaults;
  const options: ChildRunnerOptions = { ...rest, threads: await configure(defaults) };
  // hidden from bundlers: node:worker_threads never reaches a browser bundle
  const specifier = './isolate-node.ts';
  const { nodeIsolate } = (await import(/* @vite-ignore */ specifier)) as typeof IsolateNodeModule;
  // the child reads external data marked `stored` from its file itself (isolate-node-child.ts)
  return { ...isolatedRunner(nodeIsolate(options)), readsStoredFiles: true };
}

export function createWebRunner(defaults: WebRunnerOptions = {}): Runner {
  // Node only: in Chromium a nested isolate Worker did not give its memory back (bench/scale-browser.ts,
  // gpt2-124m: generation at 8.0x the fp32 weights against 3.0x in process), so a tab keeps its sessions.
  const canIsolate = defaults.isolate !== false && isNode && canShareMemory();
  return {
    ...(canIsolate ? { isolate: () => openIsolate(defaults) } : {}),
    // the wasm module copies each mounted external-data tensor with subarray() while a session opens
    readsExternalDataBySubarray: true,
    async open(model: Uint8Array, options: SessionOptions = {}) {
      const threads = await configure({ ...defaults, ...(options.threads ? { threads: options.threads } : {}) });
      const backends = options.preferredBackends ?? (await defaultBackends(defaults));
      const errors: string[] = [];
      const extra = sessionConfigEntries(options);
      // One execution provider per attempt, so BackendInfo names the one actually in use.
      for (const name of backends) {
        try {
          const session = await ort.InferenceSession.create(model, {
            executionProviders: [name],
            graphOptimizationLevel: 'all',
            logSeverityLevel: 3,
            ...(extra ? { extra } : {}),
            ...(options.externalData ? { externalData: options.externalData.map((f) => ({ path: f.path, data: f.data })) } : {}),
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
