/**
 * Latency allocation: standardised score per unit of cost (NViT-style), heads and neurons ranked
 * together until the removed cost reaches the target fraction of block cost; the cost is the
 * measured latency per unit when given (api.measureUnitLatency), else FLOPs per token.
 */
import { selectGlobal } from './select';
import type { AllocationStrategy } from './types';

export const latency: AllocationStrategy = {
  name: 'latency',
  label: 'Latency',
  plain: 'Cut the units that give the least importance for the time (or compute) they cost.',
  what: 'Importance per unit of cost (NViT-style): removes the units with the least importance per unit of cost until the target share of cost is gone. Cost = latency measured per unit, or FLOPs until measured.',
  source: 'Yang et al., 2023, "Global Vision Transformer Pruning with Hessian-Aware Saliency" (NViT).',
  needs: { calibration: false, hessians: false },
  apply: (input) =>
    selectGlobal(
      [...input.units(input.headScores, 'head'), ...input.units(input.ffnScores, 'ffn')],
      (input.req.heads + input.req.ffn) / 2,
      true,
      input.active,
      input.req.minFfnShare,
    ),
};
