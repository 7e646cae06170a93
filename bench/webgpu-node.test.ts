/**
 * copyOutOfSharedMemory (bench/webgpu-node.ts): the bytes a GPUQueue.writeBuffer call names, per the
 * WebGPU spec (dataOffset and size count elements of a typed array, bytes of a buffer), copied into
 * unshared memory.
 */
import { describe, expect, it } from 'vitest';
import { copyOutOfSharedMemory } from './webgpu-node';

const shared = () => {
  const sab = new SharedArrayBuffer(32);
  new Uint8Array(sab).forEach((_, i, a) => (a[i] = i));
  return sab;
};

describe('copyOutOfSharedMemory', () => {
  it('a buffer: offset and size in bytes', () => {
    const bytes = copyOutOfSharedMemory(shared(), 4, 6);
    expect(Array.from(bytes)).toEqual([4, 5, 6, 7, 8, 9]);
    expect(bytes.buffer).toBeInstanceOf(ArrayBuffer);
  });

  it('a buffer without a size: to its end', () => {
    expect(Array.from(copyOutOfSharedMemory(shared(), 28))).toEqual([28, 29, 30, 31]);
  });

  it('a typed array view: offset and size in elements, from the view start', () => {
    const view = new Uint32Array(shared(), 8, 4); // bytes 8..23
    expect(Array.from(copyOutOfSharedMemory(view, 1, 2))).toEqual([12, 13, 14, 15, 16, 17, 18, 19]);
    expect(Array.from(copyOutOfSharedMemory(view, 3))).toEqual([20, 21, 22, 23]);
  });
});
