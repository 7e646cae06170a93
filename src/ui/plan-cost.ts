/**
 * What a plan leaves (pure, UI side): per-layer shapes after the plan, forward FLOPs with the same
 * formula as src/prune/cost.ts modelCost (2 per multiply-add, attention 4·seq·headDim per head and
 * token, halved for causality), an estimate of the parameters left, and the removal counts.
 */
import type { ModelSummary } from '../api/types';
import type { LayerShape } from '../core/ir';
import { planCounts, type PlanCounts, type PruningPlan } from '../core/plan';

export function shapesAfter(model: ModelSummary, plan: PruningPlan | null): LayerShape[] {
  return model.layers.map((l, i) => {
    const p = plan?.layers[i];
    if (!p) return l;
    if (p.removed) return { numHeads: 0, numKvHeads: 0, ffnSize: 0 };
    const heads = l.numHeads - p.removedHeads.length;
    const group = l.numKvHeads > 0 ? l.numHeads / l.numKvHeads : 1;
    return { numHeads: heads, numKvHeads: Math.round(heads / group), ffnSize: l.ffnSize - p.removedFfn.length };
  });
}

export function forwardFlops(model: ModelSummary, layers: LayerShape[], seq: number): number {
  const { hiddenSize: d, headDim: dh, vocabSize: V, gatedMlp } = model.spec;
  let flops = 0;
  for (const l of layers) {
    const attn = d * dh * (2 * l.numHeads + 2 * l.numKvHeads);
    const mlp = d * l.ffnSize * (gatedMlp ? 3 : 2);
    flops += 2 * seq * (attn + mlp) + 4 * seq * seq * dh * l.numHeads * 0.5;
  }
  return flops + 2 * seq * d * V;
}

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
  const layers = shapesAfter(model, plan);
  const flopRatio = forwardFlops(model, layers, seq) / forwardFlops(model, model.layers, seq);
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
