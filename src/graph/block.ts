/**
 * One Transformer block, wired as `spec.normPlacement` says. Pre-norm (GPT-2, Llama):
 * h += layer_mask * attn(norm(h)); h += layer_mask * mlp(norm(h)). Post-norm is not built yet.
 * layer_mask multiplies both branch outputs including their biases (0 = block removed).
 */
import type { NormPlacement } from '../core/ir';
import { applyLayerMask, tap, tapNames, type TapRecord } from './taps';
import { attentionBranch } from './attention';
import { mlpBranch } from './mlp';
import type { GraphContext } from './context';
import { unsupportedStructure } from './structure';

type BlockBuilder = (ctx: GraphContext, taps: TapRecord[], x: string, l: number) => string;

function addBranch(ctx: GraphContext, h: string, branch: string | undefined, l: number, name: string): string {
  if (!branch) return h;
  const scaled = applyLayerMask(ctx, branch, 'layer', l, name);
  return ctx.b.op('Add', [h, scaled], undefined, `${name}/residual`);
}

function preNormBlock(ctx: GraphContext, taps: TapRecord[], x: string, l: number): string {
  const afterAttn = addBranch(ctx, x, attentionBranch(ctx, taps, x, l), l, `layer${l}/attn`);
  return addBranch(ctx, afterAttn, mlpBranch(ctx, taps, afterAttn, l), l, `layer${l}/mlp`);
}

const BLOCKS: Partial<Record<NormPlacement, BlockBuilder>> = { pre: preNormBlock };

/** Returns the residual stream leaving block l. */
export function decoderBlock(ctx: GraphContext, taps: TapRecord[], x: string, l: number): string {
  const build = BLOCKS[ctx.ir.spec.normPlacement];
  if (!build) throw unsupportedStructure(ctx.ir.spec, 'normPlacement');
  tap(ctx, taps, x, tapNames.hidden(l), ctx.ir.spec.hiddenSize);
  return build(ctx, taps, x, l);
}
