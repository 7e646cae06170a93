/**
 * Structured OBS error (SlimGPT): with H = 2 X^T X / N_seq of the output / down projection
 * inputs (damped by 1% of its mean diagonal) and H^-1 its inverse:
 *  - head h: E_h = sum_{j in h} sum_i W_ij^2 / (L_h)_jj^2, L_h the lower Cholesky factor of the
 *    head's diagonal block of H^-1 ("grouped Cholesky": (L_h)_jj^2 is the inverse-Hessian diagonal
 *    of column j after the head's earlier columns are removed);
 *  - FFN channel j: e_j = sum_i W_ij^2 / [H^-1]_jj.
 * Scores are the one-shot errors of removing each unit alone from the dense model. The greedy,
 * dynamic-group-size removal with weight compensation (SlimGPT itself) is src/prune/slimgpt.ts.
 */
import { warmGemmThreads } from '../../core/gemm-threads';
import { InputError } from '../../core/errors';
import { block, cholesky, dampedCholeskyOf, hessianMaker } from '../../core/linalg';
import { inverseBlock, inverseDiagonal, inverseTransposedLower } from '../../core/linalg-inverse';
import type { Linear } from '../../core/ir';
import { checkpoint, stoppable } from '../../core/job';
import { hessian } from '../../core/stats';
import type { Criterion } from '../types';
import { columnSums, emptyScores, square } from '../units';

export { hessian };

export function obsHeadErrors(o: Linear, hinv: Float64Array, n: number, headDim: number): Float64Array {
  return headErrors(o, n, headDim, (h) => block(hinv, n, h * headDim, headDim));
}

export function obsChannelErrors(down: Linear, hinv: Float64Array, n: number): Float64Array {
  const colSq = columnSums({ weight: down.weight }, square);
  return colSq.map((c, j) => c / hinv[j * n + j]!);
}

/** Grouped-Cholesky error per head from the head diagonal blocks of H⁻¹ (`blockOf(h)`). */
function headErrors(o: Linear, n: number, headDim: number, blockOf: (h: number) => Float64Array): Float64Array {
  const colSq = columnSums({ weight: o.weight }, square);
  const out = new Float64Array(n / headDim);
  for (let h = 0; h < out.length; h++) {
    const l = cholesky(blockOf(h), headDim);
    if (!l) throw new InputError(`The inverse Hessian block of head ${h} is not positive definite.`);
    let e = 0;
    for (let j = 0; j < headDim; j++) {
      const d = l[j * headDim + j]!;
      e += colSq[h * headDim + j]! / (d * d);
    }
    out[h] = e;
  }
  return out;
}

/**
 * One layer's OBS errors: heads from the o projection's Hessian, FFN channels from the down
 * projection's. Only the parts of H⁻¹ that are read are formed: with L the damped Hessian's
 * Cholesky factor and T = L⁻ᵀ, H⁻¹ = T Tᵀ, so its diagonal is the row norms of T and a head's
 * block one small product (the full inverse would cost another n³/6 multiply-adds). A Hessian given
 * as a function is made when needed and factored in place (core/linalg.ts dampedCholeskyOf): two
 * n x n arrays alive per projection (the factor, then T) instead of four; the same numbers.
 */
export function obsLayerErrors(
  o: Linear,
  down: Linear,
  attnHessian: Float64Array | (() => Float64Array),
  ffnHessian: Float64Array | (() => Float64Array),
  headDim: number,
): { heads: Float64Array; ffn: Float64Array } {
  const nA = o.weight.shape[1] ?? 0;
  const nF = down.weight.shape[1] ?? 0;
  const factor = (h: Float64Array | (() => Float64Array), n: number) => dampedCholeskyOf(hessianMaker(h, n), n).l;
  const tA = inverseTransposedLower(factor(attnHessian, nA), nA);
  const heads = headErrors(o, nA, headDim, (h) => inverseBlock(tA, nA, h * headDim, headDim));
  const diag = inverseDiagonal(inverseTransposedLower(factor(ffnHessian, nF), nF), nF);
  const colSq = columnSums({ weight: down.weight }, square);
  return { heads, ffn: colSq.map((c, j) => c / diag[j]!) };
}

export const obs: Criterion = {
  name: 'obs',
  label: 'SlimGPT / OBS error',
  plain: 'How much a layer’s output would still change if the unit were removed and the other weights were re-tuned to make up for it.',
  what: 'The Optimal Brain Surgeon error: how much the layer output would change (in the least-squares sense, on calibration activations) if the unit were removed and the remaining weights were optimally re-fitted. Uses the second-moment (Hessian) matrix of the projection inputs; heads use a grouped Cholesky factor so the channels of a head are removed together.',
  cost: 'One calibration pass that accumulates X^T X per projection, then a Cholesky inverse per layer (heaviest on wide FFNs).',
  source:
    'Ling et al., 2024, "SlimGPT: Layer-wise Structured Pruning for LLMs"; Frantar & Alistarh 2023 (SparseGPT); Hassibi & Stork 1993 (OBS).',
  needs: { stats: true, gram: true, maskedLoss: false },
  async compute({ ir, stats, onProgress, signal }) {
    if (!stats) throw new InputError('OBS needs calibration statistics; run calibration first.');
    const s = emptyScores(ir, 'obs', { heads: true, ffn: true });
    const job = { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) };
    const total = ir.layers.length;
    // the float64 products' helper threads (core/gemm-threads.ts), where the host has them, up before the first layer
    await warmGemmThreads(2000);
    // One unit per layer; inside it the blocked kernels stop within one block (stoppable).
    for (const [l, lw] of ir.weights.layers.entries()) {
      const { numHeads: H, ffnSize: F } = ir.layers[l]!;
      const st = stats.layers[l]!;
      const n = stats.numSequences;
      await checkpoint(job, 'OBS errors', { stage: 'obs', done: l, total, message: `OBS errors, layer ${l + 1}` });
      const e = stoppable(job, 'OBS errors', () =>
        obsLayerErrors(
          lw.o,
          lw.down,
          () => hessian(st.attnIn, n),
          () => hessian(st.ffnIn, n),
          ir.spec.headDim,
        ),
      );
      s.heads!.set(e.heads, l * H);
      s.ffn!.set(e.ffn, l * F);
    }
    onProgress?.({ stage: 'obs', done: total, total, message: 'OBS errors done' });
    return s;
  },
};
