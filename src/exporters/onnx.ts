/**
 * ONNX exporter: the decoder graph of the model (graph/build.ts, opset 17, fp32, dynamic batch and
 * sequence) as `onnx/model.onnx`, the transformers.js / Hub model-repo layout (the studio's importer
 * finds it there too); verified by opening those exact bytes in a fresh session. The same bytes are
 * what the latency session times and what fixtures/onnx-checker.json records as having passed
 * onnx.checker (full_check) + strict shape inference.
 * The graph folds 1/sqrt(head_dim) into the query projection (graph/attention.ts), so config.json
 * records `prune_studio.attention_scale_folded: true`; the importer un-folds it on re-load.
 */
import type { ModelIR } from '../core/ir';
import { buildOnnx } from '../graph/build';
import { InputError } from '../core/errors';
import { quantizeOnnx } from '../quantize/quantize';
import { QUANT_VARIANTS, quantMethod } from '../quantize/registry';
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

/** The exported graph: input_ids -> logits, nothing else. */
export function logitsOnnx(ir: ModelIR): Uint8Array {
  return buildOnnx(ir, { logits: true });
}

/**
 * The graph written as onnx/model.onnx. HOOK (issue 12, KV cache): when the with-past decoder of
 * src/graph/kv-cache*.ts lands (input_ids, attention_mask, position_ids, past_key_values.N.key|value
 * -> logits, present.N.key|value, Optimum names), build it here instead; `verify` then feeds it the
 * probe with an all-ones attention_mask, position ids 0..T-1 and an empty past
 * ([batch, kv_heads_of_layer_N, 0, head_dim]) and compares `logits` as now.
 */
export function decoderOnnx(ir: ModelIR): Uint8Array {
  return logitsOnnx(ir);
}

export const onnxExporter: Exporter = {
  format: 'onnx',
  label: 'ONNX',
  what: 'onnx/model.onnx (or a quantized onnx/model_fp16.onnx, model_quantized.onnx, model_q4.onnx): input_ids -> logits, opset 17, for onnxruntime (web, node, python) and the transformers.js folder layout.',
  dtypes: ['fp32', ...QUANT_VARIANTS],
  cardLine:
    '`onnx/model.onnx`: input `input_ids` int64 [batch, seq], output `logits` float32 [batch, seq, vocab]; 1/sqrt(head_dim) is folded into the query projection (`prune_studio.attention_scale_folded`); per-layer head counts and FFN widths in `config.json` (`prune_studio.layers`).',
  write(ir, options): ExportFile[] {
    if (options.dtype !== 'fp32') throw new InputError(`The ${options.dtype} variant is written by writeAsync (it runs the model first).`);
    return [{ name: ONNX_MODEL_PATH, bytes: decoderOnnx(ir) }];
  },
  async writeAsync(subject, options, runner): Promise<ExportFile[]> {
    const fp32 = decoderOnnx(subject.ir);
    if (options.dtype === 'fp32') return [{ name: ONNX_MODEL_PATH, bytes: fp32 }];
    const method = quantMethod(options.dtype);
    const bytes = await quantizeOnnx(fp32, {
      variant: method.name,
      ...(subject.calibration ? { calibration: subject.calibration } : {}),
      runner,
    });
    return [{ name: quantizedModelPath(method.file), bytes }];
  },
  verify: (files, subject, runner) => compareWithReference(files[0]!.bytes, subject, runner),
  config: (_ir, options) => ({
    top: { 'transformers.js_config': { dtype: transformersJsDtype(options.dtype), use_external_data_format: false } },
    pruneStudio: { attention_scale_folded: true },
  }),
};
