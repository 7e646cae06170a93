/**
 * Finds the quantizable weights of an fp32 graph: constant 2-D right operands of MatMul (stored
 * W^T [K, N]), the B of a Gemm with transB=1 and no C (the LM head, E [N, K]) and 2-D Gather tables
 * on axis 0 as wide as the hidden size (token embeddings, tied heads sharing the table, GPT-2's
 * learned positions; not rotary cos / sin tables). Refuses NaN / Inf weights by name.
 */
import { NumericError } from '../core/errors';
import { DataType, readFloatTensor, type ModelProto, type NodeProto, type TensorProto } from '../io/onnx';
import type { WeightTarget } from './types';

function intAttr(node: NodeProto, name: string, fallback: number): number {
  return node.attribute?.find((a) => a.name === name)?.i ?? fallback;
}

export function isHeadGemm(node: NodeProto, init: ReadonlyMap<string, TensorProto>): boolean {
  return (
    node.op_type === 'Gemm' &&
    node.input.length === 2 &&
    intAttr(node, 'transB', 0) === 1 &&
    intAttr(node, 'transA', 0) === 0 &&
    (node.attribute?.find((a) => a.name === 'alpha')?.f ?? 1) === 1 &&
    isFloat2d(init.get(node.input[1]!))
  );
}

export const isConstMatMul = (node: NodeProto, init: ReadonlyMap<string, TensorProto>) =>
  node.op_type === 'MatMul' && isFloat2d(init.get(node.input[1]!));

export const isTableGather = (node: NodeProto, init: ReadonlyMap<string, TensorProto>) =>
  node.op_type === 'Gather' && intAttr(node, 'axis', 0) === 0 && isFloat2d(init.get(node.input[0]!));

function isFloat2d(t: TensorProto | undefined): boolean {
  return !!t && t.data_type === DataType.FLOAT && (t.dims?.length ?? 0) === 2;
}

export function initializers(model: ModelProto): Map<string, TensorProto> {
  return new Map((model.graph.initializer ?? []).map((t) => [t.name ?? '', t]));
}

export function transpose(b: Float32Array, k: number, n: number): Float32Array {
  const w = new Float32Array(n * k);
  for (let r = 0; r < k; r++) for (let c = 0; c < n; c++) w[c * k + r] = b[r * n + c]!;
  return w;
}

function checkFinite(name: string, data: Float32Array): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i]!))
      throw new NumericError(
        `Weight "${name}" holds ${Number.isNaN(data[i]!) ? 'NaN' : 'Inf'} at element ${i}; quantization refused.`,
        'Quantize a model whose weights are all finite: re-run pruning / compensation (try compensation "bias" or "none") or re-load the model.',
      );
  }
}

/** Every quantizable weight of the graph, in node order. */
export function findTargets(model: ModelProto): WeightTarget[] {
  const init = initializers(model);
  const found = new Map<string, WeightTarget>();
  const add = (name: string, use: WeightTarget['uses'][number], input: string | undefined) => {
    const prev = found.get(name);
    if (prev) {
      prev.uses.push(use);
      if (input && !prev.input) prev.input = input;
      return;
    }
    const t = init.get(name)!;
    const [d0, d1] = [t.dims![0]!, t.dims![1]!];
    const data = readFloatTensor(t);
    checkFinite(name, data);
    const asMatmul = use === 'matmul';
    found.set(name, {
      name,
      uses: [use],
      n: asMatmul ? d1 : d0,
      k: asMatmul ? d0 : d1,
      w: asMatmul ? transpose(data, d0, d1) : data,
      data,
      dims: [d0, d1],
      ...(input ? { input } : {}),
    });
  };
  for (const node of model.graph.node) {
    if (isConstMatMul(node, init)) add(node.input[1]!, 'matmul', node.input[0]!);
    else if (isHeadGemm(node, init)) add(node.input[1]!, 'head', node.input[0]!);
    else if (isTableGather(node, init)) add(node.input[0]!, 'gather', undefined);
  }
  for (const t of found.values()) {
    if (t.uses.includes('matmul') && t.uses.length > 1) found.delete(t.name); // a B used both ways: leave it fp32
  }
  // Rotary cos / sin tables ([positions, head_dim / 2], Gathered by position) are not weights: the
  // importer rebuilds them from rope_theta, and 4-bit sines would blur positions. Gather tables keep
  // only the hidden width (the token embedding, the largest; GPT-2's learned positions).
  const tables = [...found.values()].filter((t) => t.uses.includes('gather'));
  const embedding = tables.reduce<WeightTarget | undefined>((a, t) => (!a || t.n * t.k > a.n * a.k ? t : a), undefined);
  for (const t of tables) if (embedding && t.k !== embedding.k && t.uses.every((u) => u === 'gather')) found.delete(t.name);
  return [...found.values()];
}
