/** OBS then gradient descent: OBS compensation of the round's units, then the gradient steps. */
import { obs } from './obs';
import { sgd } from './sgd';
import type { RecoveryMethod } from './types';

export const obsSgd: RecoveryMethod = {
  name: 'obs+sgd',
  label: 'OBS + gradient descent',
  plain: 'After each round, re-tune the remaining weights, then train them a little.',
  what: 'After each round, OBS re-fit of the kept weights, then a few gradient-descent steps on the o / down projections.',
  source: `${obs.source} ${sgd.source}`,
  needs: { calibration: true, hessians: true, gradients: true },
  apply: async (input) => sgd.apply({ ...input, ir: (await obs.apply(input)).ir }),
};
