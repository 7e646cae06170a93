/**
 * Block influence (ShortGPT): BI_l = mean over calibration tokens of 1 - cos(h_l, h_{l+1}),
 * h_l the residual stream entering block l and h_{l+1} the one leaving it (before the final norm).
 */
import { InputError } from '../../core/errors';
import type { Criterion } from '../types';
import { emptyScores } from '../units';

export const blockInfluence: Criterion = {
  name: 'block-influence',
  label: 'Block influence',
  plain: 'A whole layer matters little if what comes out of it is almost the same as what went in.',
  what: 'How much a whole layer changes the hidden state: one minus the cosine similarity between what enters the block and what leaves it, averaged over calibration tokens. A block that barely turns the residual stream can be dropped.',
  cost: 'One calibration pass (hidden states per layer).',
  source: 'Men et al., 2024, "ShortGPT: Layers in Large Language Models are More Redundant Than You Expect".',
  needs: { stats: true, gram: false, maskedLoss: false },
  async compute({ ir, stats }) {
    if (!stats) throw new InputError('Block influence needs calibration statistics; run calibration first.');
    const s = emptyScores(ir, 'block-influence', { layers: true });
    stats.layers.forEach((st, l) => {
      s.layers![l] = st.influenceSum / stats.numTokens;
    });
    return s;
  },
};
