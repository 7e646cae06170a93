/**
 * Ablation (Michel et al.'s head masking, ShortGPT-style layer removal): the exact increase in
 * mean calibration loss when one head, or one whole layer, is masked out alone.
 */
import { InputError, throwIfAborted } from '../../core/errors';
import type { Criterion, MaskSet } from '../types';
import { emptyScores } from '../units';

export function onesMasks(L: number, H: number, F: number): MaskSet {
  return {
    heads: new Float32Array(L * H).fill(1),
    ffn: new Float32Array(L * F).fill(1),
    layers: new Float32Array(L).fill(1),
  };
}

export const ablation: Criterion = {
  name: 'ablation',
  label: 'Ablation (Δ loss)',
  plain: 'Remove one unit at a time and measure how much worse the model predicts the calibration text.',
  what: 'The exact answer to "what if this unit were gone?": the calibration loss is measured again with one head (or one whole layer) masked out, and the score is the increase over the dense loss. Negative means the model is better without it.',
  cost: 'One calibration-loss evaluation per head and per layer (heads x layers + layers forward passes).',
  source:
    'Michel et al., 2019, "Are Sixteen Heads Really Better than One?" (head ablation); Men et al., 2024 (ShortGPT) for layer removal.',
  needs: { stats: true, gram: false, maskedLoss: true },
  async compute({ ir, stats, maskedLoss, signal, onProgress }) {
    if (!maskedLoss || !stats) throw new InputError('Ablation needs the calibration set; run calibration first.');
    const s = emptyScores(ir, 'ablation', { heads: true, layers: true });
    const { numLayers: L, numHeads: H, ffnSize: F } = s;
    const total = L * H + L;
    let done = 0;
    const step = async (apply: (m: MaskSet) => void) => {
      throwIfAborted(signal, 'Ablation');
      const masks = onesMasks(L, H, F);
      apply(masks);
      const delta = (await maskedLoss(masks)) - stats.baseLoss;
      onProgress?.({ stage: 'ablation', done: ++done, total, message: `Ablation ${done}/${total}` });
      return delta;
    };
    for (let i = 0; i < L * H; i++) s.heads![i] = await step((m) => (m.heads[i] = 0));
    for (let l = 0; l < L; l++) s.layers![l] = await step((m) => (m.layers[l] = 0));
    return s;
  },
};
