/** Dense float32 tensors in row-major order: the one weight type of the pure core. */

export interface Tensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function tensor(shape: readonly number[], data?: Float32Array): Tensor {
  const n = elementCount(shape);
  if (data && data.length !== n) {
    throw new RangeError(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${n}`);
  }
  return { shape: [...shape], data: data ?? new Float32Array(n) };
}
