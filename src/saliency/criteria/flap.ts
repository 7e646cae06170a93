/**
 * FLAP fluctuation metric (WIFV): v_j * ||W_{:,j}||^2 with v_j the sample variance of input
 * channel j over calibration tokens; squared again for attention channels (as FLAP's code does);
 * a head sums its channels. Computed on the dense model in one pass.
 */
import { InputError } from '../../core/errors';
import type { Linear } from '../../core/ir';
import { channelVariance, type ChannelStats } from '../stats';
import type { Criterion } from '../types';
import { columnSums, emptyScores, groupSums, square } from '../units';

export function fluctuationChannels(lin: Linear, stats: ChannelStats): Float64Array {
  const colNormSq = columnSums({ weight: lin.weight }, square);
  const variance = channelVariance(stats);
  return variance.map((v, j) => v * colNormSq[j]!);
}

export const flap: Criterion = {
  name: 'flap',
  label: 'FLAP fluctuation',
  plain: 'A unit whose output barely changes from token to token can be replaced by a constant, so it matters little.',
  what: 'How much an input channel of the output / down projection fluctuates across calibration tokens (its variance), weighted by the squared norm of the weights it feeds. A channel that is nearly constant can be removed and replaced by a bias, so it scores low.',
  cost: 'One calibration pass (per-channel mean and variance).',
  source: 'An et al., 2024, "Fluctuation-based Adaptive Structured Pruning for LLMs" (FLAP), WIFV metric.',
  needs: { stats: true, gram: false, maskedLoss: false },
  async compute({ ir, stats }) {
    if (!stats) throw new InputError('FLAP needs calibration statistics; run calibration first.');
    const s = emptyScores(ir, 'flap', { heads: true, ffn: true });
    ir.weights.layers.forEach((lw, l) => {
      const { numHeads: H, ffnSize: F } = ir.layers[l]!;
      const st = stats.layers[l]!;
      const attn = fluctuationChannels(lw.o, st.attnIn).map((v) => v * v);
      s.heads!.set(groupSums(attn, ir.spec.headDim), l * H);
      s.ffn!.set(fluctuationChannels(lw.down, st.ffnIn), l * F);
    });
    return s;
  },
};
