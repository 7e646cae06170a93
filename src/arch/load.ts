/**
 * Loads a Hugging Face model folder (config.json + model.safetensors, or a sharded index) into a
 * ModelIR through the family registry, and exports a ModelIR back to safetensors bytes.
 * Fails early and by name: unsupported model_type before any weight is downloaded; a tensor the
 * config does not account for (e.g. a layer beyond n_layer) after the adapter has run.
 * A folder without safetensors but with an ONNX export is imported from the graph (load-onnx.ts).
 * `preflight` sees the weight files' size before they are downloaded (the memory check).
 */
import { ConfigError, ShapeMismatchError, throwIfAborted } from '../core/errors';
import { checkConfigAgainstElements } from './bounds';
import type { ModelIR } from '../core/ir';
import { writeSafetensors } from '../io/safetensors';
import { readJson, type FileSource } from '../io/source';
import type { TensorGetter } from './adapter';
import { normalizeConfig } from './config';
import { checkpointBytes, hasSafetensors, readCheckpoint, type LoadProgress } from './checkpoint';
import { findOnnxModel, loadOnnxIR, onnxVariant } from './load-onnx';
import type { OnnxImportSource } from '../io/onnx-import/source-model';
import { bytesPerWeight } from '../io/memory-budget';
import { adapterFor } from './registry';

export type { LoadProgress } from './checkpoint';

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
  signal?: AbortSignal;
  /** Display name; default: the folder name, or the repo id of a Hub URL. */
  name?: string;
  /**
   * Called before the weights are downloaded with their size on disk, bytes per element and (when
   * read) config.json, whose shapes give the whole memory estimate; may throw to refuse.
   */
  preflight?: (downloadBytes: number, bytesPerElement: number, config?: unknown) => void;
  /**
   * Which weight variant of an ONNX bundle to load (fp32, fp16, int8 / q8, int4 / q4; load-onnx.ts
   * ONNX_VARIANTS); default: model.safetensors, else the float32 .onnx, else the most precise variant.
   */
  variant?: string;
}

export interface LoadedIR {
  ir: ModelIR;
  /** config.json as read (the exporter copies it). */
  config: unknown;
  /** Set when the model was imported from an ONNX graph: the file to check the import against. */
  onnxSource?: OnnxImportSource;
}

export async function loadModelIR(source: FileSource, options: LoadOptions = {}): Promise<LoadedIR> {
  const { onProgress, signal } = options;
  const name = options.name ?? modelName(source.location);
  // A quantized variant lives only in ONNX; fp32 is model.safetensors or the float32 .onnx.
  const quantized = options.variant !== undefined && onnxVariant(options.variant) !== 'fp32';
  if (quantized || !(await hasSafetensors(source))) {
    const onnx = await findOnnxModel(source, options.variant);
    if (onnx) {
      await preflightOnnx(source, onnx, options);
      return loadOnnxIR(source, onnx, { ...options, name });
    }
  }
  onProgress?.({ stage: 'config', done: 0, total: 1, message: 'Reading config.json' });
  const config = await readConfig(source, signal);
  const { spec, layers, originalLayerIndex } = normalizeConfig(config);
  const adapter = adapterFor(spec);
  if (options.preflight) {
    const bytes = await checkpointBytes(source, signal);
    if (bytes !== undefined) options.preflight(bytes, bytesPerWeight(config), config);
  }
  const checkpoint = await readCheckpoint(source, { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) });
  throwIfAborted(signal, 'Loading the model');
  checkConfigAgainstElements(spec, layers, checkpoint.elements, checkpoint.files);
  onProgress?.({ stage: 'weights', done: 0, total: 1, message: 'Converting weights' });
  const requested = new Set<string>();
  const get: TensorGetter = (name) => {
    requested.add(name);
    return checkpoint.get(name);
  };
  const ir = adapter.fromTensors(spec, layers, get, name, checkpoint.files);
  const unused = checkpoint.names.filter((n) => !requested.has(n) && !adapter.ignoredTensors?.test(n));
  if (unused.length > 0) {
    throw new ShapeMismatchError(
      `${checkpoint.files} has ${unused.length} tensor(s) that config.json does not account for, e.g. ${unused
        .slice(0, 3)
        .map((n) => `"${n}"`)
        .join(', ')}.`,
    );
  }
  onProgress?.({ stage: 'weights', done: 1, total: 1, message: 'Weights ready' });
  return { ir: { ...ir, originalLayerIndex }, config };
}

/** The .onnx file plus its external data files (model.onnx_data, model.onnx.data) beside it. */
async function preflightOnnx(source: FileSource, onnx: string, options: LoadOptions): Promise<void> {
  if (!options.preflight || !source.size) return;
  const own = await source.size(onnx);
  if (own === undefined) return;
  const stem = onnx.replace(/\.onnx$/, '');
  const data = (await source.list?.())?.filter((p) => p !== onnx && p.startsWith(stem) && /\.onnx[._]data$|\.data$/.test(p)) ?? [];
  let total = own;
  for (const p of data) total += (await source.size(p)) ?? 0;
  options.preflight(total, 4);
}

function readConfig(source: FileSource, signal?: AbortSignal): Promise<unknown> {
  return readJson(source, 'config.json', { error: ConfigError, ...(signal ? { signal } : {}) });
}

/** "…/demo-gpt2" -> "demo-gpt2"; "https://huggingface.co/org/model/resolve/main" -> "org/model". */
export function modelName(location: string): string {
  const hub = /huggingface\.co\/(.+?)\/resolve\//.exec(location);
  if (hub?.[1]) return hub[1];
  return (
    location
      .replace(/[/\\]+$/, '')
      .split(/[/\\]/)
      .pop() || 'model'
  );
}

/** The model's tensors in its family's checkpoint layout, as F32 safetensors bytes. */
export function exportSafetensors(ir: ModelIR): Uint8Array {
  return writeSafetensors(adapterFor(ir.spec).toTensors(ir), { format: 'pt', producer: 'prune-studio' });
}
