/** Loads a Hugging Face model folder (config.json + model.safetensors or a sharded index) into a ModelIR. */
import { ConfigError, SafetensorsError, throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';
import type { JobOptions } from '../api/types';
import { normalizeConfig } from '../io/hf-config';
import { parseSafetensors, writeSafetensors, type SafetensorsFile } from '../io/safetensors';
import { readJson, type FileSource } from '../io/source';
import { adapterFor } from './registry';

async function readShard(source: FileSource, path: string, options: JobOptions, index: number, count: number): Promise<SafetensorsFile> {
  const bytes = await source.read(
    path,
    (loaded, total) => options.onProgress?.({ stage: 'download', done: loaded, total: total || loaded, message: `Downloading ${path}${count > 1 ? ` (${index + 1}/${count})` : ''}` }),
    options.signal,
  );
  throwIfAborted(options.signal, 'Loading the model');
  try {
    return parseSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new SafetensorsError(`${path}: ${e.message}`);
    throw e;
  }
}

async function shardPaths(source: FileSource): Promise<string[]> {
  if (await source.has('model.safetensors')) return ['model.safetensors'];
  if (await source.has('model.safetensors.index.json')) {
    const index = await readJson<{ weight_map?: Record<string, string> }>(source, 'model.safetensors.index.json');
    if (!index.weight_map) throw new ConfigError('model.safetensors.index.json has no weight_map.');
    return [...new Set(Object.values(index.weight_map))];
  }
  throw new ConfigError(`No model.safetensors (or model.safetensors.index.json) in ${source.location}.`, 'Pick a folder with safetensors weights.');
}

function folderName(location: string): string {
  return location.replace(/\/+$/, '').split('/').pop() || 'model';
}

export async function loadModelIR(source: FileSource, options: JobOptions = {}): Promise<{ ir: ModelIR; config: unknown }> {
  options.onProgress?.({ stage: 'config', done: 0, total: 1, message: 'Reading config.json' });
  const config = await readJson(source, 'config.json');
  const { spec, layers } = normalizeConfig(config);
  const paths = await shardPaths(source);
  const files: SafetensorsFile[] = [];
  for (const [i, p] of paths.entries()) files.push(await readShard(source, p, options, i, paths.length));
  const get = (name: string): Tensor | undefined => {
    const f = files.find((x) => x.tensors.has(name));
    return f?.getFloat32(name);
  };
  const ir = adapterFor(spec.family).fromTensors(spec, layers, get, folderName(source.location));
  return { ir, config };
}

export function exportSafetensors(ir: ModelIR): Uint8Array {
  return writeSafetensors(adapterFor(ir.spec.family).toTensors(ir), { format: 'pt', producer: 'prune-studio' });
}
