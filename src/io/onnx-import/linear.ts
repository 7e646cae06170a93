/**
 * Linear layers as exporters write them: MatMul(x, W[in, out]) (+ Add bias), MatMul(x,
 * Transpose(W[out, in])), or GPT-2's Conv1D as Reshape -> Gemm(x, W, b) -> Reshape. Weights come
 * out in the IR's [out, in] layout and are read lazily.
 */
import { UnsupportedModelError } from '../../core/errors';
import { tensor, type Tensor } from '../../core/tensor';
import type { GNode, GraphIndex, Use } from './graph';
import { PASS_OPS } from './graph';

export interface LinearMatch {
  node: GNode;
  inFeatures: number;
  outFeatures: number;
  /** [out, in] */
  weight(): Tensor;
  bias?: () => Tensor;
  /** The value after the bias and any reshape back to [batch, seq, out]. */
  out: string;
}

/** Uses that carry data (Shape / Size only read the dims). */
export function dataUses(g: GraphIndex, value: string): Use[] {
  return g.uses(value).filter((u) => u.node.op !== 'Shape' && u.node.op !== 'Size' && !(u.node.op === 'CastLike' && u.slot === 1));
}

function transposed(values: Float32Array, rows: number, cols: number): Tensor {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j]!;
  return tensor([cols, rows], out);
}

/** [out, in] weight of the right operand W of x @ W: a Transpose of an [out, in] constant is read as is. */
function matmulWeight(g: GraphIndex, w: string, dims: number[]): () => Tensor {
  const p = g.producer.get(w);
  const perm = p?.op === 'Transpose' ? (g.attrInts(p, 'perm') ?? [1, 0]) : undefined;
  if (p && perm?.[0] === 1 && perm[1] === 0 && p.inputs[0] && g.isConst(p.inputs[0])) {
    const src = p.inputs[0];
    return () => {
      const v = g.constValue(src)!;
      return tensor(v.dims, v.values);
    };
  }
  return () => transposed(g.constValue(w)!.values, dims[0]!, dims[1]!);
}

function constVector(g: GraphIndex, value: string | undefined, n: number): (() => Tensor) | undefined {
  if (!value) return undefined;
  const dims = g.constDims(value);
  if (!dims || dims.length !== 1 || dims[0] !== n) return undefined;
  return () => tensor([n], g.constValue(value)!.values);
}

/** The linear layer a value enters at `use`, or undefined when it is not one. */
export function linearAt(g: GraphIndex, use: Use): LinearMatch | undefined {
  const n = use.node;
  if (use.slot !== 0 || (n.op !== 'MatMul' && n.op !== 'Gemm')) return undefined;
  const w = n.inputs[1];
  const dims = w ? g.constDims(w) : undefined;
  if (!w || !dims || dims.length !== 2) return undefined;
  let inFeatures: number;
  let outFeatures: number;
  let weight: () => Tensor;
  let bias: (() => Tensor) | undefined;
  if (n.op === 'MatMul') {
    [inFeatures, outFeatures] = dims as [number, number];
    weight = matmulWeight(g, w, dims);
  } else {
    if (g.attrInt(n, 'transA', 0) !== 0 || g.attrFloat(n, 'alpha', 1) !== 1 || g.attrFloat(n, 'beta', 1) !== 1) {
      throw new UnsupportedModelError(`Gemm node "${n.name}" uses transA / alpha / beta, which exporters do not write for linear layers.`);
    }
    const transB = g.attrInt(n, 'transB', 0) === 1;
    [outFeatures, inFeatures] = (transB ? dims : [dims[1], dims[0]]) as [number, number];
    const values = () => g.constValue(w)!.values;
    weight = transB ? () => tensor([outFeatures, inFeatures], values()) : () => transposed(values(), dims[0]!, dims[1]!);
    bias = constVector(g, n.inputs[2], outFeatures);
    if (n.inputs[2] && !bias) throw new UnsupportedModelError(`Gemm node "${n.name}" has a bias that is not a [${outFeatures}] constant.`);
  }
  let out = n.outputs[0]!;
  for (;;) {
    const next = dataUses(g, out);
    if (next.length !== 1) break;
    const u = next[0]!;
    if (u.node.op === 'Reshape' && u.slot === 0 && n.op === 'Gemm') {
      out = u.node.outputs[0]!;
      continue;
    }
    const other = u.node.inputs[1 - u.slot];
    const b = u.node.op === 'Add' && !bias ? constVector(g, other, outFeatures) : undefined;
    if (!b) break;
    bias = b;
    out = u.node.outputs[0]!;
  }
  return { node: n, inFeatures, outFeatures, weight, ...(bias ? { bias } : {}), out };
}

/** Linear layers reading `x` (directly or through reshapes / casts), in graph order. */
export function linearConsumers(g: GraphIndex, x: string): LinearMatch[] {
  const found: LinearMatch[] = [];
  const seen = new Set<string>();
  const visit = (v: string) => {
    if (seen.has(v)) return;
    seen.add(v);
    for (const u of dataUses(g, v)) {
      const lin = linearAt(g, u);
      if (lin) found.push(lin);
      else if (PASS_OPS.has(u.node.op) && u.slot === 0) visit(u.node.outputs[0]!);
    }
  };
  visit(x);
  return found.sort((a, b) => a.node.index - b.node.index);
}
