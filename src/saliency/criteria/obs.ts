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
import { InputError } from '../../core/errors';
import { block, cholesky, dampedInverse } from '../../core/linalg';
import type { Linear } from '../../core/ir';
import { checkpoint } from '../../core/job';
import { hessian } from '../../core/stats';
import type { Criterion } from '../types';
import { columnSums, emptyScores, square } from '../units';

export { hessian };

export function obsHeadErrors(o: Linear, hinv: Float64Array, n: number, headDim: number): Float64Array {
  const colSq = columnSums({ weight: o.weight }, square);
  const heads = n / headDim;
  const out = new Float64Array(heads);
  for (let h = 0; h < heads; h++) {
    const l = cholesky(block(hinv, n, h * headDim, headDim), headDim);
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

export function obsChannelErrors(down: Linear, hinv: Float64Array, n: number): Float64Array {
  const colSq = columnSums({ weight: down.weight }, square);
  return colSq.map((c, j) => c / hinv[j * n + j]!);
}

export const obs: Criterion = {
  name: 'obs',
  label: 'SlimGPT / OBS error',
  what: 'The Optimal Brain Surgeon error: how much the layer output would change (in the least-squares sense, on calibration activations) if the unit were removed and the remaining weights were optimally re-fitted. Uses the second-moment (Hessian) matrix of the projection inputs; heads use a grouped Cholesky factor so the channels of a head are removed together.',
  cost: 'One calibration pass that accumulates X^T X per projection, then a Cholesky inverse per layer (heaviest on wide FFNs).',
  source:
    'Ling et al., 2024, "SlimGPT: Layer-wise Structured Pruning for LLMs"; Frantar & Alistarh 2023 (SparseGPT); Hassibi & Stork 1993 (OBS).',
  needs: { stats: true, gram: true, maskedLoss: false },
  async compute({ ir, stats, onProgress, signal }) {
    if (!stats) throw new InputError('OBS needs calibration statistics; run calibration first.');
    const s = emptyScores(ir, 'obs', { heads: true, ffn: true });
    const job = { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) };
    const total = 2 * ir.layers.length;
    // Two units per layer (one inversion each): cancellation waits for at most one inversion.
    for (const [l, lw] of ir.weights.layers.entries()) {
      const { numHeads: H, ffnSize: F } = ir.layers[l]!;
      const st = stats.layers[l]!;
      const nA = st.attnIn.channels;
      await checkpoint(job, 'OBS errors', { stage: 'obs', done: 2 * l, total, message: `OBS errors, layer ${l + 1}: heads` });
      const attnInv = dampedInverse(hessian(st.attnIn, stats.numSequences), nA).inv;
      s.heads!.set(obsHeadErrors(lw.o, attnInv, nA, ir.spec.headDim), l * H);
      await checkpoint(job, 'OBS errors', { stage: 'obs', done: 2 * l + 1, total, message: `OBS errors, layer ${l + 1}: FFN` });
      const ffnInv = dampedInverse(hessian(st.ffnIn, stats.numSequences), F).inv;
      s.ffn!.set(obsChannelErrors(lw.down, ffnInv, F), l * F);
    }
    onProgress?.({ stage: 'obs', done: total, total, message: 'OBS errors done' });
    return s;
  },
};
