/**
 * Global targets in parameters or FLOPs: what a plan removes (exactly: shapes after the plan and
 * FLOPs from the cost model in cost.ts, parameters from the tensor shapes, as slicing would) and the shared heads / FFN ratio whose plan comes closest to removing a given
 * fraction of the model's parameters or forward FLOPs (bisection; removals grow with the ratio).
 */
import type { LayerWeights, Linear, ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import { defaultCostSeq, forwardFlops, modelCost, shapesAfter } from './cost';
import { valueCount } from '../core/weight-residency';
import type { Tensor } from '../core/tensor';

export const TARGET_METRICS = ['units', 'parameters', 'flops'] as const;
export type TargetMetric = (typeof TARGET_METRICS)[number];

export interface PlanCost {
  parameters: number;
  flops: number;
}

const size = (t?: Tensor) => (t ? valueCount(t) : 0);

/** Parameters of `rows` output rows of a linear layer (weights + their bias entries). */
function rowsCost(lin: Linear | undefined, rows: number): number {
  if (!lin) return 0;
  const [, cols = 0] = lin.weight.shape;
  return rows * cols + (lin.bias ? rows : 0);
}

/** Parameters of `cols` input columns of a linear layer (bias untouched). */
function colsCost(lin: Linear, cols: number): number {
  return (lin.weight.shape[0] ?? 0) * cols;
}

function layerParameters(lw: LayerWeights): number {
  const linears = [lw.q, lw.k, lw.v, lw.o, lw.up, lw.gate, lw.down];
  return (
    linears.reduce((a, lin) => a + size(lin?.weight) + size(lin?.bias), 0) +
    size(lw.attnNorm.weight) +
    size(lw.attnNorm.bias) +
    size(lw.mlpNorm.weight) +
    size(lw.mlpNorm.bias)
  );
}

/** Parameters and forward FLOPs (at `seq`) of the model the plan would slice out of `ir` (`dense` = modelCost(ir, seq)). */
export function planCost(ir: ModelIR, plan: PruningPlan, seq: number, dense: PlanCost = modelCost(ir, seq)): PlanCost {
  const dh = ir.spec.headDim;
  const layers = shapesAfter(ir.layers, plan);
  let removed = 0;
  layers.forEach((after, l) => {
    const entry = plan.layers[l];
    const lw = ir.weights.layers[l]!;
    const shape = ir.layers[l]!;
    if (!entry) return;
    if (entry.removed) {
      removed += layerParameters(lw);
      return;
    }
    const heads = shape.numHeads - after.numHeads;
    const kv = shape.numKvHeads - after.numKvHeads;
    const ffn = shape.ffnSize - after.ffnSize;
    removed += rowsCost(lw.q, heads * dh) + colsCost(lw.o, heads * dh) + rowsCost(lw.k, kv * dh) + rowsCost(lw.v, kv * dh);
    removed += rowsCost(lw.up, ffn) + rowsCost(lw.gate, ffn) + colsCost(lw.down, ffn);
  });
  return { parameters: dense.parameters - removed, flops: forwardFlops(ir.spec, layers, seq) };
}

/** Fraction of the dense model's parameters or FLOPs that the plan removes. */
export function removedFraction(
  ir: ModelIR,
  plan: PruningPlan,
  metric: Exclude<TargetMetric, 'units'>,
  seq: number,
  dense: PlanCost = modelCost(ir, seq),
): number {
  const cost = planCost(ir, plan, seq, dense);
  return metric === 'parameters' ? 1 - cost.parameters / dense.parameters : 1 - cost.flops / dense.flops;
}

/**
 * The ratio r in [0, maxRatio] whose plan `planFor(r)` removes the fraction closest to `fraction`
 * of the model's parameters / FLOPs (ties: the smaller r). 40 bisection steps on the step function.
 */
export function ratioForTarget(
  ir: ModelIR,
  planFor: (ratio: number) => PruningPlan,
  metric: Exclude<TargetMetric, 'units'>,
  fraction: number,
  seq = defaultCostSeq(ir.spec),
  maxRatio = 0.99,
): { ratio: number; plan: PruningPlan; achieved: number } {
  const dense = modelCost(ir, seq);
  const at = (ratio: number) => {
    const plan = planFor(ratio);
    return { ratio, plan, achieved: removedFraction(ir, plan, metric, seq, dense) };
  };
  let lo = at(0);
  let hi = at(maxRatio);
  if (fraction <= lo.achieved) return lo;
  if (fraction >= hi.achieved) return hi;
  for (let it = 0; it < 40; it++) {
    const mid = at((lo.ratio + hi.ratio) / 2);
    if (mid.achieved < fraction) lo = mid;
    else hi = mid;
  }
  return fraction - lo.achieved <= hi.achieved - fraction ? lo : hi;
}
