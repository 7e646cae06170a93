/**
 * Size preflight: will a model fit in the memory this browser reports, before anything big is
 * downloaded? The need is estimated from the weight files' sizes on disk and their element type:
 * the download itself, plus the float32 weights held three times (the ModelIR, the ONNX graph
 * built from it, and the inference session's copy). The budget comes from what the platform
 * reports (navigator.deviceMemory, performance.memory.jsHeapSizeLimit) capped by WebAssembly's
 * 4 GiB address space; the worker computes it with `browserMemoryBudget` and injects it.
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
/** Copies of the float32 weights alive at once while a model loads (IR, graph bytes, session). */
export const FLOAT32_COPIES = 3;

/** Bytes per element from config.json's torch_dtype (default float32). */
export function bytesPerWeight(config: unknown): number {
  const dtype = (config as { torch_dtype?: unknown; dtype?: unknown } | null)?.torch_dtype ?? (config as { dtype?: unknown } | null)?.dtype;
  if (dtype === 'float16' || dtype === 'bfloat16') return 2;
  if (dtype === 'float64') return 8;
  return 4;
}

export function estimateNeed(downloadBytes: number, bytesPerElement: number): MemoryNeed {
  const float32 = Math.round((downloadBytes * 4) / bytesPerElement);
  return { download: downloadBytes, float32, total: downloadBytes + FLOAT32_COPIES * float32 };
}

export function checkFits(model: string, need: MemoryNeed, budget: MemoryBudget | undefined): void {
  if (!budget || need.total <= budget.bytes) return;
  throw new ModelTooLargeError(
    `${model} is too large for this browser: loading it needs about ${fmtBytes(need.total)} ` +
      `(${fmtBytes(need.download)} download + ${FLOAT32_COPIES} × ${fmtBytes(need.float32)} of float32 weights), ` +
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

/** The budget from what the browser reports: half the device memory, the JS heap limit, 4 GiB WASM. */
export function browserMemoryBudget(p: PlatformMemory): MemoryBudget {
  const limits: MemoryBudget[] = [{ bytes: WASM_LIMIT, source: 'WebAssembly 4 GiB limit' }];
  if (p.deviceMemory && p.deviceMemory > 0) {
    limits.push({ bytes: (p.deviceMemory * GiB) / 2, source: `navigator.deviceMemory = ${p.deviceMemory} GB, half of it usable` });
  }
  if (p.jsHeapSizeLimit && p.jsHeapSizeLimit > 0) {
    limits.push({ bytes: p.jsHeapSizeLimit, source: `performance.memory.jsHeapSizeLimit = ${fmtBytes(p.jsHeapSizeLimit)}` });
  }
  return { ...limits.reduce((a, b) => (b.bytes < a.bytes ? b : a)), arrayBufferLimit: ARRAY_BUFFER_LIMIT, wasmHeapLimit: WASM_LIMIT };
}
