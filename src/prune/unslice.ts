/**
 * The inverse of slicing for the block linear weights: given the full-size model, its plan and a
 * sliced model whose linear weights were changed (recovery training of the applied model), the
 * full-size model with those weights written back at the kept rows and columns: changed weights are
 * copies, unchanged ones the full-size model's own tensors (shared: callers that write copy first,
 * as prune/distill.ts does). Removed
 * heads, neurons, layers and hidden channels keep their full-size values, so
 * sliceModel(unsliceLinears(full, plan, s), plan) has exactly the linear weights of s, and the
 * masked full-size model computes what the sliced one does. `unsliceModel` also writes back the
 * biases and takes the norms, embeddings and head from the sliced model: the compensated full-size
 * model an applied one was sliced from, rebuilt on use instead of kept (api/install.ts).
 */
import type { LayerWeights, Linear, ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import { ShapeMismatchError } from '../core/errors';
import { tensor } from '../core/tensor';
import { valueCount, valuesThrough, type ScratchBuffer } from '../core/weight-residency';
import { headChannels } from './slice';
import { keptHidden } from './slice-hidden';

const kept = (total: number, removed: readonly number[]) => {
  const gone = new Set(removed);
  return Array.from({ length: total }, (_, i) => i).filter((i) => !gone.has(i));
};

/** Whether the full-size weight already holds the sliced values at (rows × cols) (bit for bit). */
function holdsSlice(full: Float32Array, inCols: number, sliced: Float32Array, rows: readonly number[], cols: readonly number[]): boolean {
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]! * inCols;
    const s = i * cols.length;
    for (let j = 0; j < cols.length; j++) if (!Object.is(full[r + cols[j]!], sliced[s + j])) return false;
  }
  return true;
}

/**
 * The full-size `lin` with the sliced weight written at (rows × cols): a copy, or `lin` itself when it
 * already holds those values (a projection that compensation or training left unchanged), so a
 * rebuilt model shares the unchanged weights with the full-size one instead of copying them.
 */
function scatter(lin: Linear, sliced: Linear, rows: readonly number[], cols: readonly number[], scratch: UnsliceScratch): Linear {
  const inCols = lin.weight.shape[1] ?? 0;
  const n = valueCount(sliced.weight);
  if (n !== rows.length * cols.length) throw new ShapeMismatchError(`Unslice: ${n} values for ${rows.length} x ${cols.length}.`);
  const full = valuesThrough(lin.weight, scratch.full);
  const part = valuesThrough(sliced.weight, scratch.sliced);
  if (holdsSlice(full, inCols, part, rows, cols)) return lin;
  const out = full.slice();
  rows.forEach((r, i) => cols.forEach((c, j) => (out[r * inCols + c] = part[i * cols.length + j]!)));
  return { ...lin, weight: tensor(lin.weight.shape, out) };
}

/** Where spilled weights are read for the comparison (no resident copies, which would be garbage after). */
interface UnsliceScratch {
  full: ScratchBuffer;
  sliced: ScratchBuffer;
}

/** Rows / columns of each linear kind of full-size layer `l` that the plan keeps. */
function layerIndices(full: ModelIR, l: number, removedHeads: readonly number[], removedFfn: readonly number[], hidden: number[]) {
  const shape = full.layers[l]!;
  const heads = kept(shape.numHeads, removedHeads);
  const group = shape.numHeads / shape.numKvHeads;
  const kvHeads = kept(shape.numKvHeads, []).filter((g) => heads.some((h) => Math.floor(h / group) === g));
  const qRows = headChannels(heads, full.spec.headDim);
  const kvRows = headChannels(kvHeads, full.spec.headDim);
  const ffn = kept(shape.ffnSize, removedFfn);
  return {
    q: [qRows, hidden],
    k: [kvRows, hidden],
    v: [kvRows, hidden],
    o: [hidden, qRows],
    gate: [ffn, hidden],
    up: [ffn, hidden],
    down: [hidden, ffn],
  } as const;
}

export function unsliceLinears(full: ModelIR, plan: PruningPlan, sliced: ModelIR): ModelIR {
  const hidden = keptHidden(full.spec.hiddenSize, plan.removedHidden ?? []);
  const layers: LayerWeights[] = full.weights.layers.map((lw) => ({ ...lw }));
  const scratch: UnsliceScratch = { full: {}, sliced: {} };
  let s = 0;
  for (const entry of plan.layers) {
    if (entry.removed) continue;
    const sw = sliced.weights.layers[s++];
    if (!sw) throw new ShapeMismatchError(`Unslice: the sliced model has no layer for full-size layer ${entry.index}.`);
    const idx = layerIndices(full, entry.index, entry.removedHeads, entry.removedFfn, hidden);
    const out = layers[entry.index]!;
    for (const kind of ['q', 'k', 'v', 'o', 'up', 'down'] as const) {
      const [rows, cols] = idx[kind];
      if (rows.length && cols.length) out[kind] = scatter(out[kind], sw[kind], rows, cols, scratch);
    }
    if (out.gate && sw.gate && idx.gate[0].length) out.gate = scatter(out.gate, sw.gate, idx.gate[0], idx.gate[1], scratch);
  }
  if (s !== sliced.weights.layers.length)
    throw new ShapeMismatchError(`Unslice: the sliced model has ${sliced.weights.layers.length} layers, the plan keeps ${s}.`);
  return { ...full, weights: { ...full.weights, layers } };
}

/** The full-size bias of `lin` (zeros where it had none) with the sliced bias written at `rows`. */
function scatterBias(lin: Linear, sliced: Linear, rows: readonly number[]): Linear {
  if (!sliced.bias) return lin;
  if (sliced.bias.data.length !== rows.length)
    throw new ShapeMismatchError(`Unslice: ${sliced.bias.data.length} bias values for ${rows.length} rows.`);
  const out = lin.bias ? lin.bias.data.slice() : new Float32Array(lin.weight.shape[0] ?? 0);
  rows.forEach((r, i) => (out[r] = sliced.bias!.data[i]!));
  return { ...lin, bias: tensor([out.length], out) };
}

/**
 * The full-size model `sliced` was cut from by `plan` (sliceModel), for plans that keep every hidden
 * channel: the kept rows / columns of each linear weight and bias and every norm, embedding and head
 * from `sliced`, the removed units' weights from `full` (masked, they do not count). So
 * sliceModel(unsliceModel(full, plan, s), plan) has exactly the weights of s.
 */
export function unsliceModel(full: ModelIR, plan: PruningPlan, sliced: ModelIR): ModelIR {
  if ((plan.removedHidden ?? []).length)
    throw new ShapeMismatchError('Unslice: a plan that removes hidden channels has no full-size model to rebuild from its slice.');
  const out = unsliceLinears(full, plan, sliced);
  let s = 0;
  for (const entry of plan.layers) {
    if (entry.removed) continue;
    const sw = sliced.weights.layers[s++]!;
    const lw = out.weights.layers[entry.index]!;
    const idx = layerIndices(full, entry.index, entry.removedHeads, entry.removedFfn, keptHidden(full.spec.hiddenSize, []));
    lw.attnNorm = sw.attnNorm;
    lw.mlpNorm = sw.mlpNorm;
    for (const kind of ['q', 'k', 'v', 'o', 'up', 'down'] as const) lw[kind] = scatterBias(lw[kind], sw[kind], idx[kind][0]);
    if (lw.gate && sw.gate) lw.gate = scatterBias(lw.gate, sw.gate, idx.gate[0]);
  }
  return { ...out, weights: { ...sliced.weights, layers: out.weights.layers } };
}
