/**
 * Normalisation layers, from the residual stream value they read: LayerNormalization (opset 17+),
 * LayerNorm decomposed (ReduceMean, Sub, Pow, ReduceMean, Add eps, Sqrt, Div, Mul gamma, Add beta)
 * or RMSNorm decomposed (Pow / Mul, ReduceMean, Add eps, Sqrt, Div or Reciprocal, Mul, Mul gamma),
 * with Casts anywhere. Mean subtraction (a Sub of the input and its mean) tells LayerNorm from RMSNorm.
 */
import type { NormKind } from '../../core/ir';
import { tensor, type Tensor } from '../../core/tensor';
import { OnnxStructureError } from './errors';
import type { GNode, GraphIndex } from './graph';

export interface NormMatch {
  kind: NormKind;
  eps: number;
  weight(): Tensor;
  bias?: () => Tensor;
  /** The normalised value (what the projections read). */
  out: string;
}

const STOP = new Set(['MatMul', 'Gemm', 'Softmax', 'LayerNormalization', 'Gather']);

function vector(g: GraphIndex, value: string, d: number): (() => Tensor) | undefined {
  const dims = g.constDims(value);
  if (!dims || dims.length !== 1 || dims[0] !== d) return undefined;
  return () => tensor([d], g.constValue(value)!.values);
}

export function matchNorm(g: GraphIndex, h: string, d: number, where: string): NormMatch {
  const region = g.region([h], STOP);
  const ln = region.exits.find((e) => e.node.op === 'LayerNormalization' && e.slot === 0)?.node;
  if (ln) return layerNormOp(g, ln, d, where);
  const inRegion = (v: string) => region.values.has(v);
  let gammaNode: GNode | undefined;
  let weight: (() => Tensor) | undefined;
  for (const n of region.nodes) {
    if (n.op !== 'Mul') continue;
    const [a = '', b = ''] = n.inputs;
    const w = inRegion(a) ? vector(g, b, d) : inRegion(b) ? vector(g, a, d) : undefined;
    if (w) {
      gammaNode = n;
      weight = w;
    }
  }
  const has = (op: string) => region.nodes.some((n) => n.op === op);
  if (!gammaNode || !weight || !has('ReduceMean') || !(has('Sqrt') || has('Reciprocal'))) {
    throw new OnnxStructureError(
      `${where}: could not find the normalisation (LayerNorm or RMSNorm with a [${d}] weight) reading the residual stream.`,
    );
  }
  const meanSub = region.nodes.some((n) => n.op === 'Sub' && n.inputs.every(inRegion));
  const epsAdd = region.nodes.find((n) => n.op === 'Add' && n.inputs.some((i) => g.scalar(i) !== undefined));
  const eps = epsAdd ? g.scalar(epsAdd.inputs.find((i) => g.scalar(i) !== undefined)!)! : undefined;
  if (eps === undefined || !(eps > 0))
    throw new OnnxStructureError(`${where}: could not find the normalisation epsilon (an Add of a positive scalar before Sqrt).`);
  let out = gammaNode.outputs[0]!;
  let bias: (() => Tensor) | undefined;
  const beta = region.nodes.find((n) => n.op === 'Add' && n.inputs.includes(out));
  if (beta) {
    bias = vector(g, beta.inputs.find((i) => i !== out) ?? '', d);
    if (bias) out = beta.outputs[0]!;
  }
  return { kind: meanSub ? 'layernorm' : 'rmsnorm', eps: Number(eps.toPrecision(6)), weight, ...(bias ? { bias } : {}), out };
}

function layerNormOp(g: GraphIndex, n: GNode, d: number, where: string): NormMatch {
  const weight = vector(g, n.inputs[1] ?? '', d);
  if (!weight) throw new OnnxStructureError(`${where}: LayerNormalization "${n.name}" has no [${d}] scale constant.`);
  const axis = g.attrInt(n, 'axis', -1);
  if (axis !== -1 && axis !== 2)
    throw new OnnxStructureError(`${where}: LayerNormalization "${n.name}" normalises axis ${axis}, not the hidden axis.`);
  const bias = n.inputs[2] ? vector(g, n.inputs[2], d) : undefined;
  return {
    kind: 'layernorm',
    eps: Number(g.attrFloat(n, 'epsilon', 1e-5).toPrecision(6)),
    weight,
    ...(bias ? { bias } : {}),
    out: n.outputs[0]!,
  };
}
