/**
 * Size preflight: will a model fit in the memory this browser reports, before anything big is
 * downloaded? The need is estimated from the weight files' sizes on disk and their element type:
 * the download itself while it is held whole (HTTP and Hub; picked files and local folders are read
 * tensor by tensor), plus the float32 weights held twice (the ModelIR, and the copy a run makes in
 * the runtime; sessions take the weights as inputs). The budget comes from what the platform
 * reports (navigator.deviceMemory), with the wasm32 heap (4 GiB) and the 2 GiB ArrayBuffer as
 * separate hard limits; the worker computes it with `browserMemoryBudget` and injects it.
 */
import { ModelTooLargeError } from '../core/errors';
import { fmtBytes } from './download';

export interface MemoryBudget {
  bytes: number;
  /** How the number was obtained, shown in the error, e.g. "navigator.deviceMemory = 8 GB, half usable". */
  source: string;
  /** Largest single ArrayBuffer (a tensor, the ONNX bytes); browsers: 2 GiB. Undefined: no limit. */
  arrayBufferLimit?: number;
  /** onnxruntime-web's wasm32 heap; browsers: 4 GiB. Undefined: no limit. */
  wasmHeapLimit?: number;
}

export interface MemoryNeed {
  /** Bytes of the weight files as stored. */
  download: number;
  /** The same weights as float32. */
  float32: number;
  total: number;
}

export const GiB = 1024 ** 3;
/** wasm32 linear memory limit: onnxruntime-web keeps the session's weights inside it. */
export const WASM_LIMIT = 4 * GiB;
/** Largest ArrayBuffer (and ONNX protobuf) a browser tab can hold. */
export const ARRAY_BUFFER_LIMIT = 2 * GiB;
/** Copies of the float32 weights alive at once after a load (the IR, and a run's copy in the runtime). */
export const FLOAT32_COPIES = 2;

/** Bytes per element from config.json's torch_dtype (default float32). */
export function bytesPerWeight(config: unknown): number {
  const dtype = (config as { torch_dtype?: unknown; dtype?: unknown } | null)?.torch_dtype ?? (config as { dtype?: unknown } | null)?.dtype;
  if (dtype === 'float16' || dtype === 'bfloat16') return 2;
  if (dtype === 'float64') return 8;
  return 4;
}

/** `heldWhole`: the files are read whole (HTTP, Hub) rather than one tensor at a time (then the download is not held). */
export function estimateNeed(downloadBytes: number, bytesPerElement: number, heldWhole = true): MemoryNeed {
  const float32 = Math.round((downloadBytes * 4) / bytesPerElement);
  const download = heldWhole ? downloadBytes : 0;
  return { download, float32, total: download + FLOAT32_COPIES * float32 };
}

export function checkFits(model: string, need: MemoryNeed, budget: MemoryBudget | undefined): void {
  if (!budget || need.total <= budget.bytes) return;
  throw new ModelTooLargeError(
    `${model} is too large for this browser: loading it needs about ${fmtBytes(need.total)} ` +
      `(${need.download > 0 ? `${fmtBytes(need.download)} download + ` : ''}${FLOAT32_COPIES} × ${fmtBytes(need.float32)} of float32 weights), ` +
      `but only about ${fmtBytes(budget.bytes)} is available (${budget.source}).`,
    need.total,
    budget.bytes,
  );
}

export interface PlatformMemory {
  /** navigator.deviceMemory: GB of device RAM, rounded down and capped (8) by the browser. */
  deviceMemory?: number;
  /** performance.memory.jsHeapSizeLimit (Chromium, main thread). */
  jsHeapSizeLimit?: number;
}

/**
 * The budget from what the browser reports. The total is the device memory navigator.deviceMemory
 * reports: that number is rounded down and capped at 8 GB, so it is a lower bound of the RAM (a
 * 16 GB laptop reports 8). The wasm32 heap (4 GiB) and the 2 GiB ArrayBuffer limit are hard limits
 * checked on their own parts (memoryProblem), not caps on the total: the weights held in JS are
 * ArrayBuffers outside both the wasm heap and V8's heap (performance.memory.jsHeapSizeLimit, which
 * is therefore not a limit either). Without deviceMemory the total defaults to 4 GiB.
 */
export function browserMemoryBudget(p: PlatformMemory): MemoryBudget {
  const total: MemoryBudget =
    p.deviceMemory && p.deviceMemory > 0
      ? { bytes: p.deviceMemory * GiB, source: `navigator.deviceMemory = ${p.deviceMemory} GB (a lower bound: browsers cap it at 8)` }
      : { bytes: 4 * GiB, source: 'no navigator.deviceMemory: 4 GiB assumed' };
  return { ...total, arrayBufferLimit: ARRAY_BUFFER_LIMIT, wasmHeapLimit: WASM_LIMIT };
}
