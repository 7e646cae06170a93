/**
 * The quantization step after pruning: fp32 ONNX graph -> quantized ONNX graph of one variant.
 * `quantizeTables` computes the tables once (GPTQ is the slow part); `rewriteModel` can then apply
 * them to any graph built from the same model (the logits graph for the bundle, the token-loss
 * graph for perplexity), so both read identical weights.
 */
import { InputError } from '../core/errors';
import type { Runner } from '../core/runner';
import { decodeModel, encodeModel, type ModelProto } from '../io/onnx';
import { checkBlockSize } from './blocks';
import { collectGrams } from './grams';
import { quantMethod } from './registry';
import { rewriteModel } from './rewrite';
import { findTargets } from './targets';
import { DEFAULT_BLOCK_SIZE, type Gram, type QuantTable, type QuantVariant } from './types';

export interface QuantizeOptions {
  variant: QuantVariant;
  blockSize?: number;
  /** int4 variants: symmetric blocks (zero point 8, no zero_points input). */
  int4Symmetric?: boolean;
  /** Calibration sequences (token ids, equal lengths) for methods that need Hessians. */
  calibration?: readonly (readonly number[])[];
  runner?: Runner;
}

export interface QuantizedTables {
  variant: QuantVariant;
  tables: Map<string, QuantTable>;
  /** Gram tokens per linear input (GPTQ), for the record. */
  calibrationTokens: number;
}

export async function quantizeTables(model: ModelProto, options: QuantizeOptions): Promise<QuantizedTables> {
  const method = quantMethod(options.variant);
  const blockSize = options.blockSize ?? DEFAULT_BLOCK_SIZE;
  checkBlockSize(blockSize);
  const targets = findTargets(model);
  let grams: Map<string, Gram> | undefined;
  if (method.needs.hessians) {
    if (!options.runner || !options.calibration?.length)
      throw new InputError(
        `${method.name} needs calibration sequences and a runner to collect the Hessians.`,
        'Calibrate the model first, or choose int4-rtn.',
      );
    grams = await collectGrams(model, targets, options.calibration, options.runner);
  }
  const tables = new Map<string, QuantTable>();
  for (const t of targets)
    tables.set(t.name, method.quantize(t, { blockSize, int4Symmetric: options.int4Symmetric ?? false, ...(grams ? { grams } : {}) }));
  const calibrationTokens = grams ? Math.max(0, ...[...grams.values()].map((g) => g.tokens)) : 0;
  return { variant: method.name, tables, calibrationTokens };
}

export function applyTables(bytes: Uint8Array, q: QuantizedTables): Uint8Array {
  return encodeModel(rewriteModel(decodeModel(bytes), q.tables));
}

/** One call: fp32 ONNX bytes -> quantized ONNX bytes. */
export async function quantizeOnnx(bytes: Uint8Array, options: QuantizeOptions): Promise<Uint8Array> {
  const model = decodeModel(bytes);
  return encodeModel(rewriteModel(model, (await quantizeTables(model, options)).tables));
}
