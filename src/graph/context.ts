/**
 * State shared while building one graph: the builder, the model, the options and the values every
 * block reuses (sequence positions, the attention mask, mask inputs), plus tiny op helpers.
 */
import type { ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';
import { isSpilled, storageIdentity, tensorRows, type ScratchBuffer } from '../core/weight-residency';
import type { DeferredFloats } from '../io/onnx/deferred';
import { attr, type OnnxGraphBuilder } from '../io/onnx';
import type { GradientOptions, GraphOptions } from './options';
import { fusedTransposeRows } from './weights';

export type ResolvedOptions = Required<Omit<GraphOptions, 'gradients' | 'distill' | 'layerRange' | 'gramsOf'>> & {
  gramsOf: GraphOptions['gramsOf'];
  gradients: GradientOptions | undefined;
  distill: GraphOptions['distill'];
  layerRange: GraphOptions['layerRange'];
};

export interface MaskInputs {
  /** [L, H, 1, 1] view of head_mask, ready to Gather per layer. */
  head: string;
  /** ffn_mask [L, F] */
  ffn: string;
  /** layer_mask [L] */
  layer: string;
}

export interface GraphContext {
  readonly b: OnnxGraphBuilder;
  readonly ir: ModelIR;
  readonly opts: ResolvedOptions;
  /** The model input: input_ids [batch, seq], or pixel_values [batch, C, H, W] for a patch-input model (then `streamShape` is set). */
  readonly inputIds: string;
  /** int64 [seq]: 0..seq-1 (token-input models). */
  readonly positions: string;
  /**
   * float32 [seq, seq] added to the attention scores (causal: 0 on and below the diagonal, a large
   * negative number above it); undefined for bidirectional attention (nothing is added).
   */
  readonly attentionMask: string | undefined;
  /** int64 [2] = [batch, seq] of the residual stream when it is not Shape(inputIds) (patch-input models). */
  readonly streamShape?: string;
  readonly masks: MaskInputs | undefined;
  /** float32 [seq, headDim] cos / sin tables (rotary models only). */
  readonly rotary: { cos: string; sin: string } | undefined;
  /** Set only by the with-past graph (kv-cache.ts): past keys/values joined per layer. */
  readonly kvCache?: KvCacheHooks;
  /** With `weights: 'inputs'`: the IR's tensors by data, read as graph inputs. */
  readonly weightIndex?: WeightInputIndex;
}

/**
 * Graph input names by the identity of the tensor's array (core/weight-residency.ts
 * `storageIdentity`: the array, or a spilled tensor's slot, so building reads no spilled array;
 * graph/weight-inputs.ts weightInputIndex builds it).
 */
export type WeightInputIndex = Map<object, { name: string; tensor: Tensor }>;

/**
 * The graph input holding `t` (declared on first use), or undefined when `t` is not one of the
 * IR's own tensors (a derived constant, which stays an initializer).
 */
export function weightInput(ctx: GraphContext, t: Tensor): string | undefined {
  const entry = ctx.weightIndex?.get(storageIdentity(t));
  if (!entry) return undefined;
  if (!ctx.b.has(entry.name)) ctx.b.addInput(entry.name, 'float32', [...entry.tensor.shape]);
  return entry.name;
}

/** Name of the graph input holding rows r0..r1-1 of the weight input `name` (weight-inputs.ts feeds it as a view). */
export const rowsInputName = (name: string, r0: number, r1: number): string => `${name}.rows${r0}_${r1}`;

/**
 * The graph input holding rows r0..r1-1 of the IR tensor `t` (declared on first use; undefined when
 * `t` is not an input): a row block read without an in-graph Slice, which would copy it in the runtime.
 */
export function weightRowsInput(ctx: GraphContext, t: Tensor, r0: number, r1: number): string | undefined {
  const entry = ctx.weightIndex?.get(storageIdentity(t));
  if (!entry) return undefined;
  const name = rowsInputName(entry.name, r0, r1);
  if (!ctx.b.has(name)) ctx.b.addInput(name, 'float32', [r1 - r0, ...entry.tensor.shape.slice(1)]);
  return name;
}

/** What attention.ts asks of the with-past graph (kv-cache.ts); absent in every other graph. */
export interface KvCacheHooks {
  /**
   * Joins layer l's past keys / values [batch, K, past, dh] with the new ones [batch, K, seq, dh]
   * (after rotary, kv heads not repeated) and returns them; the joined values are `present.l.*`.
   */
  extend(l: number, k: string, v: string): [string, string];
  /** The additive mask [batch, 1, 1, seq, past+seq] for grouped-query scores [batch, K, G, seq, past+seq]. */
  readonly groupedMask: string;
}

/** Additive mask value for future positions: exp() of it underflows to exactly 0, and it never makes a row all -inf. */
export const MASKED_SCORE = -1e9;

export function resolveOptions(o: GraphOptions = {}): ResolvedOptions {
  return {
    masks: o.masks ?? false,
    taps: o.taps ?? false,
    grams: o.grams ?? false,
    gramsOf: o.gramsOf,
    tokenLoss: o.tokenLoss ?? false,
    logits: o.logits ?? true,
    logitsMax: o.logitsMax ?? false,
    opset: o.opset ?? 17,
    weightInputs: o.weightInputs ?? false,
    weights: o.weights ?? 'initializers',
    gradients: o.gradients,
    attentionProbs: o.attentionProbs ?? false,
    distill: o.distill,
    layerRange: o.layerRange,
    lossFrom: o.lossFrom ?? false,
    lossParts: o.lossParts ?? false,
  };
}

/** Adds a weight tensor under a readable unique name (with `weights: 'inputs'`, the IR's tensors are inputs). */
export function weight(ctx: GraphContext, name: string, t: Tensor): string {
  return weightInput(ctx, t) ?? ctx.b.addWeight(name, t);
}

/**
 * A vocabulary matrix (token embedding, untied LM head) as an initializer: a spilled one is kept as a
 * recipe read row by row from its store as the encoder writes it (tensorRows into one scratch row),
 * so writing a model (an export's with-past graph) never makes it resident; a plain one as it is.
 */
export function vocabularyInitializer(b: OnnxGraphBuilder, name: string, t: Tensor): string {
  if (!isSpilled(t) || t.shape.length !== 2) return b.addInitializer(name, t);
  const [rows, rowLength] = t.shape as [number, number];
  const scratch: ScratchBuffer = {};
  const recipe: DeferredFloats = { dims: t.shape, rows, rowLength, fill: (r, out) => out.set(tensorRows(t, r, r + 1, scratch)) };
  return b.addDeferredWeight(name, recipe);
}

/** One scratch per builder for its weight recipes (written one after another by the encoder). */
const recipeScratches = new WeakMap<OnnxGraphBuilder, ScratchBuffer>();
function recipeScratch(b: OnnxGraphBuilder): ScratchBuffer {
  let scratch = recipeScratches.get(b);
  if (!scratch) recipeScratches.set(b, (scratch = {}));
  return scratch;
}

/** `t` as a weight: its graph input, else a vocabulary matrix's initializer (vocabularyInitializer). */
export function vocabularyWeight(ctx: GraphContext, name: string, t: Tensor): string {
  return weightInput(ctx, t) ?? vocabularyInitializer(ctx.b, name, t);
}

/**
 * W^T [in, out] of an output (o) or down projection of layer l: an initializer, or with
 * `weightInputs` the input `weight.{kind}.{l}` ([out, in], as in the IR) transposed in the graph.
 */
export function projectionWeightT(ctx: GraphContext, kind: 'o' | 'down', l: number, w: Tensor, name: string): string {
  if (!ctx.opts.weightInputs) return ctx.b.addDeferredWeight(name, fusedTransposeRows([w], [], recipeScratch(ctx.b)));
  const input = ctx.b.addInput(`weight.${kind}.${l}`, 'float32', [...w.shape]);
  return ctx.b.op('Transpose', [input], { perm: [1, 0] }, `${name}/t`);
}

/**
 * W^T [in, Σ out] of fused q/k/v or gate/up weights: an initializer, or with weightInputs 'all' the
 * inputs `weight.{kind}.{l}` ([out, in]), each scaled (q by 1/sqrt(d_h)), concatenated and transposed.
 */
export function fusedWeightT(
  ctx: GraphContext,
  parts: readonly { kind: string; w: Tensor; scale?: number }[],
  l: number,
  name: string,
): string {
  if (ctx.opts.weightInputs !== 'all')
    return ctx.b.addDeferredWeight(
      name,
      fusedTransposeRows(
        parts.map((p) => p.w),
        parts.map((p) => p.scale ?? 1),
        recipeScratch(ctx.b),
      ),
    );
  const { b } = ctx;
  const inputs = parts.map(({ kind, w, scale }) => {
    const input = b.addInput(`weight.${kind}.${l}`, 'float32', [...w.shape]);
    return scale === undefined || scale === 1
      ? input
      : b.op('Mul', [input, b.constFloat([scale], [])], undefined, `${name}/${kind}_scaled`);
  });
  const joined = inputs.length === 1 ? inputs[0]! : b.op('Concat', inputs, { axis: 0 }, `${name}/concat`);
  return b.op('Transpose', [joined], { perm: [1, 0] }, `${name}/t`);
}

/** y = x W^T (+ b) with W^T already stored as [in, out]. */
export function matmulBias(ctx: GraphContext, x: string, wT: string, bias: string | undefined, name: string, out?: string): string {
  const { b } = ctx;
  if (!bias) return out ? b.node('MatMul', [x, wT], { outputs: [out], name })[0]! : b.op('MatMul', [x, wT], undefined, name);
  const y = b.op('MatMul', [x, wT], undefined, name);
  return out ? b.node('Add', [y, bias], { outputs: [out], name: `${name}_bias` })[0]! : b.op('Add', [y, bias], undefined, `${name}_bias`);
}

/** int64 [2] = [batch, seq] of the residual stream (Shape(input_ids) for token-input models). */
export function streamShapeOf(ctx: GraphContext, name: string): string {
  return ctx.streamShape ?? ctx.b.op('Shape', [ctx.inputIds], undefined, name);
}

/** Row `index` of a stacked per-layer tensor (Gather on axis 0 with a scalar index). */
export function layerSlice(ctx: GraphContext, stacked: string, index: number, name: string): string {
  return ctx.b.op('Gather', [stacked, ctx.b.constInt64([index], [])], { axis: 0 }, name);
}

export function scalarF(ctx: GraphContext, v: number): string {
  return ctx.b.constFloat([v], []);
}

export function unsqueeze(ctx: GraphContext, x: string, axes: readonly number[], name?: string): string {
  return ctx.b.op('Unsqueeze', [x, ctx.b.constInt64(axes)], undefined, name);
}

/** Reduce over the last axis, keeping it (axes moved from attribute to input in opset 18). */
export function reduceLast(ctx: GraphContext, op: 'ReduceMean' | 'ReduceLogSumExp' | 'ReduceMax', x: string, name: string): string {
  const { b } = ctx;
  return ctx.opts.opset >= 18 ? b.op(op, [x, b.constInt64([-1])], { keepdims: 1 }, name) : b.op(op, [x], { axes: [-1], keepdims: 1 }, name);
}

export function reshape(ctx: GraphContext, x: string, shape: readonly number[], name?: string): string {
  return ctx.b.op('Reshape', [x, ctx.b.constInt64(shape)], undefined, name);
}

export { attr };
