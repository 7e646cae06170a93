/**
 * One safetensors file of a checkpoint, read whole or, where the source reads byte ranges (picked
 * files, directories), one tensor at a time: the header first (8 bytes, then 8 + N), validated
 * against the file's size exactly like a whole read, then each float tensor's byte range converted
 * to float32 (an F32 tensor's read buffer itself, not a copy, where plain arrays are made). The
 * ranged read never holds the file's bytes whole, so a load peaks at the float32 weights plus one
 * tensor's bytes instead of the file plus the weights. Each tensor is handed out
 * once (the adapter keeps it or its transposed copy; the original is not held twice).
 */
import { SafetensorsError, throwIfAborted } from '../core/errors';
import type { Tensor } from '../core/tensor';
import { FLOAT_DTYPES, type Dtype } from '../io/safetensors-dtype';
import {
  floatInfo,
  parseSafetensors,
  parseSafetensorsHeader,
  readHeaderLength,
  tensorFromOwnedBytes,
  type SafetensorsFile,
} from '../io/safetensors';
import type { FileSource } from '../io/source';

export interface LoadProgress {
  /** 'config' | 'download' | 'weights' */
  stage: string;
  done: number;
  total: number;
  message?: string;
}

export interface ReadOptions {
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
}

export async function readShard(source: FileSource, path: string, options: ReadOptions, counter: string): Promise<SafetensorsFile> {
  const size = source.readRange && source.size ? await source.size(path) : undefined;
  if (size !== undefined) return readShardByTensor(source, path, size, options, counter);
  const message = `Downloading ${path}${counter}`;
  options.onProgress?.({ stage: 'download', done: 0, total: 0, message });
  const bytes = await source.read(
    path,
    (loaded, total) => options.onProgress?.({ stage: 'download', done: loaded, total: total || loaded, message }),
    options.signal,
  );
  throwIfAborted(options.signal, 'Loading the model');
  return withFile(path, () => parseSafetensors(bytes));
}

/** Prefixes SafetensorsError messages with the file they concern. */
export function withFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${path}: ${e.message}`, e.hint);
    throw e;
  }
}

async function readHeader(source: FileSource, path: string, size: number, signal?: AbortSignal) {
  const read = (end: number) => source.readRange!(path, 0, Math.min(end, size), signal);
  const first = await read(8);
  const n = withFile(path, () => readHeaderLength(first, size));
  const start = await read(8 + n);
  return withFile(path, () => parseSafetensorsHeader(start, size));
}

async function readShardByTensor(
  source: FileSource,
  path: string,
  size: number,
  options: ReadOptions,
  counter: string,
): Promise<SafetensorsFile> {
  const { signal, onProgress } = options;
  const message = `Reading ${path}${counter}`;
  const parsed = await readHeader(source, path, size, signal);
  const dataStart = 8 + parsed.headerLength;
  const tensors = new Map<string, Tensor>();
  let done = dataStart;
  onProgress?.({ stage: 'download', done, total: size, message });
  for (const [name, info] of parsed.header) {
    if (!FLOAT_DTYPES.includes(info.dtype as Dtype)) continue;
    throwIfAborted(signal, 'Loading the model');
    const [begin, end] = info.offsets;
    const bytes = await source.readRange!(path, dataStart + begin, dataStart + end, signal);
    if (bytes.length !== end - begin)
      throw new SafetensorsError(`${path}: tensor "${name}" ends past the end of the file (read ${bytes.length} of ${end - begin} bytes).`);
    // the read is a fresh array handed over: F32 values are kept as read, not copied (one buffer, no garbage)
    tensors.set(name, tensorFromOwnedBytes(info, bytes));
    done = dataStart + end;
    onProgress?.({ stage: 'download', done, total: size, message });
  }
  throwIfAborted(signal, 'Loading the model');
  return {
    ...parsed,
    getFloat32(name) {
      floatInfo(parsed.header, name);
      const t = tensors.get(name);
      if (!t) throw new SafetensorsError(`Tensor "${name}" was asked for twice while loading; this is a bug in the model adapter.`);
      tensors.delete(name);
      return t;
    },
  };
}
