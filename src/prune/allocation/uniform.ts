/** Uniform allocation: every layer loses the same fraction of its heads / neurons (lowest scores first). */
import { selectPerLayer } from './select';
import type { AllocationStrategy } from './types';

const layerRatios = (L: number, mean: number, cap = 1) => new Array<number>(L).fill(Math.min(mean, cap));

export const uniform: AllocationStrategy = {
  name: 'uniform',
  label: 'Uniform',
  plain: 'Every layer loses the same share.',
  what: 'Every layer loses the same fraction of its heads and neurons (lowest scores first).',
  source: 'Per-layer uniform structured pruning, e.g. Ma et al., 2023, "LLM-Pruner".',
  needs: { calibration: false, hessians: false },
  layerRatios,
  apply: (input) => selectPerLayer(input, layerRatios),
};
