/**
 * Allocation: turns importance scores + targets into a PruningPlan.
 * Strategies:
 *  - uniform: every layer loses the same fraction of its heads / neurons (lowest scores first);
 *  - global: scores are standardised per layer (z-score, as FLAP's AL structures do) and ranked
 *    across layers, so layers with many weak units lose more;
 *  - incremental: SlimGPT's log-increase schedule r_i = r_min + (r_max - r_min) ln(1+i)/ln(L),
 *    r_min = r_max/4, with r_max bisected so the mean ratio meets the target;
 *  - sensitivity: raw scores ranked globally (meant for ablation deltas, which share one unit: loss);
 *  - latency: standardised score per unit of cost (NViT-style), heads and neurons ranked together
 *    until the removed cost reaches the target fraction of block cost; the cost is the measured
 *    latency per unit when given (api.measureUnitLatency), else FLOPs per token.
 * Guard rails: a layer keeps at least one head and one neuron; locked layers are untouched; with
 * grouped-query attention heads leave in whole kv groups (scores summed per group).
 */
import type { ModelIR } from '../core/ir';
import { emptyPlan, type PruningPlan } from '../core/plan';
import type { UnitScores } from '../saliency/types';
import { unitCosts } from './cost';

export const ALLOCATIONS = ['uniform', 'global', 'incremental', 'sensitivity', 'latency'] as const;
export type Allocation = (typeof ALLOCATIONS)[number];

export interface AllocationRequest {
  allocation: Allocation;
  /** Fraction of heads to remove (0..1). */
  heads: number;
  /** Fraction of FFN neurons to remove (0..1). */
  ffn: number;
  /** Whole layers to remove (count). */
  layers: number;
  /** Per-layer overrides of the head / FFN fractions (uniform-style within that layer). */
  overrides?: Record<number, { heads?: number; ffn?: number }>;
  /** Layers that are never touched. */
  locked?: number[];
  /** Latency allocation: measured cost per kv group and per neuron (any unit, e.g. ms); default FLOPs per token. */
  unitCost?: { kvGroup: number; neuron: number };
}

type Unit = { layer: number; index: number; score: number; cost: number; kind: 'head' | 'ffn' };

function zscores(values: readonly number[]): number[] {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(n - 1, 1));
  return values.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/** Per layer, scores of the selectable units (kv groups under GQA). */
function layerUnits(
  ir: ModelIR,
  scores: Float64Array,
  width: number,
  kind: 'head' | 'ffn',
  layer: number,
): { index: number; score: number }[] {
  const row = Array.from(scores.subarray(layer * width, (layer + 1) * width));
  if (kind === 'ffn') return row.map((score, index) => ({ index, score }));
  const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
  const g = H / K;
  return Array.from({ length: K }, (_, k) => ({ index: k, score: row.slice(k * g, (k + 1) * g).reduce((a, b) => a + b, 0) }));
}

/** Expands selected kv-group indices to head indices. */
function expandHeads(ir: ModelIR, layer: number, groups: number[]): number[] {
  const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
  const g = H / K;
  return groups.flatMap((k) => Array.from({ length: g }, (_, j) => k * g + j)).sort((a, b) => a - b);
}

/** `count` rounded and clamped so that a layer of `n` keeps at least one unit. */
function keepingOne(count: number, n: number): number {
  return Math.min(Math.max(0, Math.round(count)), n - 1);
}

/** Units to remove from a layer of `n` at `ratio`: round(ratio · n), keeping at least one. */
export function removalCount(ratio: number, n: number): number {
  return keepingOne(ratio * n, n);
}

function lowest(units: { index: number; score: number }[], count: number): number[] {
  const n = keepingOne(count, units.length);
  return [...units]
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .slice(0, n)
    .map((u) => u.index);
}

/** SlimGPT log-increase ratios for L layers with the given mean. */
export function incrementalRatios(L: number, mean: number): number[] {
  const schedule = (rMax: number) =>
    Array.from({ length: L }, (_, i) => {
      const rMin = rMax / 4;
      return L === 1 ? rMax : rMin + ((rMax - rMin) * Math.log(1 + i)) / Math.log(L);
    });
  let lo = 0;
  let hi = 4;
  for (let it = 0; it < 60; it++) {
    const mid = (lo + hi) / 2;
    const m = schedule(mid).reduce((a, r) => a + Math.min(r, 1), 0) / L;
    if (m < mean) lo = mid;
    else hi = mid;
  }
  return schedule(hi).map((r) => Math.min(r, 1));
}

function perLayerRatios(req: AllocationRequest, L: number, kind: 'heads' | 'ffn'): number[] {
  const base = req[kind];
  const ratios = req.allocation === 'incremental' ? incrementalRatios(L, base) : new Array<number>(L).fill(base);
  return ratios.map((r, l) => req.overrides?.[l]?.[kind] ?? r);
}

function selectGlobal(ir: ModelIR, units: Unit[], fraction: number, standardise: boolean, active: number[]): Map<string, number[]> {
  const byLayer = new Map<string, Unit[]>();
  for (const u of units) byLayer.set(`${u.kind}:${u.layer}`, [...(byLayer.get(`${u.kind}:${u.layer}`) ?? []), u]);
  const ranked: Unit[] = [];
  for (const group of byLayer.values()) {
    const z = standardise ? zscores(group.map((u) => u.score)) : group.map((u) => u.score);
    group.forEach((u, i) => ranked.push({ ...u, score: z[i]! }));
  }
  const totalCost = ranked.reduce((a, u) => a + u.cost, 0);
  ranked.sort((a, b) => a.score / a.cost - b.score / b.cost || a.layer - b.layer || a.index - b.index);
  const removed = new Map<string, number[]>();
  const remaining = new Map([...byLayer].map(([k, v]) => [k, v.length]));
  let cost = 0;
  for (const u of ranked) {
    if (cost >= fraction * totalCost - 1e-9) break;
    const key = `${u.kind}:${u.layer}`;
    if (!active.includes(u.layer) || (remaining.get(key) ?? 0) <= 1) continue;
    remaining.set(key, (remaining.get(key) ?? 0) - 1);
    removed.set(key, [...(removed.get(key) ?? []), u.index]);
    cost += u.cost;
  }
  return removed;
}

export function allocate(
  ir: ModelIR,
  headScores: UnitScores | null,
  ffnScores: UnitScores | null,
  layerScores: UnitScores | null,
  req: AllocationRequest,
  name = 'plan',
): PruningPlan {
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
  const costs = measured ? { kvGroup: () => measured.kvGroup, neuron: measured.neuron } : unitCosts(ir, 128);
  const units = (s: UnitScores | null, kind: 'head' | 'ffn'): Unit[] => {
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
  const globalKinds = req.allocation === 'global' || req.allocation === 'sensitivity';
  const selections = new Map<string, number[]>();
  if (req.allocation === 'latency') {
    const frac = (req.heads + req.ffn) / 2;
    for (const [k, v] of selectGlobal(ir, [...units(headScores, 'head'), ...units(ffnScores, 'ffn')], frac, true, active))
      selections.set(k, v);
  } else if (globalKinds) {
    const std = req.allocation === 'global';
    for (const [k, v] of selectGlobal(
      ir,
      units(headScores, 'head').map((u) => ({ ...u, cost: 1 })),
      req.heads,
      std,
      active,
    ))
      selections.set(k, v);
    for (const [k, v] of selectGlobal(
      ir,
      units(ffnScores, 'ffn').map((u) => ({ ...u, cost: 1 })),
      req.ffn,
      std,
      active,
    ))
      selections.set(k, v);
  } else {
    const hr = perLayerRatios(req, L, 'heads');
    const fr = perLayerRatios(req, L, 'ffn');
    for (const layer of active) {
      if (headScores?.heads) {
        const groups = layerUnits(ir, headScores.heads, headScores.numHeads, 'head', layer);
        selections.set(`head:${layer}`, lowest(groups, hr[layer]! * groups.length));
      }
      if (ffnScores?.ffn) {
        const neurons = layerUnits(ir, ffnScores.ffn, ffnScores.ffnSize, 'ffn', layer);
        selections.set(`ffn:${layer}`, lowest(neurons, fr[layer]! * neurons.length));
      }
    }
  }
  plan.layers = plan.layers.map((entry) => ({
    ...entry,
    removed: removedLayers.has(entry.index),
    removedHeads: removedLayers.has(entry.index) ? [] : expandHeads(ir, entry.index, selections.get(`head:${entry.index}`) ?? []),
    removedFfn: removedLayers.has(entry.index) ? [] : [...(selections.get(`ffn:${entry.index}`) ?? [])].sort((a, b) => a - b),
  }));
  return plan;
}
