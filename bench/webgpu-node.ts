/**
 * WebGPU in Node for the scale bench's `node-webgpu` backend: Dawn (the WebGPU implementation
 * Chromium uses) through the `webgpu` npm package's dawn.node, installed as `navigator.gpu` and the
 * WebGPU globals, so onnxruntime-web's browser build (its WebGPU provider) runs in Node on a GPU
 * machine that has no browser (the `device` tool's machines). The package is not a dependency of
 * the project (51 MB of binaries for other platforms): `npm pack webgpu` and pass its folder.
 *
 * dawn.node's GPUQueue.writeBuffer takes no SharedArrayBuffer-backed data, while Chromium's does;
 * onnxruntime-web's threaded wasm heap is shared memory, so such a write goes through a copy here.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface DawnModule {
  create(flags: string[]): GpuLike;
  globals: Record<string, unknown> & { GPUQueue: { prototype: { writeBuffer: WriteBuffer } } };
}
interface GpuLike {
  requestAdapter(options?: object): Promise<{ info?: Record<string, unknown> } | null>;
}
type WriteBuffer = (
  this: unknown,
  buffer: unknown,
  offset: number,
  data: ArrayBufferLike | ArrayBufferView,
  dataOffset?: number,
  size?: number,
) => void;

/** The bytes a writeBuffer call names (offset and size count elements for a typed array, bytes for a buffer), copied out of shared memory. */
export function copyOutOfSharedMemory(data: ArrayBufferLike | ArrayBufferView, dataOffset = 0, size?: number): Uint8Array {
  const view = ArrayBuffer.isView(data);
  const unit = view ? ((data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1;
  const base = view ? data.byteOffset : 0;
  const start = base + dataOffset * unit;
  const length = size === undefined ? data.byteLength - dataOffset * unit : size * unit;
  const buffer = view ? data.buffer : data;
  return new Uint8Array(buffer, start, length).slice();
}

const isShared = (data: ArrayBufferLike | ArrayBufferView) =>
  typeof SharedArrayBuffer !== 'undefined' &&
  (data instanceof SharedArrayBuffer || (ArrayBuffer.isView(data) && data.buffer instanceof SharedArrayBuffer));

/**
 * Where onnxruntime-web's wasm files are, as its browser build wants them in Node (a path: it
 * cannot fetch a file: URL): the given folder, else the installed package's dist/.
 */
export function ortWasmPaths(given?: string): string {
  const dir = given ?? dirname(createRequire(import.meta.url).resolve('onnxruntime-web'));
  return dir.endsWith('/') ? dir : `${dir}/`;
}

export interface DawnAdapterInfo {
  vendor?: unknown;
  architecture?: unknown;
  device?: unknown;
  description?: unknown;
  isFallbackAdapter?: unknown;
}

/** Installs Dawn from the `webgpu` package folder as navigator.gpu; returns the adapter onnxruntime-web will get. */
export async function installDawn(packageDir: string): Promise<DawnAdapterInfo> {
  const dawn = (await import(pathToFileURL(join(packageDir, 'index.js')).href)) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const write = dawn.globals.GPUQueue.prototype.writeBuffer;
  dawn.globals.GPUQueue.prototype.writeBuffer = function (buffer, offset, data, dataOffset, size) {
    if (!isShared(data)) return write.call(this, buffer, offset, data, dataOffset, size);
    const bytes = copyOutOfSharedMemory(data, dataOffset, size);
    return write.call(this, buffer, offset, bytes, 0, bytes.byteLength);
  };
  const navigator = { gpu, hardwareConcurrency: availableParallelism(), userAgent: `Node.js ${process.version} (Dawn)` };
  Object.defineProperty(globalThis, 'navigator', { value: navigator, configurable: true, writable: true });
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter)
    throw new Error('Dawn found no WebGPU adapter (is a Vulkan loader and driver installed? VK_DRIVER_FILES / VK_ICD_FILENAMES)');
  const info = adapter.info ?? {};
  return {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter,
  };
}
