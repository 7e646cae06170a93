/**
 * Final norm, LM head and per-token loss. The LM head is Gemm(h, E, transB=1) on the flattened
 * stream, so a tied head reads the token-embedding initializer itself (stored once, no Transpose).
 * token_nll = ReduceLogSumExp(logits) - logits[label], stable for any logit scale.
 */
import { reduceLast, weight, type GraphContext } from './context';
import { applyNorm } from './norms';
import { unsupportedStructure } from './structure';

/** logits [batch, seq, vocab], named `out` when given. */
export function lmHead(ctx: GraphContext, h: string, tokenEmbedding: string, out: string | undefined): string {
  const { b, ir } = ctx;
  if (ir.spec.head !== 'lm') throw unsupportedStructure(ir.spec, 'head');
  const d = ir.spec.hiddenSize;
  const hn = applyNorm(ctx, h, ir.weights.finalNorm, 'final_norm');
  const head = ir.weights.lmHead ? weight(ctx, 'lm_head.weight', ir.weights.lmHead) : tokenEmbedding;
  const flat = b.op('Reshape', [hn, b.constInt64([-1, d])], undefined, 'lm_head/flat');
  const logits2d = b.op('Gemm', [flat, head], { transB: 1 }, 'lm_head');
  const shape = b.op(
    'Concat',
    [b.op('Shape', [ctx.inputIds], undefined, 'lm_head/ids_shape'), b.constInt64([ir.spec.vocabSize])],
    { axis: 0 },
    'lm_head/shape',
  );
  return b.node('Reshape', [logits2d, shape], { ...(out ? { outputs: [out] } : {}), name: 'lm_head/logits' })[0]!;
}

/** token_nll [batch, seq] = -log softmax(logits)[labels]. */
export function tokenNll(ctx: GraphContext, logits: string, labels: string, out: string): string {
  const { b } = ctx;
  const lse = reduceLast(ctx, 'ReduceLogSumExp', logits, 'loss/logsumexp');
  const index = b.op('Unsqueeze', [labels, b.constInt64([-1])], undefined, 'loss/labels');
  const picked = b.op('GatherElements', [logits, index], { axis: -1 }, 'loss/picked');
  const nll = b.op('Sub', [lse, picked], undefined, 'loss/nll');
  return b.node('Squeeze', [nll, b.constInt64([-1])], { outputs: [out], name: 'loss' })[0]!;
}
