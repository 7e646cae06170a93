/**
 * The Runner contract: how pure code asks an inference engine to run an ONNX model.
 * Implemented only under src/runtime/ (onnxruntime-web in the Worker and in Node,
 * onnxruntime-node for the CLI). Nothing else imports onnxruntime.
 */

import type { StoredBytes } from './gram-store';
export type RunnerTensor =
  { type: 'float32'; dims: readonly number[]; data: Float32Array } | { type: 'int64'; dims: readonly number[]; data: BigInt64Array };

export type Feeds = Record<string, RunnerTensor>;

export interface BackendInfo {
  /** 'wasm' | 'webgpu' | 'cpu' (onnxruntime-node) */
  name: string;
  threads: number;
  /** e.g. 'onnxruntime-web 1.30.0' */
  engine: string;
}

export interface RunnerSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly backend: BackendInfo;
  /** Runs the model; `outputs` limits which outputs are fetched (default: all). */
  run(feeds: Feeds, outputs?: readonly string[]): Promise<Record<string, RunnerTensor>>;
  release(): Promise<void>;
}

/** One external-data file of a model: its bytes, or (`stored`, with empty `data`) where a runner that reads stored files finds them. */
export interface ExternalFile {
  path: string;
  data: Uint8Array;
  owned?: boolean;
  stored?: StoredBytes;
}

export interface SessionOptions {
  /** Preferred execution providers in order, e.g. ['webgpu', 'wasm']. */
  preferredBackends?: readonly string[];
  threads?: number;
  /**
   * Files the model's external-data initializers name (location → bytes, not copied): the runner
   * reads each tensor from them (onnxruntime-web copies it straight into the wasm heap;
   * onnxruntime-node gets the data inlined). io/onnx/external-view.ts makes such a model from ONNX bytes.
   * `owned`: the bytes are a copy made for this call, which the runner may take (an isolated runner
   * transfers their buffer to its thread instead of copying it).
   */
  externalData?: readonly ExternalFile[];
  /**
   * false: onnxruntime keeps each constant weight as loaded instead of also pre-packing the MatMul /
   * Gemm weights into its kernel layout (session config `session.disable_prepacking`). For one-shot
   * sessions (export verification, a written file's perplexity): a lower wasm-heap high water and
   * no packing time, for slightly different float rounding (the same GEMM, packed per run).
   */
  prepack?: false;
}

/** onnxruntime session-config entries (SessionOptions.extra) that implement `options`. */
export function sessionConfigEntries(options: SessionOptions): Record<string, Record<string, string>> | undefined {
  return options.prepack === false ? { session: { disable_prepacking: '1' } } : undefined;
}

export interface Runner {
  open(model: Uint8Array, options?: SessionOptions): Promise<RunnerSession>;
  /**
   * A Runner in a fresh realm (its own engine instance, e.g. a worker with its own wasm heap) whose
   * memory is returned to the system by `dispose` (which also releases its sessions). Absent where
   * a released session already frees its memory (onnxruntime-node) or no such realm can be made.
   * Float32 feeds on SharedArrayBuffers reach it without a copy (see core/shared-weights.ts).
   */
  isolate?(): Promise<IsolatedRunner>;
  /**
   * True when the runner copies each external-data tensor into its engine through
   * `data.subarray(begin, end)` of the bytes given, one tensor at a time, while it opens the session
   * (onnxruntime-web): then a `lazyBytes` view (core/lazy-bytes.ts) reads each tensor only when
   * asked, and opening holds one tensor at a time instead of all of them.
   */
  readonly readsExternalDataBySubarray?: boolean;
  /** True when the runner reads external data marked `stored` from its file itself (Node isolates). */
  readonly readsStoredFiles?: boolean;
}

export interface IsolatedRunner extends Runner {
  dispose(): Promise<void>;
}

export function int64Tensor(values: ArrayLike<number>, dims: readonly number[]): RunnerTensor {
  const data = new BigInt64Array(values.length);
  for (let i = 0; i < values.length; i++) data[i] = BigInt(values[i] ?? 0);
  return { type: 'int64', dims, data };
}

export function float32Tensor(data: Float32Array, dims: readonly number[]): RunnerTensor {
  return { type: 'float32', dims, data };
}

export function asFloat32(t: RunnerTensor | undefined, name: string): Float32Array {
  if (!t || t.type !== 'float32') throw new TypeError(`expected float32 output "${name}"`);
  return t.data;
}
