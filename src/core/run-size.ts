/**
 * How many rows (sequences or windows) one onnxruntime run may take so that it stays well under
 * the 2 s cancellation bound on real-size models: a forward-FLOPs budget per run, from the IR's
 * parameter count (2 FLOPs per weight and token: every weight matrix, the LM head included, is
 * applied once per token) plus causal attention. The demo model keeps its requested batch sizes;
 * GPT-2 124M at 128 tokens runs one sequence per run. A run is never split below one row.
 */
import { parameterCount, type ModelIR } from './ir';

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
