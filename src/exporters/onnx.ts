/**
 * ONNX exporter: the with-past decoder of the model (graph/kv-cache.ts, opset 17, fp32, dynamic batch
 * and sequence, Optimum's input / output names) as `onnx/model.onnx`, the transformers.js / Hub
 * model-repo layout (the studio's importer finds it there too); verified by opening those exact bytes
 * in a fresh session and running the probe as a prefill. fixtures/onnx-checker.json records the
 * with-past graphs of the demo model (dense, pruned with per-layer kv heads) as having passed
 * onnx.checker (full_check) + strict shape inference.
 * The graph folds 1/sqrt(head_dim) into the query projection (graph/attention.ts), so config.json
 * records `prune_studio.attention_scale_folded: true`; the importer un-folds it on re-load. */
import type { ModelIR } from '../core/ir';
import type { Runner } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { buildKvCacheOnnx } from '../graph/kv-cache';
import { InputError } from '../core/errors';
import { decodeModel, encodeModel } from '../io/onnx';
import { quantizeTables } from '../quantize/quantize';
import { QUANT_VARIANTS, quantMethod } from '../quantize/registry';
import { rewriteModel } from '../quantize/rewrite';
import type { QuantVariant } from '../quantize/types';
import type { Exporter, ExportFile } from './types';
import { compareWithReference } from './verify';

/** Where the model graph goes in a bundle (transformers.js reads onnx/model.onnx for dtype fp32). */
export const ONNX_MODEL_PATH = 'onnx/model.onnx';

/** Where a quantized variant goes: onnx/<file>, the name transformers.js reads for its dtype. */
export function quantizedModelPath(file: string): string {
  return `onnx/${file}`;
}

/** transformers.js reads onnx/model{suffix}.onnx for its dtype: '' fp32, _fp16 fp16, _quantized q8, _int8 int8, _q4 q4. */
const TRANSFORMERS_JS_DTYPES: Readonly<Record<string, string>> = { '': 'fp32', _fp16: 'fp16', _quantized: 'q8', _int8: 'int8', _q4: 'q4' };

/** The transformers.js dtype whose file name is the one this export writes. */
function transformersJsDtype(dtype: string): string {
  const file = dtype === 'fp32' ? 'model.onnx' : quantMethod(dtype).file;
  const suffix = file.replace(/^model/, '').replace(/\.onnx$/, '');
  const name = TRANSFORMERS_JS_DTYPES[suffix];
  if (!name)
    throw new InputError(
      `${file} is not a file name transformers.js reads.`,
      'Name the variant file model_fp16, model_quantized, model_int8 or model_q4.',
    );
  return name;
}

/** The logits-only graph: input_ids -> logits (safetensors verification, the api's exportOnnx, GPTQ's Hessians). */
export function logitsOnnx(ir: ModelIR): Uint8Array {
  return buildOnnx(ir, { logits: true });
}

/**
 * The graph written as onnx/model.onnx: the with-past decoder of graph/kv-cache.ts (Optimum names:
 * input_ids, attention_mask, position_ids, past_key_values.N.key|value -> logits, present.N.key|value),
 * each layer's past declared with its own kv-head count, which transformers.js reads to size the
 * empty past of the first step. `verify` feeds it the probe as that first step (all-ones
 * attention_mask, positions 0..T-1, empty pasts) and compares `logits` with the reference.
 * The studio's importer reads it back like any Optimum with-past export (the walk from input_ids
 * passes through the past Concat), so the round trip reads the very initializers written here.
 */
export function decoderOnnx(ir: ModelIR): Uint8Array {
  return isPatchInput(ir) ? buildOnnx(ir, { logits: true }) : buildKvCacheOnnx(ir);
}

/**
 * An image classifier (ViT) has no KV cache: its onnx/model.onnx is the logits graph, named as
 * Optimum / transformers.js name ViT image-classification models: pixel_values float32
 * [batch_size, num_channels, height, width] -> logits float32 [batch_size, num_labels].
 */
export function isPatchInput(ir: ModelIR): boolean {
  return ir.spec.input === 'patches';
}

/** The model-card line of onnx/model.onnx for an image classifier. */
export const VISION_ONNX_CARD_LINE =
  "`onnx/model.onnx`: the image classifier in Optimum's names: input `pixel_values` float32 [batch, num_channels, image_size, image_size] (batch symbolic, the rest fixed by config.json; preprocessed as `preprocessor_config.json` says), output `logits` float32 [batch, num_labels]; 1/sqrt(head_dim) is folded into the query projection (`prune_studio.attention_scale_folded`); per-layer head counts and FFN widths in `config.json` (`prune_studio.layers`).";

/**
 * A quantized variant of the with-past graph. The tables are computed on the logits graph (GPTQ
 * runs it on the calibration sequences for the Hessians) and applied to the with-past graph: both
 * graphs name every weight alike, so they read the same quantized weights.
 */
export async function quantizedDecoderOnnx(
  ir: ModelIR,
  variant: QuantVariant,
  calibration: readonly (readonly number[])[] | undefined,
  runner: Runner,
  int4Symmetric = false,
): Promise<Uint8Array> {
  const tables = await quantizeTables(decodeModel(logitsOnnx(ir)), {
    variant,
    int4Symmetric,
    ...(calibration ? { calibration } : {}),
    runner,
  });
  const withPast = decodeModel(decoderOnnx(ir));
  const names = new Set((withPast.graph.initializer ?? []).map((t) => t.name));
  const missing = [...tables.tables.keys()].filter((n) => !names.has(n));
  if (missing.length > 0)
    throw new InputError(`The with-past graph lacks the weights ${missing.join(', ')} the ${variant} tables were made for.`);
  return encodeModel(rewriteModel(withPast, tables.tables));
}

export const onnxExporter: Exporter = {
  format: 'onnx',
  label: 'ONNX',
  what: 'onnx/model.onnx (or a quantized onnx/model_fp16.onnx, model_quantized.onnx, model_q4.onnx): the decoder with a KV cache (Optimum names), opset 17, for onnxruntime (web, node, python) and transformers.js text generation.',
  dtypes: ['fp32', ...QUANT_VARIANTS],
  cardLine:
    "`onnx/model.onnx`: the decoder with a KV cache, in Optimum's names: inputs `input_ids`, `attention_mask`, `position_ids` int64 and `past_key_values.N.key|value` float32 [batch, kv_heads_N, past, head_dim]; outputs `logits` float32 [batch, seq, vocab] and `present.N.key|value` (a prefill is the same graph with empty pasts); 1/sqrt(head_dim) is folded into the query projection (`prune_studio.attention_scale_folded`); per-layer head counts and FFN widths in `config.json` (`prune_studio.layers`).",
  write(ir, options): ExportFile[] {
    if (options.dtype !== 'fp32') throw new InputError(`The ${options.dtype} variant is written by writeAsync (it runs the model first).`);
    return [{ name: ONNX_MODEL_PATH, bytes: decoderOnnx(ir) }];
  },
  async writeAsync(subject, options, runner): Promise<ExportFile[]> {
    if (options.dtype === 'fp32') return [{ name: ONNX_MODEL_PATH, bytes: decoderOnnx(subject.ir) }];
    if (isPatchInput(subject.ir))
      throw new InputError(`A quantized (${options.dtype}) export of an image classifier is not supported yet.`, 'Export it as fp32.');
    const method = quantMethod(options.dtype);
    const bytes = await quantizedDecoderOnnx(subject.ir, method.name, subject.calibration, runner, options.int4Symmetric);
    return [{ name: quantizedModelPath(method.file), bytes }];
  },
  verify: (files, subject, runner) => compareWithReference(files[0]!.bytes, subject, runner),
  config: (_ir, options) => ({
    top: { 'transformers.js_config': { dtype: transformersJsDtype(options.dtype), use_external_data_format: false } },
    pruneStudio: { attention_scale_folded: true },
  }),
};
