/**
 * Pure data behind the model map: rank percentiles of a criterion's scores, FFN neurons in bins,
 * what the plan cuts per layer (before / after widths), kv groups under grouped-query attention.
 */
import type { PruningPlan } from '../../../core/plan';
import type { LayerShape } from '../../../core/ir';

export const FFN_BINS = 32;

/** Percentile rank in [0, 1] of every value (0 = lowest); ties share the lowest rank. */
export function percentiles(values: ArrayLike<number>): Float64Array {
  const order = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]!);
  const out = new Float64Array(values.length);
  const denom = Math.max(1, values.length - 1);
  let start = 0;
  for (let i = 0; i < order.length; i++) {
    if (i > 0 && values[order[i]!] !== values[order[i - 1]!]) start = i;
    out[order[i]!] = start / denom;
  }
  return out;
}

/** Neuron range [from, to) of bin b when `size` neurons are split into `bins` bins. */
export function binRange(size: number, bins: number, b: number): [number, number] {
  return [Math.floor((b * size) / bins), Math.floor(((b + 1) * size) / bins)];
}

export interface LayerCut {
  removed: boolean;
  heads: Set<number>;
  ffn: Set<number>;
}

export function layerCut(plan: PruningPlan | null, l: number): LayerCut {
  const p = plan?.layers[l];
  return { removed: p?.removed === true, heads: new Set(p?.removedHeads ?? []), ffn: new Set(p?.removedFfn ?? []) };
}

export interface LayerWidths {
  heads: [number, number];
  kvGroups: [number, number];
  ffn: [number, number];
}

/** Before / after widths of one layer under the plan. */
export function layerWidths(shape: LayerShape, cut: LayerCut): LayerWidths {
  const G = shape.numKvHeads > 0 ? shape.numHeads / shape.numKvHeads : 1;
  const headsLeft = cut.removed ? 0 : shape.numHeads - cut.heads.size;
  return {
    heads: [shape.numHeads, headsLeft],
    kvGroups: [shape.numKvHeads, cut.removed ? 0 : Math.round(headsLeft / G)],
    ffn: [shape.ffnSize, cut.removed ? 0 : shape.ffnSize - cut.ffn.size],
  };
}

/**
 * Mean percentile and share cut of each FFN bin of layer l. With scores, the layer's neurons are
 * sorted by score first (bin 0 = the least important), so what a plan cuts gathers at one end;
 * without, bins follow the neuron index. `from` / `to` are positions in that order.
 */
export function ffnBins(
  pct: Float64Array | null,
  ffnSize: number,
  l: number,
  cut: LayerCut,
  bins = FFN_BINS,
): { mean: number; cut: number; from: number; to: number }[] {
  const n = Math.min(bins, ffnSize);
  const order = Array.from({ length: ffnSize }, (_, j) => j);
  if (pct) order.sort((a, b) => pct[l * ffnSize + a]! - pct[l * ffnSize + b]!);
  return Array.from({ length: n }, (_, b) => {
    const [from, to] = binRange(ffnSize, n, b);
    let sum = 0;
    let removed = 0;
    for (let r = from; r < to; r++) {
      const j = order[r]!;
      sum += pct ? pct[l * ffnSize + j]! : NaN;
      if (cut.removed || cut.ffn.has(j)) removed++;
    }
    return { mean: sum / Math.max(1, to - from), cut: removed / Math.max(1, to - from), from, to };
  });
}
