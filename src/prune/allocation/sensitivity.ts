/** Sensitivity allocation: raw scores ranked across layers (meant for ablation deltas, which share one unit: loss). */
import { selectGlobalPerKind } from './select';
import type { AllocationStrategy } from './types';

export const sensitivity: AllocationStrategy = {
  name: 'sensitivity',
  label: 'Sensitivity',
  plain: 'Compare raw scores across all layers and cut the lowest wherever they are.',
  what: 'Raw scores ranked across layers (meant for ablation deltas, which share one unit).',
  source: 'Michel et al., 2019, "Are Sixteen Heads Really Better than One?" (global ranking of loss-based importance).',
  needs: { calibration: false, hessians: false },
  apply: (input) => selectGlobalPerKind(input, false),
};
