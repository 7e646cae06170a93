/**
 * Reads the weights of a Hugging Face model folder: model.safetensors, or
 * model.safetensors.index.json + its shards. Exposes them as a TensorGetter plus the list of names,
 * so the loader can tell which tensors config.json left unexplained. A source that reads byte
 * ranges (picked files, directories) is read one tensor at a time (checkpoint-ranged.ts: the file's
 * bytes are never held whole); others are read whole and each tensor converted when asked for.
 */
import { InputError, SafetensorsError, UnsupportedModelError } from '../core/errors';
import type { SafetensorsFile } from '../io/safetensors';
import { readShard, withFile, type ReadOptions } from './shard-read';
import type { FileSource } from '../io/source';
import { parseJsonBytes } from '../io/json';
import type { TensorGetter } from './adapter';

export type { LoadProgress, ReadOptions } from './shard-read';

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';

export interface Checkpoint {
  /** Where the tensors come from, for error messages, e.g. "/models/demo-gpt2/model.safetensors". */
  readonly files: string;
  readonly names: readonly string[];
  /** Values the tensors hold (from the headers; nothing converted). */
  readonly elements: number;
  readonly get: TensorGetter;
}

function elementsOf(files: Iterable<SafetensorsFile>): number {
  let n = 0;
  for (const f of files) for (const t of f.header.values()) n += t.shape.reduce((a, b) => a * b, 1);
  return n;
}

export async function readCheckpoint(source: FileSource, options: ReadOptions = {}): Promise<Checkpoint> {
  if (await source.has(SINGLE_FILE)) {
    const file = await readShard(source, SINGLE_FILE, options, '');
    return {
      files: join(source.location, SINGLE_FILE),
      names: [...file.header.keys()],
      elements: elementsOf([file]),
      get: getter(() => file, SINGLE_FILE),
    };
  }
  if (await source.has(INDEX_FILE)) return readSharded(source, options);
  if (await source.has('pytorch_model.bin')) {
    throw new UnsupportedModelError(
      `${source.location} has only pytorch_model.bin; Prune Studio reads safetensors weights.`,
      'Convert the checkpoint with transformers: model.save_pretrained(dir, safe_serialization=True).',
    );
  }
  throw new InputError(
    `${source.location} has neither ${SINGLE_FILE} nor ${INDEX_FILE}.`,
    'Pick a Hugging Face model folder with safetensors weights.',
  );
}

/** Bytes of the weight files (single file or all shards), when the source can tell without downloading them. */
export async function checkpointBytes(source: FileSource, signal?: AbortSignal): Promise<number | undefined> {
  if (!source.size) return undefined;
  if (await source.has(SINGLE_FILE)) return source.size(SINGLE_FILE);
  if (!(await source.has(INDEX_FILE))) return undefined;
  const shards = [...new Set(parseIndex(await source.read(INDEX_FILE, undefined, signal)).values())];
  let total = 0;
  for (const shard of shards) {
    const n = await source.size(shard);
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}

/** Whether the folder has safetensors weights (single file or sharded index). */
export async function hasSafetensors(source: FileSource): Promise<boolean> {
  return (await source.has(SINGLE_FILE)) || (await source.has(INDEX_FILE));
}

async function readSharded(source: FileSource, options: ReadOptions): Promise<Checkpoint> {
  const weightMap = parseIndex(await source.read(INDEX_FILE, undefined, options.signal));
  const shards = [...new Set(weightMap.values())];
  const files = new Map<string, SafetensorsFile>();
  for (const [i, path] of shards.entries()) {
    files.set(path, await readShard(source, path, options, ` (${i + 1}/${shards.length})`));
  }
  for (const [name, path] of weightMap) {
    if (!files.get(path)?.header.has(name))
      throw new SafetensorsError(`${INDEX_FILE} puts tensor "${name}" in ${path}, but ${path} does not contain it.`);
  }
  const names = new Set(weightMap.keys());
  for (const f of files.values()) for (const n of f.header.keys()) names.add(n);
  const get: TensorGetter = (name) => {
    const path = weightMap.get(name);
    return path === undefined ? undefined : getter(() => files.get(path), path)(name);
  };
  return {
    files: `${join(source.location, INDEX_FILE)} (${shards.length} shards)`,
    names: [...names],
    elements: elementsOf(files.values()),
    get,
  };
}

/** weight_map of an index file, validated: tensor name -> shard path inside the folder. */
export function parseIndex(bytes: Uint8Array): Map<string, string> {
  const json = parseJsonBytes(bytes, INDEX_FILE, { error: SafetensorsError });
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map))
    throw new SafetensorsError(`${INDEX_FILE} has no "weight_map" object.`);
  const out = new Map<string, string>();
  for (const [name, path] of Object.entries(map)) {
    if (
      typeof path !== 'string' ||
      !/\.safetensors$/.test(path) ||
      path.startsWith('/') ||
      path.split('/').includes('..') ||
      path.includes('://')
    ) {
      throw new SafetensorsError(
        `${INDEX_FILE}: tensor "${name}" points to ${JSON.stringify(path)}, which is not a .safetensors file inside the model folder.`,
      );
    }
    out.set(name, path);
  }
  return out;
}

function getter(file: () => SafetensorsFile | undefined, path: string): TensorGetter {
  return (name) => {
    const f = file();
    return f?.header.has(name) ? withFile(path, () => f.getFloat32(name)) : undefined;
  };
}

function join(location: string, path: string): string {
  return `${location.replace(/\/+$/, '')}/${path}`;
}
