/**
 * The compensation contract: given the dense model, the plan and calibration statistics, return a
 * copy of the model whose o / down projections make up for the plan's removals (before slicing).
 * One file per method next to this one, listed in registry.ts.
 */
import type { LayerWeights, ModelIR } from '../../core/ir';
import type { PruningPlan } from '../../core/plan';
import type { CalibrationStats, LayerStats } from '../../core/stats';
import type { MethodInfo } from '../method';
import { headChannels } from '../slice';

export interface CompensationInput {
  ir: ModelIR;
  plan: PruningPlan;
  /** Present whenever the method's `needs.calibration` (checked by compensate()). */
  stats?: CalibrationStats;
  /** Method options (today only redistribution reads them: rank, ridge, intercept). */
  options?: CompensationOptions;
  /** Called before each layer (a unit of work); may throw to cancel (e.g. CancelledError). */
  check?: (layer: number, layers: number) => void;
}

/** Options of the compensations that take any (redistribute); the others ignore them. */
export interface CompensationOptions {
  /** Rank of the folded head update (default: head_dim). */
  rank?: number;
  /** Ridge relative to the mean diagonal of the second moment (default 0.01, OBS's damping). */
  ridge?: number;
  /** Fit an intercept and fold it into the bias (default false). */
  intercept?: boolean;
}

export interface CompensationMethod extends MethodInfo {
  apply(input: CompensationInput): ModelIR;
}

/** What one kept layer loses: o-projection input channels of the removed heads, and FFN channels. */
export interface LayerRemovals {
  attn: number[];
  ffn: number[];
  stats: LayerStats;
  numSequences: number;
}

/** Maps every kept layer's weights through `fn` (removed layers and layers absent from the plan stay). */
export function compensateLayers(
  { ir, plan, stats, check }: CompensationInput,
  fn: (lw: LayerWeights, removals: LayerRemovals) => LayerWeights,
): ModelIR {
  if (!stats) throw new Error('compensateLayers: statistics are required');
  const layers = ir.weights.layers.map((lw, i) => {
    const entry = plan.layers[i];
    if (!entry || entry.removed) return lw;
    check?.(i, ir.weights.layers.length);
    return fn(lw, {
      attn: headChannels(entry.removedHeads, ir.spec.headDim),
      ffn: entry.removedFfn,
      stats: stats.layers[i]!,
      numSequences: stats.numSequences,
    });
  });
  return { ...ir, weights: { ...ir.weights, layers } };
}
