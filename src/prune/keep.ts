/** Row and column selection of a Linear [out, in] (+ bias), shared by head / FFN and hidden-channel slicing. */
import type { Linear } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import { valuesThrough, type ScratchBuffer } from '../core/weight-residency';

/**
 * A spilled weight read for one selection (core/weight-residency.ts valuesInto) goes into this one
 * buffer instead of becoming a resident array that is garbage once evicted: slicing a spilled model
 * would otherwise leave each of its matrices behind for the collector (which a browser runs late).
 * The selections below are synchronous and done with the values before they return.
 */
const readScratch: ScratchBuffer = {};

const valuesOf = (t: Tensor): Float32Array => valuesThrough(t, readScratch);

/** Keeps the listed rows of a [out, in] weight (and bias entries). */
export function keepRows(lin: Linear, rows: readonly number[]): Linear {
  const cols = lin.weight.shape[1] ?? 0;
  const w = new Float32Array(rows.length * cols);
  const src = valuesOf(lin.weight);
  rows.forEach((r, i) => w.set(src.subarray(r * cols, (r + 1) * cols), i * cols));
  const out: Linear = { weight: tensor([rows.length, cols], w) };
  if (lin.bias)
    out.bias = tensor(
      [rows.length],
      Float32Array.from(rows, (r) => lin.bias!.data[r]!),
    );
  return out;
}

/** Keeps the listed input columns of a [out, in] weight (bias untouched). */
export function keepColumns(lin: Linear, cols: readonly number[]): Linear {
  const [rows = 0, inCols = 0] = lin.weight.shape;
  const w = new Float32Array(rows * cols.length);
  const src = valuesOf(lin.weight);
  for (let r = 0; r < rows; r++) cols.forEach((c, j) => (w[r * cols.length + j] = src[r * inCols + c]!));
  const out: Linear = { weight: tensor([rows, cols.length], w) };
  if (lin.bias) out.bias = copy(lin.bias);
  return out;
}

export function copy(t: Tensor): Tensor {
  return tensor(t.shape, valuesOf(t).slice());
}
