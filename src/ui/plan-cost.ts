/**
 * What a plan leaves (pure, UI side): the live numbers beside the controls, from the engine's
 * shape-only cost model (src/prune/cost.ts: shapes after the plan, forward FLOPs), an estimate of
 * the parameters left (the summary carries no bias layout) and the removal counts.
 */
import type { ModelSummary } from '../api/types';
import type { LayerShape } from '../core/ir';
import { planCounts, type PlanCounts, type PruningPlan } from '../core/plan';
import { forwardFlops, shapesAfter } from '../prune/cost';

/** Parameters left: dense count minus the removed projections (weights + biases, an estimate). */
export function parametersAfter(model: ModelSummary, layers: LayerShape[]): number {
  const { hiddenSize: d, headDim: dh, gatedMlp } = model.spec;
  let removed = 0;
  model.layers.forEach((dense, i) => {
    const l = layers[i]!;
    removed += (dense.numHeads - l.numHeads) * (2 * d * dh + dh);
    removed += (dense.numKvHeads - l.numKvHeads) * (2 * d * dh + 2 * dh);
    removed += (dense.ffnSize - l.ffnSize) * ((gatedMlp ? 3 : 2) * d + 1);
  });
  return model.parameters - removed;
}

export interface PlanEstimate {
  counts: PlanCounts;
  flopRatio: number;
  parameters: number;
  /** Dense median latency × remaining FLOPs / dense FLOPs (compute-bound prediction), if measured. */
  predictedMs: number | null;
  /** Remaining weight bytes / dense weight bytes (float32: the parameter ratio). */
  byteRatio: number;
  /** Dense median latency × byteRatio (memory-bound prediction), if measured. */
  predictedBytesMs: number | null;
}

export function estimatePlan(model: ModelSummary, plan: PruningPlan, denseMs: number | null, seq: number): PlanEstimate {
  const layers = shapesAfter(model.layers, plan);
  const flopRatio = forwardFlops(model.spec, layers, seq) / forwardFlops(model.spec, model.layers, seq);
  const parameters = parametersAfter(model, layers);
  const byteRatio = parameters / model.parameters;
  return {
    counts: planCounts(plan),
    flopRatio,
    parameters,
    predictedMs: denseMs === null ? null : denseMs * flopRatio,
    byteRatio,
    predictedBytesMs: denseMs === null ? null : denseMs * byteRatio,
  };
}
