/**
 * Weight compensation for removed channels of the output (o) and down projections, applied to a
 * copy of the dense model before slicing. The methods (none, FLAP bias, OBS) are one file each
 * under compensation/, listed in compensation/registry.ts; this is the entry point that checks a
 * method's `needs` against the statistics and applies it.
 */
import type { LayerWeights, ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import type { CalibrationStats } from '../core/stats';
import { requireNeeds } from './method';
import { sliceModel } from './slice';
import { getCompensation, type Compensation } from './compensation/registry';
import type { CompensationInput, CompensationOptions } from './compensation/types';
export type { CompensationOptions } from './compensation/types';

export { biasCompensated } from './compensation/bias';
export { obsCompensated } from './compensation/obs';
export { asCompensation, COMPENSATIONS, compensationInfos, getCompensation, type Compensation } from './compensation/registry';

/**
 * Returns a copy of `ir` whose o/down projections are compensated for the plan's removals.
 * `check` runs before each layer (methods that go layer by layer call it) and may throw to cancel.
 */
export function compensate(
  ir: ModelIR,
  plan: PruningPlan,
  stats: CalibrationStats | undefined,
  mode: Compensation,
  check?: CompensationInput['check'],
  options?: CompensationOptions,
): ModelIR {
  const method = getCompensation(mode);
  requireNeeds(`${method.label} compensation`, method.needs, stats);
  return method.apply({ ir, plan, ...(stats ? { stats } : {}), ...(check ? { check } : {}), ...(options ? { options } : {}) });
}

/**
 * sliceModel(compensate(ir, plan, ...), plan) computed one layer at a time: each kept layer is
 * compensated alone (a plan that keeps only it) and sliced at once, so the compensated full-size
 * copy of all layers never exists (GPT-2 124M: 142 MB of o / down weights with OBS). The same
 * numbers: every method compensates each layer from that layer's weights and statistics alone.
 * A plan that removes hidden channels is sliced from the whole compensated copy.
 */
export function compensatedSlice(
  ir: ModelIR,
  plan: PruningPlan,
  stats: CalibrationStats | undefined,
  mode: Compensation,
  check?: CompensationInput['check'],
  options?: CompensationOptions,
  /** Each kept layer's sliced weights as soon as they are made (sliceModel); not called when the plan removes hidden channels. */
  onLayer?: (weights: LayerWeights) => void,
): ModelIR {
  // hidden channels are sliced from the whole model afterwards: its layers are not final here (no onLayer)
  if ((plan.removedHidden ?? []).length) return sliceModel(compensate(ir, plan, stats, mode, check, options), plan);
  const only = (l: number): PruningPlan => ({ ...plan, layers: plan.layers.map((e) => (e.index === l ? e : { ...e, removed: true })) });
  return sliceModel(ir, plan, (l) => compensate(ir, only(l), stats, mode, check, options), onLayer);
}
