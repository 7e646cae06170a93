/**
 * Bias compensation (FLAP): b += W[:, P] mu_P, the mean contribution of the removed channels P of
 * the o / down projection inputs moves into that projection's bias (a bias is created when the
 * model has none).
 */
import type { Linear } from '../../core/ir';
import { channelMean } from '../../core/stats';
import { tensor } from '../../core/tensor';
import { compensateLayers, type CompensationMethod } from './types';

export function biasCompensated(lin: Linear, removed: readonly number[], mean: Float64Array): Linear {
  const [rows = 0, cols = 0] = lin.weight.shape;
  const bias = lin.bias ? lin.bias.data.slice() : new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (const c of removed) s += lin.weight.data[r * cols + c]! * mean[c]!;
    bias[r] = bias[r]! + s;
  }
  return { weight: lin.weight, bias: tensor([rows], bias) };
}

export const bias: CompensationMethod = {
  name: 'bias',
  label: 'Bias',
  plain: 'Replace what the removed units usually output by a constant added to the next layer.',
  what: 'Fold the mean output of removed units into the next bias (needs calibration statistics).',
  source: 'An et al., 2024, "Fluctuation-based Adaptive Structured Pruning for Large Language Models" (FLAP).',
  needs: { calibration: true, hessians: false },
  apply: (input) =>
    compensateLayers(input, (lw, { attn, ffn, stats }) => ({
      ...lw,
      o: attn.length ? biasCompensated(lw.o, attn, channelMean(stats.attnIn)) : lw.o,
      down: ffn.length ? biasCompensated(lw.down, ffn, channelMean(stats.ffnIn)) : lw.down,
    })),
};
