/**
 * ONNX exporter: the plain logits graph of the model (graph/build.ts, opset 17, fp32, dynamic
 * batch and sequence) as `model.onnx`; verified by opening those exact bytes in a fresh session.
 * The same bytes are what the latency session times and what fixtures/onnx-checker.json records
 * as having passed onnx.checker (full_check) + strict shape inference.
 */
import type { ModelIR } from '../core/ir';
import { buildOnnx } from '../graph/build';
import { InputError } from '../core/errors';
import { quantizeOnnx } from '../quantize/quantize';
import { QUANT_VARIANTS, quantMethod } from '../quantize/registry';
import type { Exporter, ExportFile } from './types';
import { compareWithReference } from './verify';

/** The exported graph: input_ids -> logits, nothing else. */
export function logitsOnnx(ir: ModelIR): Uint8Array {
  return buildOnnx(ir, { logits: true });
}

export const onnxExporter: Exporter = {
  format: 'onnx',
  label: 'ONNX',
  what: 'model.onnx: input_ids -> logits, opset 17, for onnxruntime (web, node, python).',
  dtypes: ['fp32', ...QUANT_VARIANTS],
  cardLine:
    '`model.onnx`: input `input_ids` int64 [batch, seq], output `logits` float32 [batch, seq, vocab]; per-layer head counts and FFN widths in `config.json` (`prune_studio.layers`).',
  write(ir, options): ExportFile[] {
    if (options.dtype !== 'fp32') throw new InputError(`The ${options.dtype} variant is written by writeAsync (it runs the model first).`);
    return [{ name: 'model.onnx', bytes: logitsOnnx(ir) }];
  },
  async writeAsync(subject, options, runner): Promise<ExportFile[]> {
    const fp32 = logitsOnnx(subject.ir);
    if (options.dtype === 'fp32') return [{ name: 'model.onnx', bytes: fp32 }];
    const method = quantMethod(options.dtype);
    const bytes = await quantizeOnnx(fp32, {
      variant: method.name,
      ...(subject.calibration ? { calibration: subject.calibration } : {}),
      runner,
    });
    return [{ name: method.file, bytes }];
  },
  verify: (files, subject, runner) => compareWithReference(files[0]!.bytes, subject, runner),
};
