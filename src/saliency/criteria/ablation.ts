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

function withZero(m: MaskSet, part: 'heads' | 'layers', i: number): MaskSet {
  m[part][i] = 0;
  return m;
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
  async compute({ ir, stats, maskedLoss, maskedLosses, signal, onProgress }) {
    if (!maskedLoss || !stats) throw new InputError('Ablation needs the calibration set; run calibration first.');
    const s = emptyScores(ir, 'ablation', { heads: true, layers: true });
    const { numLayers: L, numHeads: H, ffnSize: F } = s;
    // one head off at a time, then one layer off at a time
    const sets = [
      ...Array.from({ length: L * H }, (_, i) => withZero(onesMasks(L, H, F), 'heads', i)),
      ...Array.from({ length: L }, (_, l) => withZero(onesMasks(L, H, F), 'layers', l)),
    ];
    const total = sets.length;
    const losses: number[] = [];
    if (maskedLosses) {
      const progress = (fraction: number) =>
        onProgress?.({
          stage: 'ablation',
          done: Math.round(fraction * total),
          total,
          message: `Ablation ${Math.round(fraction * total)}/${total}`,
        });
      losses.push(...(await maskedLosses(sets, progress)));
    } else {
      for (const masks of sets) {
        throwIfAborted(signal, 'Ablation');
        losses.push(await maskedLoss(masks));
        onProgress?.({ stage: 'ablation', done: losses.length, total, message: `Ablation ${losses.length}/${total}` });
      }
    }
    for (let i = 0; i < L * H; i++) s.heads![i] = losses[i]! - stats.baseLoss;
    for (let l = 0; l < L; l++) s.layers![l] = losses[L * H + l]! - stats.baseLoss;
    return s;
  },
};
