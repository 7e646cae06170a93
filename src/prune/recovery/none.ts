/** No recovery: the round's units are masked and the weights stay as they are. */
import type { RecoveryMethod } from './types';

export const none: RecoveryMethod = {
  name: 'none',
  label: 'No',
  plain: 'Prune in rounds without repairing anything in between.',
  what: 'Mask the round’s units and keep the other weights as they are.',
  source: 'Iterative magnitude / importance pruning without fine-tuning (Michel et al., 2019).',
  needs: { calibration: false, hessians: false },
  apply: async ({ ir }) => ({ ir, lossBefore: NaN, lossAfter: NaN }),
};
