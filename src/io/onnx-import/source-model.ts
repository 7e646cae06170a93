/**
 * The imported ONNX file as a runnable model, for the numeric check of an import (api/verify-import.ts):
 * external data inlined (a session opened from bytes cannot resolve paths), extra outputs on the
 * residual stream the importer matched, and the feeds an exporter's decoder expects
 * (input_ids, attention_mask, position_ids, empty past key / values).
 */
import { OnnxFormatError } from '../../core/errors';
import { int64Tensor, float32Tensor, type Feeds } from '../../core/runner';
import { DataType, type ModelProto, type TensorProto, type ValueInfoProto } from '../onnx/types';
import type { Rederived } from './dequantize';
import { externalLocation, type ExternalReader } from './initializers';

export interface OnnxImportSource {
  /** The file as read, external data inlined (no copies: raw_data views the files' bytes). */
  model: ModelProto;
  /** The residual stream values the importer matched: entering block i, and after the last block. */
  hidden: string[];
  /**
   * Set for a file whose activations are quantized at run time (int8 DynamicQuantizeLinear +
   * MatMulInteger), external data inlined: `float`, the float32 graph the importer read (weights
   * dequantized), which the import must match; `fakeQuantized`, the same with the activations still
   * quantized (DequantizeLinear before each MatMul), which must match the file value by value:
   * `rederived`, the values computed from dequantized weights under the file's names.
   */
  dequantized?: { float: ModelProto; fakeQuantized: ModelProto; rederived: Rederived[] };
}

/** Suffix of the graph input that replaces an activation a DynamicQuantizeLinear reads (withActivationInputs). */
export const FROM_FILE = '/from_file';

/**
 * A copy of the model whose DynamicQuantizeLinear nodes reading one of `activations` read the graph
 * input `${activation}${FROM_FILE}` instead: fed with the values the file computed, each quantized
 * MatMul sees the file's own activations, so a rounding that float error flips upstream cannot
 * cascade into a difference that is not the weights'.
 */
export function withActivationInputs(model: ModelProto, activations: readonly string[]): ModelProto {
  const cut = new Set(activations);
  const node = model.graph.node.map((n) =>
    n.op_type === 'DynamicQuantizeLinear' && cut.has(n.input[0] ?? '')
      ? { ...n, input: [`${n.input[0]!}${FROM_FILE}`, ...n.input.slice(1)] }
      : n,
  );
  const input: ValueInfoProto[] = [...cut].map((a) => ({ name: `${a}${FROM_FILE}`, type: { tensor_type: { elem_type: DataType.FLOAT } } }));
  return { ...model, graph: { ...model.graph, node, input: [...model.graph.input, ...input] } };
}

/** A copy of the model whose external initializers carry their bytes as raw_data. */
export function inlineExternalData(model: ModelProto, read: ExternalReader): ModelProto {
  const initializer = (model.graph.initializer ?? []).map((t): TensorProto => {
    if (t.data_location !== 1) return t;
    const loc = externalLocation(t);
    const file = read(loc.path);
    const end = loc.length === undefined ? file.length : loc.offset + loc.length;
    const { external_data: _e, data_location: _d, ...rest } = t;
    return { ...rest, raw_data: file.subarray(loc.offset, end) };
  });
  return { ...model, graph: { ...model.graph, initializer } };
}

/** A copy of the model that also outputs `values` (float32 residual stream values). */
export function withOutputs(model: ModelProto, values: readonly string[]): ModelProto {
  const have = new Set(model.graph.output.map((o) => o.name));
  const extra: ValueInfoProto[] = values
    .filter((v) => !have.has(v))
    .map((name) => ({ name, type: { tensor_type: { elem_type: DataType.FLOAT } } }));
  return { ...model, graph: { ...model.graph, output: [...model.graph.output, ...extra] } };
}

/**
 * Feeds for a decoder graph's inputs: input_ids, an all-ones attention_mask, position_ids 0..T-1,
 * and empty past key / values ([batch, heads, 0, head_dim], dims from the graph where it states them).
 */
export function decoderFeeds(
  inputs: readonly ValueInfoProto[],
  ids: readonly number[][],
  pastDims: (name: string) => [number, number],
): Feeds {
  const B = ids.length;
  const T = ids[0]?.length ?? 0;
  const feeds: Feeds = {};
  for (const input of inputs) {
    const name = input.name;
    const type = input.type?.tensor_type?.elem_type ?? DataType.INT64;
    const dims = input.type?.tensor_type?.shape?.dim ?? [];
    const dimAt = (i: number, fallback: number) => {
      const v = Number(dims[i]?.dim_value ?? 0);
      return v > 0 ? v : fallback;
    };
    if (name === 'input_ids') feeds[name] = int64Tensor(ids.flat(), [B, T]);
    else if (name === 'attention_mask') feeds[name] = typed(type, new Array<number>(B * T).fill(1), [B, T], name);
    else if (name === 'position_ids')
      feeds[name] = typed(
        type,
        ids.flatMap((row) => row.map((_, i) => i)),
        [B, T],
        name,
      );
    else if (/past/.test(name) && dims.length === 4) {
      const [heads, headDim] = pastDims(name);
      feeds[name] = typed(type, [], [B, dimAt(1, heads), 0, dimAt(3, headDim)], name);
    } else throw new OnnxFormatError(`The import cannot be checked: the graph has an input "${name}" it does not know how to feed.`);
  }
  return feeds;
}

function typed(type: number, values: number[], dims: number[], name: string) {
  if (type === DataType.INT64) return int64Tensor(values, dims);
  if (type === DataType.FLOAT) return float32Tensor(Float32Array.from(values), dims);
  throw new OnnxFormatError(`The import cannot be checked: input "${name}" has element type ${type} (only int64 and float32 are fed).`);
}

/**
 * decoderFeeds for a whole model: a with-past graph (Prune Studio's, or any Optimum-style export)
 * gets an all-ones mask, positions 0..T-1 and empty pasts whose head counts are the declared ones,
 * else those of the `prune_studio.kv_heads` metadata (the graph's per-layer K_N); a logits-only
 * graph gets input_ids alone. Used to run a written bundle file on the probe / perplexity windows.
 */
export function modelFeeds(model: ModelProto, ids: readonly number[][]): Feeds {
  const kv = model.metadata_props?.find((p) => p.key === 'prune_studio.kv_heads')?.value;
  const heads = kv ? (JSON.parse(kv) as number[]) : [];
  const headDim = (name: string) =>
    Number(model.graph.input.find((i) => i.name === name)?.type?.tensor_type?.shape?.dim?.[3]?.dim_value ?? 0);
  const initializers = new Set((model.graph.initializer ?? []).map((t) => t.name));
  const inputs = model.graph.input.filter((i) => !initializers.has(i.name));
  return decoderFeeds(inputs, ids, (name) => [heads[Number(/\.(\d+)\./.exec(name)?.[1] ?? 0)] ?? 1, headDim(name)]);
}
