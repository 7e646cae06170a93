/** Test helper: slice heads / kv groups / FFN neurons out of a ModelIR by hand, and pruned random GPT-2 / Llama models with uneven layers. */
import type { LayerWeights, ModelIR } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import { randomIR } from './random-ir';
import { randomLlamaIR } from './random-llama';

function pickRows(t: Tensor, keep: readonly number[], block: number): Tensor {
  const cols = t.shape[1]!;
  const out = new Float32Array(keep.length * block * cols);
  keep.forEach((h, i) => out.set(t.data.subarray(h * block * cols, (h + 1) * block * cols), i * block * cols));
  return tensor([keep.length * block, cols], out);
}

function pickCols(t: Tensor, keep: readonly number[], block: number): Tensor {
  const [rows, cols] = t.shape as [number, number];
  const width = keep.length * block;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++)
    keep.forEach((h, i) => out.set(t.data.subarray(r * cols + h * block, r * cols + (h + 1) * block), r * width + i * block));
  return tensor([rows, width], out);
}

function pickBias(b: Tensor | undefined, keep: readonly number[], block: number): Tensor | undefined {
  return (
    b && tensor([keep.length * block], Float32Array.from(keep.flatMap((h) => Array.from(b.data.subarray(h * block, (h + 1) * block)))))
  );
}

/** Keeps query/kv heads `keep` of layer l (no GQA): q/k/v rows and o columns. */
export function keepHeads(ir: ModelIR, l: number, keep: readonly number[]): void {
  const dh = ir.spec.headDim;
  const w = ir.weights.layers[l]!;
  const lin = (x: LayerWeights['q']) => ({
    weight: pickRows(x.weight, keep, dh),
    ...(x.bias ? { bias: pickBias(x.bias, keep, dh)! } : {}),
  });
  ir.weights.layers[l] = { ...w, q: lin(w.q), k: lin(w.k), v: lin(w.v), o: { ...w.o, weight: pickCols(w.o.weight, keep, dh) } };
  ir.layers[l] = { ...ir.layers[l]!, numHeads: keep.length, numKvHeads: keep.length };
}

/** Keeps FFN neurons `keep` of layer l: up/gate rows and down columns. */
export function keepFfn(ir: ModelIR, l: number, keep: readonly number[]): void {
  const w = ir.weights.layers[l]!;
  const lin = (x: LayerWeights['up']) => ({ weight: pickRows(x.weight, keep, 1), ...(x.bias ? { bias: pickBias(x.bias, keep, 1)! } : {}) });
  ir.weights.layers[l] = {
    ...w,
    up: lin(w.up),
    ...(w.gate ? { gate: lin(w.gate) } : {}),
    down: { ...w.down, weight: pickCols(w.down.weight, keep, 1) },
  };
  ir.layers[l] = { ...ir.layers[l]!, ffnSize: keep.length };
}

/** 3 layers: heads [3, 0, 4] (headDim 4), FFN [32, 16, 0]; the absent sublayers keep their output biases. */
export function prunedGpt2(): ModelIR {
  const ir = randomIR({ layers: 3, hidden: 16, heads: 4, ffn: 32, vocab: 50, seed: 5 });
  keepHeads(ir, 0, [0, 1, 3]);
  keepHeads(ir, 1, []);
  keepFfn(
    ir,
    1,
    Array.from({ length: 16 }, (_, j) => 2 * j),
  );
  keepFfn(ir, 2, []);
  return ir;
}

/** Keeps kv groups `groups` of layer l of a grouped-query model: those kv heads and the query heads sharing them. */
export function keepKvGroups(ir: ModelIR, l: number, groups: readonly number[]): void {
  const dh = ir.spec.headDim;
  const { numHeads: H, numKvHeads: K } = ir.layers[l]!;
  const G = H / K;
  const heads = groups.flatMap((g) => Array.from({ length: G }, (_, j) => g * G + j));
  const w = ir.weights.layers[l]!;
  const lin = (x: LayerWeights['q'], keep: readonly number[]) => ({
    weight: pickRows(x.weight, keep, dh),
    ...(x.bias ? { bias: pickBias(x.bias, keep, dh)! } : {}),
  });
  ir.weights.layers[l] = {
    ...w,
    q: lin(w.q, heads),
    k: lin(w.k, groups),
    v: lin(w.v, groups),
    o: { ...w.o, weight: pickCols(w.o.weight, heads, dh) },
  };
  ir.layers[l] = { ...ir.layers[l]!, numHeads: heads.length, numKvHeads: groups.length };
}

/** 3 Llama layers (4 query heads on 2 kv heads, q/k/v biases): kv heads [1, 2, 0] after pruning, FFN [24, 12, 24]. */
export function prunedLlama(): ModelIR {
  const ir = randomLlamaIR({ layers: 3, heads: 4, kvHeads: 2, qkvBias: true, seed: 8 });
  keepKvGroups(ir, 0, [1]);
  keepKvGroups(ir, 2, []);
  keepFfn(
    ir,
    1,
    Array.from({ length: 12 }, (_, j) => 2 * j + 1),
  );
  return ir;
}
