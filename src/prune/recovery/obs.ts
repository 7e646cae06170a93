/**
 * OBS recovery: OBS compensation (compensation/obs.ts) of the round's newly removed channels, with
 * Hessians taken on the current masked, already recovered model just before those channels were masked.
 */
import { obsRecover } from '../recover';
import type { RecoveryMethod } from './types';

export const obs: RecoveryMethod = {
  name: 'obs',
  label: 'OBS',
  plain: 'After each round, re-tune the remaining weights to make up for what was cut.',
  what: 'After each round, re-fit the kept o / down projection weights to the calibration activations (OBS), with Hessians of the current pruned model.',
  source: 'Hassibi & Stork, 1993 (OBS); Frantar & Alistarh, 2023, "SparseGPT".',
  needs: { calibration: true, hessians: true },
  apply: async ({ ir, removed, stats }) => {
    if (!stats) throw new Error('OBS recovery: statistics are required');
    return { ir: obsRecover(ir, removed, stats), lossBefore: NaN, lossAfter: NaN };
  },
};
