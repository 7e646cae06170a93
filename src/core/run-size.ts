/**
 * How many rows (sequences or windows) one onnxruntime run may take so that it stays well under
 * the 2 s cancellation bound on real-size models: a forward-FLOPs budget per run, from the IR's
 * parameter count (2 FLOPs per weight and token: every weight matrix, the LM head included, is
 * applied once per token) plus causal attention. The demo model keeps its requested batch sizes;
 * GPT-2 124M at 128 tokens runs one sequence per run. A run is never split below one row.
 */
import { parameterCount, type ModelIR } from './ir';
import { layerParameters } from './model-shape';

/** FLOPs one run may cost: about 0.5 s of WASM SIMD on two threads (~30 GFLOP/s). */
export const RUN_FLOPS_BUDGET = 1.6e10;

/** Forward FLOPs of one row of `seq` tokens. */
export function rowFlops(ir: ModelIR, seq: number): number {
  const attention = ir.layers.reduce((s, l) => s + 2 * seq * seq * l.numHeads * ir.spec.headDim, 0);
  return 2 * seq * parameterCount(ir) + attention;
}

/** Rows per run: at most `requested`, at most the budget's worth, at least 1. */
export function rowsPerRun(ir: ModelIR, seq: number, requested: number, budget = RUN_FLOPS_BUDGET): number {
  const fit = Math.floor(budget / Math.max(1, rowFlops(ir, seq)));
  return Math.max(1, Math.min(requested, fit));
}

/**
 * Forward FLOPs of one row through block l alone (sequential calibration, layerRange l..l+1): its
 * weights and attention, the packed Grams of its two taps when asked (about seq·c² each), and for
 * the last block the LM head (vocab x d per token), which makes that block several times the others.
 */
export function blockRowFlops(ir: ModelIR, l: number, seq: number, withGram: boolean): number {
  const shape = ir.layers[l]!;
  const { spec } = ir;
  const attention = 2 * seq * seq * shape.numHeads * spec.headDim;
  const taps = [shape.numHeads * spec.headDim, shape.ffnSize];
  const grams = withGram ? taps.reduce((s, c) => s + seq * c * c, 0) : 0;
  const head = l === ir.layers.length - 1 ? 2 * seq * spec.vocabSize * spec.hiddenSize : 0;
  return 2 * seq * layerParameters(spec, shape) + attention + grams + head;
}

/** Rows per run of block l: at most `requested`, at most the budget's worth, at least 1. */
export function blockRowsPerRun(
  ir: ModelIR,
  l: number,
  seq: number,
  withGram: boolean,
  requested: number,
  budget = RUN_FLOPS_BUDGET,
): number {
  const fit = Math.floor(budget / Math.max(1, blockRowFlops(ir, l, seq, withGram)));
  return Math.max(1, Math.min(requested, fit));
}
