/**
 * Attention redistribution (the pruning seed's step, issue 15): the removed heads' outputs are fitted
 * from the surviving heads' outputs by a ridge, rank-r least-squares map on calibration data and the
 * map is folded into the output projection (prune/redistribute.ts; METHODS.md). FFN channels get the
 * same fit at full rank (then it is OBS, plus the intercept when asked).
 */
import { redistributed } from '../redistribute';
import type { ModelIR } from '../../core/ir';
import { compensateLayers, type CompensationMethod, type CompensationOptions } from './types';

/** The rank, ridge and intercept a redistribution runs with (the options filled with their defaults). */
export function redistributeSettings(ir: Pick<ModelIR, 'spec'>, options?: CompensationOptions): Required<CompensationOptions> {
  return { rank: options?.rank ?? ir.spec.headDim, ridge: options?.ridge ?? 0.01, intercept: options?.intercept ?? false };
}

export const redistribute: CompensationMethod = {
  name: 'redistribute',
  label: 'Redistribution',
  plain: 'Let the surviving heads take over what the removed heads used to say, predicted from what the survivors say.',
  what: 'Fit the removed heads’ outputs from the surviving heads’ outputs (ridge least squares, truncated to rank r, default head_dim) on calibration data and fold the map into the output projection; FFN channels get the full-rank fit (= OBS). Needs calibration with Hessians.',
  source:
    'The pruning seed’s "attention redistribution"; reduced-rank regression (Izenman, 1975); at full rank it is the OBS update (Hassibi & Stork, 1993).',
  needs: { calibration: true, hessians: true },
  apply: (input) => {
    const { rank, ridge, intercept } = redistributeSettings(input.ir, input.options);
    return compensateLayers(input, (lw, { attn, ffn, stats }) => ({
      ...lw,
      o: redistributed(lw.o, attn, stats.attnIn, { rank, ridge, intercept }),
      down: redistributed(lw.down, ffn, stats.ffnIn, { rank: Infinity, ridge, intercept }),
    }));
  },
};
