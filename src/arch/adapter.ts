/** The family adapter contract: checkpoint tensor names <-> canonical ModelIR. */
import type { ArchSpec, Family, LayerShape, ModelIR } from '../core/ir';
import { NumericError, ShapeMismatchError } from '../core/errors';
import type { Tensor } from '../core/tensor';

export type TensorGetter = (name: string) => Tensor | undefined;

export interface FamilyAdapter {
  family: Family;
  /** Builds the IR; `get` returns a checkpoint tensor by name (undefined when absent). */
  fromTensors(spec: ArchSpec, layers: LayerShape[], get: TensorGetter, name: string): ModelIR;
  /** Inverse mapping, in the checkpoint's own layout and names. */
  toTensors(ir: ModelIR): Record<string, Tensor>;
}

/** Fetches a tensor, checks its shape, and rejects NaN / Inf values. */
export function requireTensor(get: TensorGetter, name: string, shape: readonly number[], file = 'the checkpoint'): Tensor {
  const t = get(name);
  if (!t) throw new ShapeMismatchError(`Tensor "${name}" is missing from ${file}.`);
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeMismatchError(`Tensor "${name}" has shape [${t.shape.join(', ')}]; config.json implies [${shape.join(', ')}].`);
  }
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i]!)) {
      throw new NumericError(`Tensor "${name}" contains ${Number.isNaN(t.data[i]!) ? 'NaN' : 'Inf'} at element ${i}.`, 'The checkpoint is corrupt or was saved after a diverged training step.');
    }
  }
  return t;
}

/** Transposes a 2-D tensor ([r, c] -> [c, r]). */
export function transpose(t: Tensor): Tensor {
  const [r = 0, c = 0] = t.shape;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data: out };
}
