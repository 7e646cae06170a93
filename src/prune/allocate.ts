/**
 * Allocation: turns importance scores + targets into a PruningPlan. The strategies (uniform,
 * global, incremental, sensitivity, latency) are one file each under allocation/, listed in
 * allocation/registry.ts; this module removes whole layers, hands the strategy the active layers and
 * the selectable units with their cost, and builds the plan.
 * Guard rails: a layer keeps at least one head and one neuron; locked layers are untouched; with
 * grouped-query attention heads leave in whole kv groups (scores summed per group).
 */
import type { ModelIR } from '../core/ir';
import { emptyPlan, type PruningPlan } from '../core/plan';
import type { UnitScores } from '../saliency/types';
import { defaultCostSeq, unitCosts } from './cost';
import { getAllocation, type Allocation } from './allocation/registry';
import { layerUnits, lowest } from './allocation/select';
import type { AllocationTargets, Unit, UnitKind } from './allocation/types';

export { ALLOCATIONS, allocationInfos, getAllocation, type Allocation } from './allocation/registry';
export { incrementalRatios } from './allocation/incremental';
export { removalCount } from './allocation/select';

export interface AllocationRequest extends AllocationTargets {
  allocation: Allocation;
}

/** Expands selected kv-group indices to head indices. */
function expandHeads(ir: ModelIR, layer: number, groups: number[]): number[] {
  const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
  const g = H / K;
  return groups.flatMap((k) => Array.from({ length: g }, (_, j) => k * g + j)).sort((a, b) => a - b);
}

export function allocate(
  ir: ModelIR,
  headScores: UnitScores | null,
  ffnScores: UnitScores | null,
  layerScores: UnitScores | null,
  req: AllocationRequest,
  name = 'plan',
): PruningPlan {
  const strategy = getAllocation(req.allocation);
  const plan = emptyPlan(ir, name);
  const L = ir.layers.length;
  const locked = new Set(req.locked ?? []);
  const removedLayers = new Set(
    layerScores?.layers && req.layers > 0
      ? lowest(
          Array.from(layerScores.layers, (score, index) => ({ index, score })).filter((u) => !locked.has(u.index)),
          Math.min(req.layers, L - 1),
        )
      : [],
  );
  const active = Array.from({ length: L }, (_, l) => l).filter((l) => !locked.has(l) && !removedLayers.has(l));
  const measured = req.unitCost;
  const costs = measured ? { kvGroup: () => measured.kvGroup, neuron: measured.neuron } : unitCosts(ir, defaultCostSeq(ir.spec));
  const units = (s: UnitScores | null, kind: UnitKind): Unit[] => {
    const arr = kind === 'head' ? s?.heads : s?.ffn;
    if (!arr) return [];
    const width = kind === 'head' ? s!.numHeads : s!.ffnSize;
    return active.flatMap((layer) =>
      layerUnits(ir, arr, width, kind, layer).map((u) => ({
        ...u,
        layer,
        kind,
        cost: kind === 'head' ? costs.kvGroup(layer) : costs.neuron,
      })),
    );
  };
  const selections = strategy.apply({ ir, req, headScores, ffnScores, active, units });
  plan.layers = plan.layers.map((entry) => ({
    ...entry,
    removed: removedLayers.has(entry.index),
    removedHeads: removedLayers.has(entry.index) ? [] : expandHeads(ir, entry.index, selections.get(`head:${entry.index}`) ?? []),
    removedFfn: removedLayers.has(entry.index) ? [] : [...(selections.get(`ffn:${entry.index}`) ?? [])].sort((a, b) => a - b),
  }));
  return plan;
}
