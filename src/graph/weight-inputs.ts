/**
 * Weights as graph inputs (`weights: 'inputs'`, options.ts): every tensor of the IR becomes a graph
 * input with a stable name, so one copy of the weights (the IR's own Float32Arrays) can feed any
 * number of sessions. `weightFeeds` returns those feeds as zero-copy views; the graph reads each
 * weight in its IR layout (W[out, in]) through Gemm(transB = 1), so nothing is fused or transposed
 * on the CPU. Names: weight.{kind}.{l} / bias.{kind}.{l} per layer (kind: attn_norm, q, k, v, o,
 * mlp_norm, up, gate, down; weight.o.l and weight.down.l are the `weightInputs` names, so a caller's
 * feed for them overrides the default) and weight.token_embedding, weight.position_embedding,
 * weight.lm_head, weight.final_norm, bias.final_norm; a ViT adds bias.lm_head (its classifier),
 * weight.patch_embedding ([d, C, p, p]), bias.patch_embedding and weight.cls_token. A row block of
 * a weight (the chunked loss's head chunks) is the input `{name}.rows{r0}_{r1}`, fed as a view.
 */
import type { Linear, ModelIR, Norm } from '../core/ir';
import type { Feeds } from '../core/runner';
import type { Tensor } from '../core/tensor';
import { storageIdentity, tensorRows } from '../core/weight-residency';
import { attr, type AttrValue } from '../io/onnx';
import { streamShapeOf, weightInput, type GraphContext, type WeightInputIndex } from './context';

/** [input name, tensor] for every weight of the IR, in a fixed order. */
export function weightEntries(ir: ModelIR): [string, Tensor][] {
  const out: [string, Tensor][] = [];
  const add = (name: string, t: Tensor | undefined) => {
    if (t) out.push([name, t]);
  };
  const pair = (kind: string, suffix: string, p: Linear | Norm | undefined) => {
    add(`weight.${kind}${suffix}`, p?.weight);
    add(`bias.${kind}${suffix}`, p?.bias);
  };
  const w = ir.weights;
  add('weight.token_embedding', w.tokenEmbedding);
  add('weight.position_embedding', w.positionEmbedding);
  add('weight.lm_head', w.lmHead);
  add('bias.lm_head', w.lmHeadBias);
  pair('patch_embedding', '', w.patchEmbedding);
  add('weight.cls_token', w.clsToken);
  pair('final_norm', '', w.finalNorm);
  w.layers.forEach((lw, l) => {
    const s = `.${l}`;
    pair('attn_norm', s, lw.attnNorm);
    pair('q', s, lw.q);
    pair('k', s, lw.k);
    pair('v', s, lw.v);
    pair('o', s, lw.o);
    pair('mlp_norm', s, lw.mlpNorm);
    pair('gate', s, lw.gate);
    pair('up', s, lw.up);
    pair('down', s, lw.down);
  });
  return out;
}

/**
 * Feeds of a `weights: 'inputs'` graph built from `ir`: views of the IR's arrays (no copy).
 * With `inputNames`, only the inputs that graph declares (a pruned layer's empty sublayer has none).
 */
export function weightFeeds(ir: ModelIR, inputNames?: readonly string[]): Feeds {
  const wanted = inputNames && new Set(inputNames);
  const feeds: Feeds = {};
  const entries = weightEntries(ir);
  for (const [name, t] of entries) {
    if (!wanted || wanted.has(name)) feeds[name] = { type: 'float32', dims: t.shape, data: t.data };
  }
  // Row blocks (context.ts weightRowsInput, e.g. the chunked loss's head chunks): views of the same array.
  const byName = new Map(entries);
  for (const input of inputNames ?? []) {
    const rows = rowsInputTensor(input, byName);
    if (rows) feeds[input] = { type: 'float32', dims: rows.shape, data: rows.data };
  }
  return feeds;
}

/** `{name}.rows{r0}_{r1}` (context.ts rowsInputName). */
const ROWS_INPUT = /^(.+)\.rows(\d+)_(\d+)$/;

/** The rows a row-block input (`{name}.rows{r0}_{r1}`) names, of the weight `byName` gives for it: a view (a spilled one's rows read); else undefined. */
export function rowsInputTensor(input: string, byName: ReadonlyMap<string, Tensor>): Tensor | undefined {
  const m = ROWS_INPUT.exec(input);
  const t = m && byName.get(m[1]!);
  if (!m || !t) return undefined;
  const [r0, r1] = [Number(m[2]), Number(m[3])];
  return { data: tensorRows(t, r0, r1), shape: [r1 - r0, ...t.shape.slice(1)] };
}

/** Input names by tensor data, built once per graph (the builder's lookup in `weight`). */
export function weightInputIndex(ir: ModelIR): WeightInputIndex {
  const index: WeightInputIndex = new Map();
  for (const [name, tensor] of weightEntries(ir)) {
    const id = storageIdentity(tensor);
    if (!index.has(id)) index.set(id, { name, tensor });
  }
  return index;
}

/**
 * y = scale * (x W^T + b) for x [batch, seq, in] and a Linear of the IR read as an input
 * (Gemm transB on the flattened stream, alpha = beta = scale), reshaped back to [batch, seq, out].
 */
export function linearFromInputs(ctx: GraphContext, x: string, lin: Linear, name: string, scale = 1, out?: string): string {
  const { b } = ctx;
  const [outDim, inDim] = lin.weight.shape as [number, number];
  const w = weightInput(ctx, lin.weight)!;
  const bias = lin.bias && weightInput(ctx, lin.bias)!;
  const flat = b.op('Reshape', [x, b.constInt64([-1, inDim])], undefined, `${name}/flat`);
  const scaled: Record<string, AttrValue> = scale === 1 ? {} : { alpha: attr.float(scale), beta: attr.float(scale) };
  const y2d = b.op('Gemm', bias ? [flat, w, bias] : [flat, w], { transB: 1, ...scaled }, name);
  const shape = b.op('Concat', [streamShapeOf(ctx, `${name}/ids_shape`), b.constInt64([outDim])], { axis: 0 }, `${name}/shape`);
  return b.node('Reshape', [y2d, shape], { ...(out ? { outputs: [out] } : {}), name: `${name}/out` })[0]!;
}
