/**
 * Sequence-level values built once per graph from the dynamic input shape: positions 0..seq-1,
 * the additive attention mask of the spec's attention kind (causal; none when bidirectional), and
 * the token (+ learned position) embedding. Patch-input models embed in patches.ts.
 */
import type { ArchSpec } from '../core/ir';
import type { OnnxGraphBuilder } from '../io/onnx';
import { MASKED_SCORE, weight, type GraphContext } from './context';
import { unsupportedStructure } from './structure';

/** int64 [seq] = 0..seq-1, from Shape(input_ids). */
export function positionsOf(b: OnnxGraphBuilder, inputIds: string): string {
  const shape = b.op('Shape', [inputIds], undefined, 'seq/shape');
  const seqLen = b.op('Gather', [shape, b.constInt64([1], [])], { axis: 0 }, 'seq/len');
  return b.op('Range', [b.constInt64([0], []), seqLen, b.constInt64([1], [])], undefined, 'seq/positions');
}

/** float32 [seq, seq] additive causal mask: MASKED_SCORE where key position > query position. */
export function causalMaskOf(b: OnnxGraphBuilder, positions: string): string {
  const rows = b.op('Unsqueeze', [positions, b.constInt64([1])], undefined, 'causal/rows');
  const cols = b.op('Unsqueeze', [positions, b.constInt64([0])], undefined, 'causal/cols');
  const future = b.op('Greater', [cols, rows], undefined, 'causal/future');
  return b.op('Where', [future, b.constFloat([MASKED_SCORE], []), b.constFloat([0], [])], undefined, 'causal/mask');
}

/** float32 [seq, seq] additive mask on the attention scores, as `spec.attention` asks (bidirectional: none). */
export function attentionMaskOf(b: OnnxGraphBuilder, positions: string, spec: ArchSpec): string | undefined {
  if (spec.attention === 'causal') return causalMaskOf(b, positions);
  if (spec.attention === 'bidirectional') return undefined;
  throw unsupportedStructure(spec, 'attention');
}

/** Residual stream entering block 0 ([batch, seq, hidden]); named `out` when given (the hidden.0 tap). */
export function embed(ctx: GraphContext, tokenEmbedding: string, out?: string): string {
  const { b, ir } = ctx;
  const tok = b.op('Gather', [tokenEmbedding, ctx.inputIds], { axis: 0 }, 'embed/tokens');
  const pe = ir.weights.positionEmbedding;
  if (ir.spec.positions !== 'learned' || !pe) return out ? b.node('Identity', [tok], { outputs: [out], name: 'embed' })[0]! : tok;
  const pos = b.op('Gather', [weight(ctx, 'position_embedding', pe), ctx.positions], { axis: 0 }, 'embed/positions');
  return out ? b.node('Add', [tok, pos], { outputs: [out], name: 'embed' })[0]! : b.op('Add', [tok, pos], undefined, 'embed');
}
