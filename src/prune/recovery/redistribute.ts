/**
 * Redistribution recovery: after each round, the round's removed heads are fitted from the surviving
 * heads (rank head_dim, ridge 0.01) and folded into the output projection (compensation/redistribute.ts),
 * with statistics of the current masked model taken just before the round; FFN channels get OBS.
 * 'redistribute+distill' adds the distillation training steps.
 */
import { compensateRound } from '../recover';
import { redistribute as compensation } from '../compensation/redistribute';
import { distill } from './distill';
import type { RecoveryMethod } from './types';

export const redistribute: RecoveryMethod = {
  name: 'redistribute',
  label: 'Attention redistribution',
  plain: 'After each round, let the surviving heads take over what the removed heads said.',
  what: 'After each round, fit the removed heads’ outputs from the surviving heads’ outputs (ridge, rank head_dim) and fold the map into the output projection; FFN channels get OBS. Statistics of the current pruned model.',
  source: compensation.source,
  needs: { calibration: true, hessians: true },
  apply: async ({ ir, removed, stats }) => {
    if (!stats) throw new Error('Redistribution recovery: statistics are required');
    return { ir: compensateRound(ir, removed, stats, 'redistribute'), lossBefore: NaN, lossAfter: NaN };
  },
};

export const redistributeDistill: RecoveryMethod = {
  name: 'redistribute+distill',
  label: 'Redistribution + distillation training',
  plain: 'After each round, let the surviving heads take over, then train the remaining weights to imitate the dense model.',
  what: 'After each round, attention redistribution of the round’s heads (OBS for FFN channels), then Adam steps on every block linear weight towards the dense model.',
  source: `${compensation.source} ${distill.source}`,
  needs: { calibration: true, hessians: true, training: true },
  apply: async (input) => distill.apply({ ...input, ir: (await redistribute.apply(input)).ir }),
};
