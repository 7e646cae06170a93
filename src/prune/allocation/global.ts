/** Global allocation: scores standardised per layer (z-score, as FLAP's AL structures do) and ranked across layers. */
import { selectGlobalPerKind } from './select';
import type { AllocationStrategy } from './types';

export const globalRanking: AllocationStrategy = {
  name: 'global',
  label: 'Global',
  plain: 'Layers with many weak units lose more, layers with strong units lose less.',
  what: 'Scores standardised per layer and ranked across layers: layers with many weak units lose more.',
  source: 'An et al., 2024, "Fluctuation-based Adaptive Structured Pruning for Large Language Models" (FLAP), adaptive structure search.',
  needs: { calibration: false, hessians: false },
  apply: (input) => selectGlobalPerKind(input, true),
};
