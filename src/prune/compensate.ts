/**
 * Weight compensation for removed channels of the output (o) and down projections, applied to a
 * copy of the dense model before slicing:
 *  - 'bias' (FLAP): b += W[:, P] mu_P, the mean contribution of the removed channels P moves into
 *    the bias (a bias is created when the model has none);
 *  - 'obs' (OBS / SparseGPT, joint removal of the set S): W[:, K] -= W_S [(H^-1)_SS]^-1 (H^-1)_{S,K},
 *    the least-squares re-fit of the kept columns K to the calibration activations, with
 *    H = 2 X^T X / N_seq damped by 1% of its mean diagonal. This is how a removed head's
 *    contribution is redistributed into the surviving heads.
 */
import { InputError } from '../core/errors';
import type { Linear, ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import { tensor } from '../core/tensor';
import { channelMean, type CalibrationStats, type ChannelStats } from '../core/stats';
import { hessian } from '../core/stats';
import { headChannels } from './slice';
import { obsState, removeColumns } from './obs-update';

export const COMPENSATIONS = ['none', 'bias', 'obs'] as const;
export type Compensation = (typeof COMPENSATIONS)[number];

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

export function obsCompensated(lin: Linear, removed: readonly number[], stats: ChannelStats, numSequences: number): Linear {
  const [rows = 0, n = 0] = lin.weight.shape;
  if (!removed.length) return lin;
  const st = obsState(lin.weight.data, rows, n, hessian(stats, numSequences));
  removeColumns(st, removed, 'the removed channels', false);
  return { weight: tensor([rows, n], Float32Array.from(st.w)), ...(lin.bias ? { bias: lin.bias } : {}) };
}

/** Returns a copy of `ir` whose o/down projections are compensated for the plan's removals. */
export function compensate(ir: ModelIR, plan: PruningPlan, stats: CalibrationStats | undefined, mode: Compensation): ModelIR {
  if (mode === 'none') return ir;
  if (!stats)
    throw new InputError(`${mode === 'obs' ? 'OBS' : 'Bias'} compensation needs calibration statistics.`, 'Run calibration first.');
  if (mode === 'obs' && !stats.layers[0]?.attnIn.gram) {
    throw new InputError('OBS compensation needs Hessians (X^T X).', 'Re-run calibration with Hessians enabled.');
  }
  const layers = ir.weights.layers.map((lw, i) => {
    const entry = plan.layers[i];
    if (!entry || entry.removed) return lw;
    const st = stats.layers[i]!;
    const attn = headChannels(entry.removedHeads, ir.spec.headDim);
    const ffn = entry.removedFfn;
    if (mode === 'bias') {
      return {
        ...lw,
        o: attn.length ? biasCompensated(lw.o, attn, channelMean(st.attnIn)) : lw.o,
        down: ffn.length ? biasCompensated(lw.down, ffn, channelMean(st.ffnIn)) : lw.down,
      };
    }
    return {
      ...lw,
      o: obsCompensated(lw.o, attn, st.attnIn, stats.numSequences),
      down: obsCompensated(lw.down, ffn, st.ffnIn, stats.numSequences),
    };
  });
  return { ...ir, weights: { ...ir.weights, layers } };
}
