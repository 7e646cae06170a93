/** No compensation: the kept weights stay as they are. */
import type { CompensationMethod } from './types';

export const none: CompensationMethod = {
  name: 'none',
  label: 'No',
  plain: 'Just cut the units out; nothing else changes.',
  what: 'Remove the units and keep the other weights as they are.',
  source: 'Plain structured pruning (Michel et al., 2019, "Are Sixteen Heads Really Better than One?").',
  needs: { calibration: false, hessians: false },
  apply: ({ ir }) => ir,
};
