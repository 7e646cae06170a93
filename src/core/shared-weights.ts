/**
 * Weights on SharedArrayBuffers: an isolated Runner (core/runner.ts `isolate`) lives in another
 * realm, and a typed array crosses into it without a copy only when its buffer is shared. The
 * loader moves a fresh IR's arrays there (`shareWeights`, one tensor at a time, so the transient
 * extra is one tensor) when the runner can isolate; arrays made later (a sliced model) are copied
 * on their first crossing (`toShared`).
 */
import type { ModelIR } from './ir';
import { tensorsUnder } from './weight-residency';

/** Whether SharedArrayBuffer can be made here (a browser needs cross-origin isolation). */
export function canShareMemory(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean; process?: { versions?: { node?: string } } };
  if (typeof g.SharedArrayBuffer !== 'function') return false;
  return typeof g.process?.versions?.node === 'string' || g.crossOriginIsolated === true;
}

export function isShared(data: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer === 'function' && data.buffer instanceof SharedArrayBuffer;
}

/** `data` itself when it is shared, else a copy of it on a SharedArrayBuffer. */
export function toShared(data: Float32Array): Float32Array {
  if (isShared(data)) return data;
  const out = new Float32Array(new SharedArrayBuffer(data.byteLength));
  out.set(data);
  return out;
}

/**
 * Moves every weight array of a freshly loaded `ir` onto a SharedArrayBuffer, in place (values and
 * tensor objects unchanged; arrays shared by two tensors stay shared). Only for an IR nothing else
 * holds views of yet. Returns the bytes moved.
 */
export function shareWeights(ir: ModelIR): number {
  // weak: an old array is garbage as soon as the last tensor holding it moved
  const moved = new WeakMap<Float32Array, Float32Array>();
  let bytes = 0;
  for (const t of tensorsUnder(ir.weights)) {
    if (isShared(t.data)) continue;
    let shared = moved.get(t.data);
    if (!shared) {
      shared = toShared(t.data);
      moved.set(t.data, shared);
      bytes += shared.byteLength;
    }
    (t as { data: Float32Array }).data = shared;
  }
  return bytes;
}
