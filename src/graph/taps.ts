/**
 * Mask inputs (head_mask, ffn_mask, layer_mask) and activation taps (attn_in.i, ffn_in.i,
 * hidden.i, hidden.L) of the graph contract in options.ts.
 */
import type { ModelIR } from '../core/ir';
import type { Dim, OnnxGraphBuilder } from '../io/onnx';
import { gramBlocks, packedGramLength } from '../core/packed-gram';
import { boundedConcat } from './concat';
import { layerSlice, type GraphContext, type MaskInputs } from './context';

export interface TapRecord {
  name: string;
  dims: Dim[];
}

/** Declares the three mask inputs (uniform models only; see validateForGraph). */
export function addMaskInputs(b: OnnxGraphBuilder, ir: ModelIR): MaskInputs {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const headMask = b.addInput('head_mask', 'float32', [L, H]);
  b.addInput('ffn_mask', 'float32', [L, F]);
  b.addInput('layer_mask', 'float32', [L]);
  const head = b.op('Reshape', [headMask, b.constInt64([L, H, 1, 1])], undefined, 'masks/head_4d');
  return { head, ffn: 'ffn_mask', layer: 'layer_mask' };
}

/** Multiplies x by this layer's row of a stacked mask (no-op without masks). */
export function applyLayerMask(ctx: GraphContext, x: string, which: keyof MaskInputs, l: number, name: string): string {
  if (!ctx.masks) return x;
  const row = layerSlice(ctx, ctx.masks[which], l, `${name}/mask_row`);
  return ctx.b.op('Mul', [x, row], undefined, `${name}/masked`);
}

export const tapNames = {
  attnIn: (l: number) => `attn_in.${l}`,
  ffnIn: (l: number) => `ffn_in.${l}`,
  hidden: (l: number) => `hidden.${l}`,
  gram: (tap: string) => `gram.${tap}`,
};

/** Exposes `value` as graph output `name` (when taps are on); records it for declaration at the end. */
export function tap(ctx: GraphContext, taps: TapRecord[], value: string, name: string, width: number): void {
  if (!ctx.opts.taps) return;
  ctx.b.node('Identity', [value], { outputs: [name], name: `tap/${name}` });
  taps.push({ name, dims: ['batch', 'seq', width] });
  const wanted = ctx.opts.gramsOf ? name.startsWith(`${ctx.opts.gramsOf}.`) : !name.startsWith('hidden.');
  if (ctx.opts.grams && wanted) gramTap(ctx, taps, value, name, width);
}

/**
 * gram.<tap> = Xᵀ X with X = the tap flattened to [batch·seq, width]; with `grams: 'packed'` only
 * its upper block trapezoid (core/packed-gram.ts), one MatMul per row block, flattened and concatenated.
 */
function gramTap(ctx: GraphContext, taps: TapRecord[], value: string, name: string, width: number): void {
  const { b } = ctx;
  const x = b.op('Reshape', [value, b.constInt64([-1, width])], undefined, `gram/${name}/rows`);
  if (ctx.opts.grams === 'packed') return packedGramTap(ctx, taps, x, name, width);
  const xt = b.op('Transpose', [x], { perm: [1, 0] }, `gram/${name}/transpose`);
  const gram = tapNames.gram(name);
  b.node('MatMul', [xt, x], { outputs: [gram], name: `gram/${name}` });
  taps.push({ name: gram, dims: [width, width] });
}

function packedGramTap(ctx: GraphContext, taps: TapRecord[], x: string, name: string, width: number): void {
  const { b } = ctx;
  const cols = (from: number, to: number, hint: string) =>
    b.op('Slice', [x, b.constInt64([from]), b.constInt64([to]), b.constInt64([1])], undefined, hint);
  const parts = gramBlocks(width).map(({ from, height }) => {
    const hint = `gram/${name}/rows${from}`;
    const xt = b.op('Transpose', [cols(from, from + height, `${hint}/x`)], { perm: [1, 0] }, `${hint}/transpose`);
    const block = b.op('MatMul', [xt, from === 0 ? x : cols(from, width, `${hint}/right`)], undefined, hint);
    return b.op('Reshape', [block, b.constInt64([-1])], undefined, `${hint}/flat`);
  });
  const gram = tapNames.gram(name);
  if (parts.length === 1) b.node('Identity', parts, { outputs: [gram], name: `gram/${name}` });
  else boundedConcat(b, parts, 0, `gram/${name}`, gram);
  taps.push({ name: gram, dims: [packedGramLength(width)] });
}

/** A [batch, seq, 0] tap for a sublayer that pruning removed entirely. */
export function emptyTap(ctx: GraphContext, taps: TapRecord[], like: string, name: string): void {
  if (!ctx.opts.taps) return;
  const { b } = ctx;
  const zero = b.constInt64([0]);
  b.node('Slice', [like, zero, zero, b.constInt64([2])], { outputs: [name], name: `tap/${name}` });
  taps.push({ name, dims: ['batch', 'seq', 0] });
}
