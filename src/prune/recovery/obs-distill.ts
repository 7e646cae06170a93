/** OBS then distillation training: OBS compensation of the round's units, then the Adam steps. */
import { distill } from './distill';
import { obs } from './obs';
import type { RecoveryMethod } from './types';

export const obsDistill: RecoveryMethod = {
  name: 'obs+distill',
  label: 'OBS + distillation training',
  plain: 'After each round, re-fit the remaining weights with OBS, then train them to imitate the dense model.',
  what: 'After each round, OBS re-fit of the kept o / down weights, then Adam steps on every block linear weight towards the dense model.',
  source: `${obs.source} ${distill.source}`,
  needs: { calibration: true, hessians: true, training: true },
  apply: async (input) => distill.apply({ ...input, ir: (await obs.apply(input)).ir }),
};
