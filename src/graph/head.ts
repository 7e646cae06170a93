/**
 * Final norm, LM head (or classifier head) and per-token (per-image) loss. The LM head is Gemm(h, E, transB=1) on the flattened
 * stream, so a tied head reads the token-embedding initializer itself (stored once, no Transpose).
 * token_nll = ReduceLogSumExp(logits) - logits[label], stable for any logit scale.
 */
import { ShapeMismatchError } from '../core/errors';
import { reduceLast, streamShapeOf, weight, type GraphContext } from './context';
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
  const shape = b.op('Concat', [streamShapeOf(ctx, 'lm_head/ids_shape'), b.constInt64([ir.spec.vocabSize])], { axis: 0 }, 'lm_head/shape');
  return b.node('Reshape', [logits2d, shape], { ...(out ? { outputs: [out] } : {}), name: 'lm_head/logits' })[0]!;
}

/**
 * Classifier head: final norm, pooling (`spec.pooling`: the CLS token, position 0; or the mean of
 * the other positions), then Gemm with the classifier [labels, hidden] and its bias: logits [batch, labels].
 */
export function classifierHead(ctx: GraphContext, h: string, out: string | undefined): string {
  const { b, ir } = ctx;
  if (ir.spec.head !== 'classifier') throw unsupportedStructure(ir.spec, 'head');
  const w = ir.weights.lmHead;
  if (!w) throw new ShapeMismatchError(`${ir.name} has no classifier weight.`);
  const hn = applyNorm(ctx, h, ir.weights.finalNorm, 'final_norm');
  const axis1 = b.constInt64([1]);
  let pooled: string;
  if ((ir.spec.pooling ?? 'cls') === 'cls') {
    const first = b.op('Slice', [hn, b.constInt64([0]), axis1, axis1], undefined, 'pool/cls');
    pooled = b.op('Squeeze', [first, axis1], undefined, 'pool/flat');
  } else if (ir.spec.pooling === 'mean') {
    const rest = b.op('Slice', [hn, axis1, b.constInt64([2 ** 31 - 1]), axis1], undefined, 'pool/patches');
    pooled =
      ctx.opts.opset >= 18
        ? b.op('ReduceMean', [rest, axis1], { keepdims: 0 }, 'pool/mean')
        : b.op('ReduceMean', [rest], { axes: [1], keepdims: 0 }, 'pool/mean');
  } else throw unsupportedStructure(ir.spec, 'pooling');
  const inputs = [pooled, weight(ctx, 'classifier.weight', w)];
  if (ir.weights.lmHeadBias) inputs.push(weight(ctx, 'classifier.bias', ir.weights.lmHeadBias));
  return b.node('Gemm', inputs, { attrs: { transB: 1 }, ...(out ? { outputs: [out] } : {}), name: 'classifier' })[0]!;
}

/** token_nll [batch, seq] = -log softmax(logits)[labels] (classifier: logits [batch, labels], labels and nll [batch]). */
export function tokenNll(ctx: GraphContext, logits: string, labels: string, out: string): string {
  const { b } = ctx;
  const lse = reduceLast(ctx, 'ReduceLogSumExp', logits, 'loss/logsumexp');
  const index = b.op('Unsqueeze', [labels, b.constInt64([-1])], undefined, 'loss/labels');
  const picked = b.op('GatherElements', [logits, index], { axis: -1 }, 'loss/picked');
  const nll = b.op('Sub', [lse, picked], undefined, 'loss/nll');
  return b.node('Squeeze', [nll, b.constInt64([-1])], { outputs: [out], name: 'loss' })[0]!;
}
