/**
 * Wanda-sp (structured Wanda, as in FLAP's prune_wanda_sp): channel score
 * c_j = sqrt(s_j) * mean_i |W_ij| with s_j = sum over calibration tokens of x_j^2 / N_seq,
 * for the inputs of the output projection (heads: sum over the head's channels) and of the down
 * projection (FFN neurons).
 */
import { InputError } from '../../core/errors';
import type { Linear } from '../../core/ir';
import type { ChannelStats } from '../stats';
import type { Criterion } from '../types';
import { abs, columnSums, emptyScores, groupSums } from '../units';

export function wandaChannels(lin: Linear, stats: ChannelStats, numSequences: number): Float64Array {
  const rows = lin.weight.shape[0] ?? 1;
  const meanAbs = columnSums(lin, abs);
  return meanAbs.map((m, j) => Math.sqrt(stats.sumSq[j]! / numSequences) * (m / rows));
}

export const wanda: Criterion = {
  name: 'wanda',
  label: 'Wanda (|W|·‖X‖)',
  plain: 'A unit matters if it has large weights and the text actually sends large signals through them.',
  what: 'Activation-aware magnitude: each input channel of the output / down projection scores the mean |weight| of its column times the RMS size of the activations that flow into it on the calibration text. A head sums its channels. Large weights on silent inputs stop counting.',
  cost: 'One calibration pass (activation norms), then a pass over two weight matrices per layer.',
  source:
    'Sun et al., 2023, "A Simple and Effective Pruning Approach for LLMs" (Wanda); structured form from FLAP (An et al., 2024) prune_wanda_sp.',
  needs: { stats: true, gram: false, maskedLoss: false },
  async compute({ ir, stats }) {
    if (!stats) throw new InputError('Wanda needs calibration statistics; run calibration first.');
    const s = emptyScores(ir, 'wanda', { heads: true, ffn: true });
    ir.weights.layers.forEach((lw, l) => {
      const { numHeads: H, ffnSize: F } = ir.layers[l]!;
      const st = stats.layers[l]!;
      s.heads!.set(groupSums(wandaChannels(lw.o, st.attnIn, stats.numSequences), ir.spec.headDim), l * H);
      s.ffn!.set(wandaChannels(lw.down, st.ffnIn, stats.numSequences), l * F);
    });
    return s;
  },
};
