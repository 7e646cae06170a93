/**
 * Coupled weights of prunable units, read from the canonical IR layout (W[out, in]).
 * Head h of a layer: rows [h*dh, (h+1)*dh) of W_q (and of W_k, W_v when heads are not grouped)
 * plus the same columns of W_o. FFN neuron j: row j of W_up (and W_gate) plus column j of W_down.
 */
import type { Linear, ModelIR } from '../core/ir';
import type { CriterionName, UnitScores } from './types';

export function emptyScores(
  ir: ModelIR,
  criterion: CriterionName,
  kinds: { heads?: boolean; ffn?: boolean; layers?: boolean },
): UnitScores {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  return {
    criterion,
    numLayers: L,
    numHeads: H,
    ffnSize: F,
    heads: kinds.heads ? new Float64Array(L * H) : null,
    ffn: kinds.ffn ? new Float64Array(L * F) : null,
    layers: kinds.layers ? new Float64Array(L) : null,
  };
}

/** Sum over rows [from, to) of f(w) for a [out, in] weight, plus the matching bias entries. */
export function rowSum(lin: Linear, from: number, to: number, f: (w: number) => number): number {
  const [, cols = 0] = lin.weight.shape;
  let s = 0;
  const w = lin.weight.data;
  for (let r = from; r < to; r++) for (let c = 0; c < cols; c++) s += f(w[r * cols + c]!);
  if (lin.bias) for (let r = from; r < to; r++) s += f(lin.bias.data[r]!);
  return s;
}

/** Per input column j of a [out, in] weight: sum over output rows of f(w_ij). */
export function columnSums(lin: Linear, f: (w: number) => number): Float64Array {
  const [rows = 0, cols = 0] = lin.weight.shape;
  const out = new Float64Array(cols);
  const w = lin.weight.data;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c] = out[c]! + f(w[r * cols + c]!);
  return out;
}

/** Sums consecutive groups of `size` channel scores (a head's channels). */
export function groupSums(channel: ArrayLike<number>, size: number): Float64Array {
  const out = new Float64Array(Math.floor(channel.length / size));
  for (let i = 0; i < channel.length; i++) {
    const g = Math.floor(i / size);
    out[g] = out[g]! + channel[i]!;
  }
  return out;
}

export function sumAll(lin: Linear | undefined, f: (w: number) => number): number {
  if (!lin) return 0;
  let s = 0;
  for (const v of lin.weight.data) s += f(v);
  if (lin.bias) for (const v of lin.bias.data) s += f(v);
  return s;
}

export const square = (w: number) => w * w;
export const abs = (w: number) => Math.abs(w);
