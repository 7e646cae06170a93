/**
 * Tensor helpers shared by the family adapters: the checked fetch (presence, shape against
 * config.json, finite values) and the 2-D layout moves between checkpoint and IR conventions.
 */
import { NumericError, ShapeMismatchError } from '../core/errors';
import { allocFloat32, tensor, type Tensor } from '../core/tensor';
import type { ArchSpec, LayerShape, ModelIR, ModelWeights } from '../core/ir';
import type { TensorGetter } from './adapter';

/** Validates a fetched tensor: present, of the shape config.json implies, and free of NaN / Inf. */
export function checkTensor(t: Tensor | undefined, name: string, shape: readonly number[], files = 'the checkpoint'): Tensor {
  if (!t) throw new ShapeMismatchError(`Tensor "${name}" is missing from ${files}.`);
  if (!sameShape(t.shape, shape)) {
    throw new ShapeMismatchError(`Tensor "${name}" has shape [${t.shape.join(', ')}], but config.json implies [${shape.join(', ')}].`);
  }
  checkFinite(t, name);
  return t;
}

export function checkFinite(t: Tensor, name: string): void {
  const d = t.data;
  for (let i = 0; i < d.length; i++) {
    const x = d[i]!;
    if (x - x !== 0) {
      throw new NumericError(
        `Tensor "${name}" contains ${Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf'} at element ${i} (index [${unravel(i, t.shape).join(', ')}]).`,
        'The checkpoint is corrupt or was saved after training diverged; use another checkpoint.',
      );
    }
  }
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function sameData(a: Tensor, b: Tensor): boolean {
  return sameShape(a.shape, b.shape) && a.data.every((x, i) => x === b.data[i]);
}

/** Columns [from, from + count) of a 2-D [rows, cols] tensor, transposed: a [count, rows] tensor. */
export function transposeColumns(t: Tensor, from: number, count: number): Tensor {
  const [rows = 0, cols = 0] = t.shape;
  const out = allocFloat32(count * rows);
  for (let i = 0; i < rows; i++) {
    const row = i * cols + from;
    for (let j = 0; j < count; j++) out[j * rows + i] = t.data[row + j]!;
  }
  return tensor([count, rows], out);
}

/** [r, c] -> [c, r]. */
export function transpose(t: Tensor): Tensor {
  return transposeColumns(t, 0, t.shape[1] ?? 0);
}

/** Inverse of transposeColumns over several parts: [out_p, in] tensors -> one [in, sum out_p]. */
export function concatTransposed(parts: readonly Tensor[]): Tensor {
  const inner = parts[0]?.shape[1] ?? 0;
  const cols = parts.reduce((n, p) => n + (p.shape[0] ?? 0), 0);
  const out = allocFloat32(inner * cols);
  let at = 0;
  for (const p of parts) {
    const [n = 0, k = 0] = p.shape;
    if (k !== inner) throw new ShapeMismatchError(`Cannot concatenate [${p.shape.join(', ')}] with parts of input width ${inner}.`);
    for (let j = 0; j < n; j++) for (let i = 0; i < inner; i++) out[i * cols + at + j] = p.data[j * inner + i]!;
    at += n;
  }
  return tensor([inner, cols], out);
}

/** Elements [from, from + count) of a 1-D tensor, copied. */
export function slice1d(t: Tensor, from: number, count: number): Tensor {
  const out = allocFloat32(count);
  out.set(t.data.subarray(from, from + count));
  return tensor([count], out);
}

export function concat1d(parts: readonly Tensor[]): Tensor {
  const out = allocFloat32(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return tensor([out.length], out);
}

function unravel(i: number, shape: readonly number[]): number[] {
  const idx: number[] = [];
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx.unshift(i % d);
    i = Math.floor(i / d);
  }
  return idx;
}

/** The untied output head `name`, or undefined when it is absent (tied config) or shares the embedding's data. */
export function readLmHead(get: TensorGetter, name: string, spec: ArchSpec, embedding: Tensor, files?: string): Tensor | undefined {
  const head = get(name);
  if (!head) {
    if (!spec.tiedEmbeddings) checkTensor(head, name, [spec.vocabSize, spec.hiddenSize], files);
    return undefined;
  }
  checkTensor(head, name, [spec.vocabSize, spec.hiddenSize], files);
  return sameData(head, embedding) ? undefined : head;
}

/** A dense ModelIR (identity layer numbering) from the weights an adapter read. */
export function denseIR(
  name: string,
  spec: ArchSpec,
  layers: readonly LayerShape[],
  weights: Omit<ModelWeights, 'lmHead'>,
  lmHead: Tensor | undefined,
): ModelIR {
  return {
    name,
    spec: { ...spec, tiedEmbeddings: lmHead === undefined },
    layers: layers.map((l) => ({ ...l })),
    originalLayerIndex: layers.map((_, i) => i),
    weights: { ...weights, ...(lmHead ? { lmHead } : {}) },
  };
}
