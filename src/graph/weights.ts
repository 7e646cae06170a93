/**
 * Weight layout helpers for the graph builder: PyTorch-style W[out, in] blocks are fused along
 * `out` and stored transposed (W^T [in, out]) so that MatMul(x, W^T) needs no run-time Transpose.
 */
import { ShapeMismatchError } from '../core/errors';
import type { Linear } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import type { DeferredFloats } from '../io/onnx';
import { isResident, scratchOf, valueCount, valuesInto, type ScratchBuffer } from '../core/weight-residency';

/**
 * The values of `weights` for one recipe's rows: their own arrays, or for spilled tensors not in
 * memory, read from their store into consecutive parts of `scratch` (none made resident, no new
 * arrays: writing a spilled model's file would otherwise leave each weight as garbage, which a
 * browser collects late).
 */
function recipeSources(weights: readonly Tensor[], scratch: ScratchBuffer | undefined): Float32Array[] {
  const stored = weights.filter((w) => !isResident(w));
  if (!scratch || stored.length === 0) return weights.map((w) => w.data);
  const buffer = scratchOf(scratch, 4 * stored.reduce((a, w) => a + valueCount(w), 0));
  let at = 0;
  return weights.map((w) => {
    if (isResident(w)) return w.data;
    const n = valueCount(w);
    const values = valuesInto(w, new Float32Array(buffer, 4 * at, n));
    at += n;
    return values;
  });
}

/**
 * [in, sum(out_i)]: the transposes of W_i [out_i, in] side by side, each scaled by scales[i]
 * (default 1), as a recipe computed one row (input channel) at a time: the graph builder writes it
 * straight into the encoded model (io/onnx/deferred.ts) or computes it whole. `scratch` (shared by
 * the recipes of one model, written one after another) receives spilled weights read for the rows.
 */
export function fusedTransposeRows(weights: readonly Tensor[], scales: readonly number[] = [], scratch?: ScratchBuffer): DeferredFloats {
  const inDim = weights[0]?.shape[1] ?? 0;
  const outs = weights.map((w) => w.shape[0] ?? 0);
  const total = outs.reduce((a, b) => a + b, 0);
  for (const w of weights)
    if (w.shape.length !== 2 || w.shape[1] !== inDim) {
      throw new ShapeMismatchError(`Fused linear expects [out, ${inDim}] weights, got [${w.shape.join(', ')}].`);
    }
  const self = {};
  let sources: Float32Array[] | undefined;
  return {
    dims: [inDim, total],
    rows: inDim,
    rowLength: total,
    fill(c, out) {
      // read once per pass over the rows; again if another recipe has used the scratch since
      if (!sources || c === 0 || (scratch && scratch.owner !== self)) {
        sources = recipeSources(weights, scratch);
        if (scratch) scratch.owner = self;
      }
      let col = 0;
      weights.forEach((w, wi) => {
        const s = scales[wi] ?? 1;
        const src = sources![wi]!;
        for (let r = 0, rows = outs[wi]!; r < rows; r++) out[col + r] = src[r * inDim + c]! * s;
        col += outs[wi]!;
      });
    },
  };
}

/** Concatenated biases of the fused linears (zeros where one has none), or undefined when none has a bias. */
export function fusedBias(linears: readonly Linear[], scales: readonly number[] = []): Tensor | undefined {
  if (!linears.some((l) => l.bias)) return undefined;
  const outs = linears.map((l) => l.weight.shape[0] ?? 0);
  const out = new Float32Array(outs.reduce((a, b) => a + b, 0));
  let at = 0;
  linears.forEach((l, i) => {
    const s = scales[i] ?? 1;
    if (l.bias) {
      if (valueCount(l.bias) !== outs[i])
        throw new ShapeMismatchError(`A bias has ${valueCount(l.bias)} entries; its weight has ${outs[i]} rows.`);
      for (let j = 0; j < outs[i]!; j++) out[at + j] = l.bias.data[j]! * s;
    }
    at += outs[i]!;
  });
  return tensor([out.length], out);
}

export function expectShape(t: Tensor | undefined, shape: readonly number[], what: string): void {
  if (!t) throw new ShapeMismatchError(`${what} is missing.`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeMismatchError(`${what} has shape [${t.shape.join(', ')}]; expected [${shape.join(', ')}].`);
  }
  if (valueCount(t) !== shape.reduce((a, b) => a * b, 1))
    throw new ShapeMismatchError(`${what} holds ${valueCount(t)} values for shape [${shape.join(', ')}].`);
}
