/**
 * The quantization room's contract. A variant turns the fp32 logits graph of a (pruned) model into
 * a smaller graph onnxruntime runs: each quantizable weight (a MatMul's constant right operand, the
 * LM head Gemm's B, the token-embedding Gather table) becomes a `QuantTable`, and rewrite.ts swaps
 * the ops that read it. Methods differ only in how a weight becomes a table.
 */
import type { Int4Matrix } from './blocks';
import type { Int8Channels } from './scalar';

/** A quantization variant's registered name (QUANT_VARIANTS in registry.ts lists them: fp16, int8, int4-rtn, int4-gptq). */
export type QuantVariant = string;

/** How a weight is used in the graph: y = x·B with B [K, N] (matmul), y = x·Eᵀ with E [N, K] (head), rows of E [N, K] (gather). */
export type WeightUse = 'matmul' | 'head' | 'gather';

/** A quantizable weight, always seen as W [N, K] (N output channels, K inputs; for a gather table N = vocab rows). */
export interface WeightTarget {
  /** Initializer name in the fp32 graph. */
  name: string;
  uses: WeightUse[];
  n: number;
  k: number;
  /** W [N, K] row-major (the transpose of a MatMul's B). */
  w: Float32Array;
  /** The initializer as stored, and its dims. */
  data: Float32Array;
  dims: number[];
  /** Graph tensor whose rows are this weight's inputs (Gram key; absent for a gather-only table). */
  input?: string;
}

export type QuantTable =
  | { kind: 'fp16'; name: string; half: Uint16Array; dims: number[] }
  | { kind: 'int8'; name: string; n: number; k: number; /** codes [K, N], scales [N] */ q: Int8Channels }
  | { kind: 'int4'; name: string; q: Int4Matrix };

/** Calibration Gram Σ x xᵀ of a graph tensor's rows, over `tokens` rows. */
export interface Gram {
  gram: Float64Array;
  tokens: number;
}

export interface QuantContext {
  blockSize: number;
  /** int4: symmetric blocks (zero point 8, no zero_points input; blocks.ts symBlockParams). */
  int4Symmetric?: boolean;
  /** Input tensor name -> Gram (GPTQ). */
  grams?: ReadonlyMap<string, Gram>;
}

export interface QuantMethod {
  readonly name: QuantVariant;
  /** One line for users. */
  readonly what: string;
  /** Paper / reference implementation the method follows. */
  readonly source: string;
  readonly needs: { hessians: boolean };
  /** Bundle file name (transformers.js names). */
  readonly file: string;
  /** Largest |Δlogit| against the fp32 model of the same plan that verification accepts. */
  readonly tolerance: number;
  /** The table standing in for one weight. */
  quantize(t: WeightTarget, ctx: QuantContext): QuantTable;
}

export const DEFAULT_BLOCK_SIZE = 32;
