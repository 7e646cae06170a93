/**
 * Selection helpers shared by the allocation strategies: per-layer selectable units (kv groups
 * under GQA, scores summed per group), lowest-first selection keeping one unit, the per-layer
 * schedule selection and the global (cross-layer) ranking by score per unit of cost.
 */
import type { ModelIR } from '../../core/ir';
import type { AllocationInput, Selections, Unit, UnitKind } from './types';

function zscores(values: readonly number[]): number[] {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(n - 1, 1));
  return values.map((v) => (sd > 0 ? (v - mean) / sd : 0));
}

/** Per layer, scores of the selectable units (kv groups under GQA). */
export function layerUnits(
  ir: ModelIR,
  scores: Float64Array,
  width: number,
  kind: UnitKind,
  layer: number,
): { index: number; score: number }[] {
  const row = Array.from(scores.subarray(layer * width, (layer + 1) * width));
  if (kind === 'ffn') return row.map((score, index) => ({ index, score }));
  const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
  const g = H / K;
  return Array.from({ length: K }, (_, k) => ({ index: k, score: row.slice(k * g, (k + 1) * g).reduce((a, b) => a + b, 0) }));
}

/** `count` rounded and clamped so that a layer of `n` keeps at least one unit. */
function keepingOne(count: number, n: number): number {
  return Math.min(Math.max(0, Math.round(count)), n - 1);
}

/** Units to remove from a layer of `n` at `ratio`: round(ratio · n), keeping at least one. */
export function removalCount(ratio: number, n: number): number {
  return keepingOne(ratio * n, n);
}

export function lowest(units: { index: number; score: number }[], count: number): number[] {
  const n = keepingOne(count, units.length);
  return [...units]
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .slice(0, n)
    .map((u) => u.index);
}

/** Per-layer selection: each active layer loses its schedule's ratio (or its override) of its units, lowest first. */
export function selectPerLayer(
  { ir, req, headScores, ffnScores, active }: AllocationInput,
  schedule: (L: number, mean: number) => number[],
): Selections {
  const L = ir.layers.length;
  const ratios = (kind: 'heads' | 'ffn') => schedule(L, req[kind]).map((r, l) => req.overrides?.[l]?.[kind] ?? r);
  const hr = ratios('heads');
  const fr = ratios('ffn');
  const selections: Selections = new Map();
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
  return selections;
}

/**
 * Ranks units across layers by (optionally per-layer standardised) score per unit of cost and removes
 * the lowest until `fraction` of their total cost is gone, keeping one unit per layer and kind.
 */
export function selectGlobal(units: Unit[], fraction: number, standardise: boolean, active: number[]): Selections {
  const byLayer = new Map<string, Unit[]>();
  for (const u of units) byLayer.set(`${u.kind}:${u.layer}`, [...(byLayer.get(`${u.kind}:${u.layer}`) ?? []), u]);
  const ranked: Unit[] = [];
  for (const group of byLayer.values()) {
    const z = standardise ? zscores(group.map((u) => u.score)) : group.map((u) => u.score);
    group.forEach((u, i) => ranked.push({ ...u, score: z[i]! }));
  }
  const totalCost = ranked.reduce((a, u) => a + u.cost, 0);
  ranked.sort((a, b) => a.score / a.cost - b.score / b.cost || a.layer - b.layer || a.index - b.index);
  const removed: Selections = new Map();
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

/** Heads and FFN ranked separately across layers, every unit costing 1 (global and sensitivity). */
export function selectGlobalPerKind(input: AllocationInput, standardise: boolean): Selections {
  const { req, headScores, ffnScores, active } = input;
  const unitCost = (u: Unit) => ({ ...u, cost: 1 });
  return new Map([
    ...selectGlobal(input.units(headScores, 'head').map(unitCost), req.heads, standardise, active),
    ...selectGlobal(input.units(ffnScores, 'ffn').map(unitCost), req.ffn, standardise, active),
  ]);
}
