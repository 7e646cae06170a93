/**
 * OBS compensation (OBS / SparseGPT, joint removal of the set S):
 * W[:, K] -= W_S [(H^-1)_SS]^-1 (H^-1)_{S,K}, the least-squares re-fit of the kept columns K of the
 * o / down projections to the calibration activations, with H = 2 X^T X / N_seq damped by 1% of its
 * mean diagonal. This is how a removed head's contribution is redistributed into the surviving heads.
 */
import type { Linear } from '../../core/ir';
import { hessian, type ChannelStats } from '../../core/stats';
import { tensor } from '../../core/tensor';
import { obsRefit } from '../obs-refit';
import { compensateLayers, type CompensationMethod } from './types';

export function obsCompensated(lin: Linear, removed: readonly number[], stats: ChannelStats, numSequences: number): Linear {
  const [rows = 0, n = 0] = lin.weight.shape;
  if (!removed.length) return lin;
  // W_K += W_S H_SK H_KK⁻¹: the same update as obs-update.ts's removeColumns, without the full inverse.
  const { w } = obsRefit(lin.weight.data, rows, n, () => hessian(stats, numSequences), removed);
  return { weight: tensor([rows, n], Float32Array.from(w)), ...(lin.bias ? { bias: lin.bias } : {}) };
}

export const obs: CompensationMethod = {
  name: 'obs',
  label: 'OBS',
  plain: 'Re-tune the remaining weights so the layer’s output stays as close as possible to before.',
  what: 'Optimal Brain Surgeon: update the kept weights to reconstruct the calibration outputs (needs calibration with Hessians).',
  source: 'Hassibi & Stork, 1993 (OBS); Frantar & Alistarh, 2023, "SparseGPT"; Ling et al., 2024, "SlimGPT".',
  needs: { calibration: true, hessians: true },
  apply: (input) =>
    compensateLayers(input, (lw, { attn, ffn, stats, numSequences }) => ({
      ...lw,
      o: obsCompensated(lw.o, attn, stats.attnIn, numSequences),
      down: obsCompensated(lw.down, ffn, stats.ffnIn, numSequences),
    })),
};
