/**
 * The two ends of an image classifier's graph (ViT) for the import walk (import.ts): the stem from
 * `pixel_values` to the residual stream entering block 0, and the classifier after the final norm.
 * Stem: the patch projection, either a Conv with kernel = stride = patch (torch.onnx.export of
 * Hugging Face's ViTPatchEmbeddings) or Prune Studio's Reshape [b, C, g, p, g, p] -> Transpose
 * (0, 2, 4, 1, 3, 5) -> Reshape -> MatMul by W^T [C·p·p, d] (graph/patches.ts), plus its bias; the
 * CLS token (a [d] constant, Expanded to the batch) concatenated first on the token axis; the
 * position table added. Head: the CLS row (Slice 0:1 or Gather 0 on axis 1) or the mean of the patch
 * tokens (Slice 1: -> ReduceMean) into one linear layer that gives the logits. Tensor names are never consulted.
 */
import { tensor, type Tensor } from '../../core/tensor';
import { OnnxStructureError } from './errors';
import { PASS_OPS, type GNode, type GraphIndex } from './graph';
import { dataUses, linearConsumers, type LinearMatch } from './linear';

export const PIXEL_VALUES = 'pixel_values';

export interface VisionStem {
  /** The residual stream entering block 0. */
  h: string;
  d: number;
  /** [d, C, p, p] and [d]. */
  patch: { weight: Tensor; bias?: Tensor };
  cls: Tensor;
  /** [1 + patches, d] */
  positions: Tensor;
  geometry: { imageSize: number; patchSize: number; numChannels: number };
}

const STEM_OPS = new Set([...PASS_OPS, 'Transpose', 'Conv', 'MatMul', 'Add']);

function constTensor(g: GraphIndex, name: string): Tensor | undefined {
  const c = g.constValue(name);
  return c ? tensor(c.dims, c.values) : undefined;
}

/** The one data use of `v`, or undefined. */
function onlyUse(g: GraphIndex, v: string): GNode | undefined {
  const uses = dataUses(g, v);
  return uses.length === 1 ? uses[0]!.node : undefined;
}

/** W^T [C·p·p, d] (rows ordered c, y, x) -> W [d, C, p, p]. */
function fromTransposed(wt: Tensor, C: number, p: number): Tensor {
  const [k = 0, d = 0] = wt.shape;
  const out = new Float32Array(k * d);
  for (let i = 0; i < k; i++) for (let o = 0; o < d; o++) out[o * k + i] = wt.data[i * d + o]!;
  return tensor([d, C, p, p], out);
}

interface Projection {
  weight: Tensor;
  bias?: Tensor;
  patchSize: number;
  numChannels: number;
}

/** Walks forward from pixel_values to the Concat that prepends the CLS token, reading the projection on the way. */
function patchProjection(g: GraphIndex): { projection: Projection; concat: GNode; slot: number } {
  let v = PIXEL_VALUES;
  let weight: Tensor | undefined;
  let bias: Tensor | undefined;
  let grid: (number | undefined)[] | undefined;
  let perm: number[] | undefined;
  let patchSize = 0;
  let numChannels = 0;
  for (let steps = 0; steps < 32; steps++) {
    const uses = dataUses(g, v);
    const u = uses.length === 1 ? uses[0]! : undefined;
    if (!u)
      throw new OnnxStructureError(`the patch embedding: "${v}" has ${uses.length} data uses, expected one on the way to the CLS Concat.`);
    const n = u.node;
    if (n.op === 'Concat') {
      if (g.attrInt(n, 'axis', 0) !== 1)
        throw new OnnxStructureError('the patch tokens are concatenated with the CLS token on an axis other than 1.');
      if (!weight) throw new OnnxStructureError('found no patch projection (Conv or MatMul) between pixel_values and the CLS Concat.');
      if (!weight.shape.length || weight.shape.length !== 4) {
        // MatMul: W^T [C·p·p, d] with C and p from the grid Reshape [b, C, g, p, g, p] and its Transpose.
        const [, c, , p] = grid ?? [];
        if (c === undefined || p === undefined || perm?.join(',') !== '0,2,4,1,3,5')
          throw new OnnxStructureError(
            'the MatMul patch projection is not fed by a Reshape [batch, C, g, p, g, p] and Transpose (0, 2, 4, 1, 3, 5).',
          );
        if ((weight.shape[0] ?? 0) !== c * p * p)
          throw new OnnxStructureError(`the patch projection has ${weight.shape[0]} inputs, not C·p·p = ${c * p * p}.`);
        [weight, numChannels, patchSize] = [fromTransposed(weight, c, p), c, p];
      }
      return { projection: { weight, ...(bias ? { bias } : {}), patchSize, numChannels }, concat: n, slot: u.slot };
    }
    if (!STEM_OPS.has(n.op) || u.slot !== 0)
      throw new OnnxStructureError(`the patch embedding: unexpected ${n.op} on the way from pixel_values.`);
    if (n.op === 'Conv') {
      const w = constTensor(g, n.inputs[1] ?? '');
      const [, C = 0, p = 0, q = 0] = w?.shape ?? [];
      const strides = g.attrInts(n, 'strides');
      if (!w || w.shape.length !== 4 || p !== q || strides?.some((s) => s !== p))
        throw new OnnxStructureError('the patch Conv must have a constant [d, C, p, p] kernel with stride p.');
      [weight, numChannels, patchSize] = [w, C, p];
      const b = n.inputs[2] ? constTensor(g, n.inputs[2]) : undefined;
      if (b) bias = tensor([b.data.length], b.data);
    } else if (n.op === 'MatMul') {
      const w = constTensor(g, n.inputs[1] ?? '');
      if (!w || w.shape.length !== 2) throw new OnnxStructureError('the MatMul patch projection has no constant [C·p·p, d] weight.');
      weight = w;
    } else if (n.op === 'Add') {
      const b = constTensor(g, n.inputs[1 - u.slot] ?? '');
      if (!b || !weight) throw new OnnxStructureError('an Add in the patch embedding is not the projection bias.');
      bias = tensor([b.data.length], b.data);
    } else if (n.op === 'Reshape' && !weight) {
      const e = g.shapeEntries(n.inputs[1] ?? '');
      if (e?.length === 6) grid = e;
    } else if (n.op === 'Transpose' && !weight) perm = g.attrInts(n, 'perm');
    v = n.outputs[0]!;
  }
  throw new OnnxStructureError('the patch embedding: no CLS Concat within 32 steps of pixel_values.');
}

/** The CLS input of the Concat: a constant of d values, possibly Expanded / Tiled to the batch. */
function clsToken(g: GraphIndex, v: string, d: number): Tensor {
  for (let steps = 0; steps < 8; steps++) {
    const c = g.constValue(v);
    if (c && c.values.length === d) return tensor([d], c.values);
    const p = g.producer.get(v);
    if (!p || !(PASS_OPS.has(p.op) || p.op === 'Expand' || p.op === 'Tile') || !p.inputs[0]) break;
    v = p.inputs[0];
  }
  throw new OnnxStructureError(`could not find the CLS token (a constant of ${d} values concatenated before the patches).`);
}

export function visionStem(g: GraphIndex): VisionStem {
  const { projection, concat, slot } = patchProjection(g);
  const d = projection.weight.shape[0] ?? 0;
  if (slot !== 1 || concat.inputs.length !== 2) throw new OnnxStructureError('the CLS token must be the first of two concatenated inputs.');
  const cls = clsToken(g, concat.inputs[0] ?? '', d);
  const add = onlyUse(g, concat.outputs[0]!);
  const pos = add?.op === 'Add' ? constTensor(g, add.inputs.find((i) => i !== concat.outputs[0]) ?? '') : undefined;
  const rows = pos ? pos.data.length / d : 0;
  if (!add || !pos || !Number.isInteger(rows) || rows < 2)
    throw new OnnxStructureError('could not find the position table added after the CLS Concat.');
  const grid = Math.round(Math.sqrt(rows - 1));
  if (grid * grid !== rows - 1) throw new OnnxStructureError(`the position table has ${rows} rows, not 1 + a square number of patches.`);
  return {
    h: add.outputs[0]!,
    d,
    patch: { weight: projection.weight, ...(projection.bias ? { bias: projection.bias } : {}) },
    cls,
    positions: tensor([rows, d], pos.data),
    geometry: { imageSize: grid * projection.patchSize, patchSize: projection.patchSize, numChannels: projection.numChannels },
  };
}

/** Whether node `n` picks token 0 on axis 1 (Slice 0:1 or Gather index 0). */
function picksCls(g: GraphIndex, n: GNode): boolean {
  if (n.op === 'Gather') return g.attrInt(n, 'axis', 0) === 1 && g.scalar(n.inputs[1] ?? '') === 0;
  if (n.op !== 'Slice') return false;
  const starts = g.scalar(n.inputs[1] ?? '');
  const ends = g.scalar(n.inputs[2] ?? '');
  const axes = g.scalar(n.inputs[3] ?? '');
  return starts === 0 && ends === 1 && axes === 1;
}

/** Whether node `n` is Slice(1:) on axis 1 (the patch tokens, CLS dropped). */
function dropsCls(g: GraphIndex, n: GNode): boolean {
  if (n.op !== 'Slice') return false;
  const ends = g.scalar(n.inputs[2] ?? '');
  return g.scalar(n.inputs[1] ?? '') === 1 && ends !== undefined && ends >= 2 ** 31 - 1 && g.scalar(n.inputs[3] ?? '') === 1;
}

/** ReduceMean over axis 1 without keepdims (attribute axes before opset 18, input after). */
function meanOverTokens(g: GraphIndex, n: GNode | undefined): n is GNode {
  if (n?.op !== 'ReduceMean' || g.attrInt(n, 'keepdims', 1) !== 0) return false;
  const axes = g.attrInts(n, 'axes') ?? (n.inputs[1] ? [g.scalar(n.inputs[1])] : []);
  return axes.length === 1 && axes[0] === 1;
}

export interface ClassifierMatch {
  head: LinearMatch;
  pooling: 'cls' | 'mean';
}

/**
 * After the final norm: the pooled tokens (the CLS row, Slice 0:1 or Gather 0 on axis 1; or the
 * mean of the patch tokens, Slice 1: -> ReduceMean) into one linear layer; undefined when
 * `normOut` feeds neither.
 */
export function classifierAfter(g: GraphIndex, normOut: string): ClassifierMatch | undefined {
  const uses = dataUses(g, normOut).filter((u) => u.slot === 0);
  const cls = uses.find((u) => picksCls(g, u.node))?.node;
  const patches = uses.find((u) => dropsCls(g, u.node))?.node;
  const mean = patches ? onlyUse(g, patches.outputs[0]!) : undefined;
  const pooled = cls ? cls.outputs[0]! : meanOverTokens(g, mean) ? mean.outputs[0]! : undefined;
  if (!pooled) return undefined;
  const heads = linearConsumers(g, pooled);
  const head = heads.length === 1 ? heads[0]! : undefined;
  if (!head) throw new OnnxStructureError('the pooled tokens after the final norm do not feed exactly one classifier projection.');
  return { head, pooling: cls ? 'cls' : 'mean' };
}
