/**
 * Helpers of the recovery methods (recovery/*.ts) after a pruning round, on the full-size model with
 * masks (only the o / down projections change, so the masked model stays equal to the sliced one):
 * private o / down copies, OBS compensation of one round's removals, the gradient step and its norm.
 */
import type { LayerWeights, ModelIR } from '../core/ir';
import { emptyPlan, type PlanLayer } from '../core/plan';
import { tensor, type Tensor } from '../core/tensor';
import type { CalibrationStats } from '../core/stats';
import { compensate } from './compensate';

function copy(t: Tensor): Tensor {
  return tensor(t.shape, t.data.slice());
}

/** A copy of `ir` whose o / down projection weights are private copies (everything else shared). */
export function withOwnProjections(ir: ModelIR): ModelIR {
  const layers = ir.weights.layers.map((lw): LayerWeights => ({
    ...lw,
    o: { ...lw.o, weight: copy(lw.o.weight) },
    down: { ...lw.down, weight: copy(lw.down.weight) },
  }));
  return { ...ir, weights: { ...ir.weights, layers } };
}

/** OBS-compensates the channels removed in this round (`removed[l]`), given statistics taken just before. */
export function obsRecover(
  ir: ModelIR,
  removed: readonly Pick<PlanLayer, 'removedHeads' | 'removedFfn'>[],
  stats: CalibrationStats,
): ModelIR {
  return compensateRound(ir, removed, stats, 'obs');
}

/** Compensates (OBS or redistribution) the channels removed in this round, given statistics taken just before. */
export function compensateRound(
  ir: ModelIR,
  removed: readonly Pick<PlanLayer, 'removedHeads' | 'removedFfn'>[],
  stats: CalibrationStats,
  mode: 'obs' | 'redistribute',
): ModelIR {
  const plan = emptyPlan(ir, 'round');
  plan.layers = plan.layers.map((entry, l) => ({
    ...entry,
    removedHeads: [...(removed[l]?.removedHeads ?? [])],
    removedFfn: [...(removed[l]?.removedFfn ?? [])],
  }));
  return compensate(ir, plan, stats, mode);
}

/** Names of the weight gradients a gradient step uses. */
export function projectionGradNames(ir: ModelIR): string[] {
  return ir.layers.flatMap((shape, l) => [
    ...(shape.numHeads > 0 ? [`grad.o.${l}`] : []),
    ...(shape.ffnSize > 0 ? [`grad.down.${l}`] : []),
  ]);
}

/** W ← W − lr · g for every o / down weight with a gradient in `grads` (keys grad.o.l / grad.down.l). */
export function gradientStep(ir: ModelIR, grads: ReadonlyMap<string, Float64Array>, lr: number): ModelIR {
  const step = (t: Tensor, g: Float64Array | undefined): Tensor => {
    if (!g) return t;
    const out = new Float32Array(t.data.length);
    for (let i = 0; i < out.length; i++) out[i] = t.data[i]! - lr * g[i]!;
    return tensor(t.shape, out);
  };
  const layers = ir.weights.layers.map((lw, l): LayerWeights => ({
    ...lw,
    o: { ...lw.o, weight: step(lw.o.weight, grads.get(`grad.o.${l}`)) },
    down: { ...lw.down, weight: step(lw.down.weight, grads.get(`grad.down.${l}`)) },
  }));
  return { ...ir, weights: { ...ir.weights, layers } };
}

/** Global L2 norm of a set of gradients. */
export function gradientNorm(grads: ReadonlyMap<string, Float64Array>): number {
  let s = 0;
  for (const g of grads.values()) for (const v of g) s += v * v;
  return Math.sqrt(s);
}
