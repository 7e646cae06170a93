/**
 * One pre-norm decoder block: h += layer_mask * attn(norm(h)); h += layer_mask * mlp(norm(h)).
 * layer_mask multiplies both branch outputs including their biases (0 = block removed).
 */
import { applyLayerMask, tap, tapNames, type TapRecord } from './taps';
import { attentionBranch } from './attention';
import { mlpBranch } from './mlp';
import type { GraphContext } from './context';

function addBranch(ctx: GraphContext, h: string, branch: string | undefined, l: number, name: string): string {
  if (!branch) return h;
  const scaled = applyLayerMask(ctx, branch, 'layer', l, name);
  return ctx.b.op('Add', [h, scaled], undefined, `${name}/residual`);
}

/** Returns the residual stream leaving block l. */
export function decoderBlock(ctx: GraphContext, taps: TapRecord[], x: string, l: number): string {
  tap(ctx, taps, x, tapNames.hidden(l), ctx.ir.spec.hiddenSize);
  const afterAttn = addBranch(ctx, x, attentionBranch(ctx, taps, x, l), l, `layer${l}/attn`);
  return addBranch(ctx, afterAttn, mlpBranch(ctx, taps, afterAttn, l), l, `layer${l}/mlp`);
}
