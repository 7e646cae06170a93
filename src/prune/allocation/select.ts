/**
 * Selection helpers shared by the allocation strategies: per-layer selectable units (kv groups
 * under GQA, scores summed per group), lowest-first selection above the floors, the per-layer
 * schedule selection and the global (cross-layer) ranking by score per unit of cost.
 * Floors: a layer keeps at least one kv group and at least `minFfnShare` (default 5%, at least one)
 * of its FFN neurons; only the layer control removes a whole layer.
 */
import { InputError } from '../../core/errors';
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

/** Default floor of FFN neurons a layer keeps (fraction of its width). */
export const DEFAULT_MIN_FFN_SHARE = 0.05;

/** Units a layer of `n` keeps at least: one kv group; max(1, ceil(minFfnShare · n)) FFN neurons. */
export function floorCount(kind: UnitKind, n: number, minFfnShare = DEFAULT_MIN_FFN_SHARE): number {
  if (!(minFfnShare >= 0 && minFfnShare < 1)) throw new InputError(`The FFN floor must be a fraction in [0, 1), got ${minFfnShare}.`);
  return Math.min(n, kind === 'head' ? 1 : Math.max(1, Math.ceil(minFfnShare * n - 1e-9)));
}

/** The largest ratio a layer of `n` can lose above its floor. */
export function ratioCap(kind: UnitKind, n: number, minFfnShare?: number): number {
  return n > 0 ? (n - floorCount(kind, n, minFfnShare)) / n : 0;
}

/** `count` rounded and clamped so that a layer of `n` keeps at least `keep` units. */
function keeping(count: number, n: number, keep: number): number {
  return Math.max(0, Math.min(Math.max(0, Math.round(count)), n - keep));
}

/** Units to remove from a layer of `n` at `ratio`: round(ratio · n), keeping at least `keep` (default one). */
export function removalCount(ratio: number, n: number, keep = 1): number {
  return keeping(ratio * n, n, keep);
}

export function lowest(units: { index: number; score: number }[], count: number, keep = 1): number[] {
  const n = keeping(count, units.length, keep);
  return [...units]
    .sort((a, b) => a.score - b.score || a.index - b.index)
    .slice(0, n)
    .map((u) => u.index);
}

/** Per-layer selection: each active layer loses its schedule's ratio (or its override) of its units, lowest first. */
export function selectPerLayer(
  { ir, req, headScores, ffnScores, active }: AllocationInput,
  schedule: (L: number, mean: number, cap?: number) => number[],
): Selections {
  const L = ir.layers.length;
  const share = req.minFfnShare;
  // The schedule sees the tightest layer's cap, so what a capped layer cannot take goes to the others.
  const cap = (kind: UnitKind) => Math.min(...ir.layers.map((s) => ratioCap(kind, kind === 'head' ? s.numKvHeads : s.ffnSize, share)));
  const ratios = (kind: 'heads' | 'ffn') =>
    schedule(L, req[kind], cap(kind === 'heads' ? 'head' : 'ffn')).map((r, l) => req.overrides?.[l]?.[kind] ?? r);
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
      selections.set(`ffn:${layer}`, lowest(neurons, fr[layer]! * neurons.length, floorCount('ffn', neurons.length, share)));
    }
  }
  return selections;
}

/**
 * Ranks units across layers by (optionally per-layer standardised) score per unit of cost and removes
 * the lowest until `fraction` of their total cost is gone, keeping each layer's floor per kind.
 */
export function selectGlobal(units: Unit[], fraction: number, standardise: boolean, active: number[], minFfnShare?: number): Selections {
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
  const floors = new Map([...byLayer].map(([k, v]) => [k, floorCount(v[0]!.kind, v.length, minFfnShare)]));
  let cost = 0;
  for (const u of ranked) {
    if (cost >= fraction * totalCost - 1e-9) break;
    const key = `${u.kind}:${u.layer}`;
    if (!active.includes(u.layer) || (remaining.get(key) ?? 0) <= (floors.get(key) ?? 1)) continue;
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
    ...selectGlobal(input.units(headScores, 'head').map(unitCost), req.heads, standardise, active, req.minFfnShare),
    ...selectGlobal(input.units(ffnScores, 'ffn').map(unitCost), req.ffn, standardise, active, req.minFfnShare),
  ]);
}
