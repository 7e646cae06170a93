/** Dense float32 tensors in row-major order: the one weight type of the pure core. */

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

let sharedScopes = 0;
let plainScopes = 0;

/**
 * A new zeroed float32 array: on a SharedArrayBuffer while `allocatingShared` runs (a model load
 * whose weights isolated sessions will read, core/shared-weights.ts), else plain.
 */
export function allocFloat32(n: number): Float32Array {
  return allocatesShared() ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
}

/** Whether allocFloat32 makes shared arrays now (inside allocatingShared, outside allocatingPlain). */
export function allocatesShared(): boolean {
  return sharedScopes > 0 && plainScopes === 0;
}

/** Runs `fn` with allocFloat32 making shared arrays (the caller checks that SharedArrayBuffer exists). */
export async function allocatingShared<T>(fn: () => Promise<T>): Promise<T> {
  sharedScopes++;
  try {
    return await fn();
  } finally {
    sharedScopes--;
  }
}

/**
 * Runs `fn` (synchronous) with plain allocation: for transient arrays inside a shared scope (a
 * checkpoint tensor that is transposed into the IR), since V8 does not count SharedArrayBuffers as
 * memory pressure and collects garbage ones late.
 */
export function allocatingPlain<T>(fn: () => T): T {
  plainScopes++;
  try {
    return fn();
  } finally {
    plainScopes--;
  }
}

export function tensor(shape: readonly number[], data?: Float32Array): Tensor {
  const n = elementCount(shape);
  if (data && data.length !== n) {
    throw new RangeError(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${n}`);
  }
  return { shape: [...shape], data: data ?? allocFloat32(n) };
}
