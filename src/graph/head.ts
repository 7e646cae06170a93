/**
 * Final norm, LM head (or classifier head) and per-token (per-image) loss. The LM head is Gemm(h, E, transB=1) on the flattened
 * stream, so a tied head reads the token-embedding initializer itself (stored once, no Transpose).
 * token_nll = ReduceLogSumExp(logits) - logits[label], stable for any logit scale. Without a
 * logits output (and with the weights as inputs), a large vocabulary's loss runs in vocabulary
 * chunks so the runtime never holds [batch, seq, vocab] at once (`chunkedTokenNll`); each chunk of
 * the head is then its own input (a view), so the runtime holds the head once, not once more in Slices.
 */
import { ShapeMismatchError } from '../core/errors';
import { tokenEmbeddingOf } from '../core/ir';
import type { Tensor } from '../core/tensor';
import { reduceLast, streamShapeOf, vocabularyWeight, weight, weightRowsInput, type GraphContext } from './context';
import { applyNorm } from './norms';
import { unsupportedStructure } from './structure';
import { LOSS_VOCAB_CHUNK } from '../core/memory-constants';
import { boundedConcat } from './concat';

/** The token embedding's value, or a function that declares it on first use (a graph that never reads it holds none). */
export type EmbeddingRef = string | (() => string);

/** The final-normed stream flattened to [batch·seq, d] and the head weight [vocab, d]. */
function headInputs(ctx: GraphContext, h: string, tokenEmbedding: EmbeddingRef): { flat: string; head: string };
/** The same with the head weight declared on first use (`head()`) and its IR tensor. */
function headInputs(
  ctx: GraphContext,
  h: string,
  tokenEmbedding: EmbeddingRef,
  eager: false,
): { flat: string; head: () => string; headTensor: Tensor };
function headInputs(ctx: GraphContext, h: string, tokenEmbedding: EmbeddingRef, eager = true) {
  const { b, ir } = ctx;
  if (ir.spec.head !== 'lm') throw unsupportedStructure(ir.spec, 'head');
  const hn = applyNorm(ctx, h, ir.weights.finalNorm, 'final_norm');
  const tied = () => (typeof tokenEmbedding === 'string' ? tokenEmbedding : tokenEmbedding());
  const lm = ir.weights.lmHead;
  const head = () => (lm ? vocabularyWeight(ctx, 'lm_head.weight', lm) : tied());
  const flat = b.op('Reshape', [hn, b.constInt64([-1, ir.spec.hiddenSize])], undefined, 'lm_head/flat');
  return eager ? { flat, head: head() } : { flat, head, headTensor: lm ?? tokenEmbeddingOf(ir) };
}

/** logits [batch, seq, vocab], named `out` when given. */
export function lmHead(ctx: GraphContext, h: string, tokenEmbedding: EmbeddingRef, out: string | undefined): string {
  const { b, ir } = ctx;
  const { flat, head } = headInputs(ctx, h, tokenEmbedding);
  const logits2d = b.op('Gemm', [flat, head], { transB: 1 }, 'lm_head');
  const shape = b.op('Concat', [streamShapeOf(ctx, 'lm_head/ids_shape'), b.constInt64([ir.spec.vocabSize])], { axis: 0 }, 'lm_head/shape');
  return b.node('Reshape', [logits2d, shape], { ...(out ? { outputs: [out] } : {}), name: 'lm_head/logits' })[0]!;
}

/**
 * The lossFrom option: the final stream and the labels from position `loss_from` (an int64 [1] input)
 * on, with a context whose stream shape is theirs, so the head and the token loss run on those rows only.
 */
export function scoredTail(ctx: GraphContext, h: string, labels: string): { ctx: GraphContext; h: string; labels: string } {
  const { b } = ctx;
  const from = b.addInput('loss_from', 'int64', [1]);
  const end = b.constInt64([2 ** 31 - 1]);
  const axis = b.constInt64([1]);
  const tailLabels = b.op('Slice', [labels, from, end, axis], undefined, 'loss_from/labels');
  return {
    ctx: { ...ctx, streamShape: b.op('Shape', [tailLabels], undefined, 'loss_from/shape') },
    h: b.op('Slice', [h, from, end, axis], undefined, 'loss_from/hidden'),
    labels: tailLabels,
  };
}

/** Vocabulary entries per chunk of the chunked loss (a 1024-token window: 32 MB of logits per chunk). */
export { LOSS_VOCAB_CHUNK };

/** Whether the graph computes token_nll in vocabulary chunks (see chunkedTokenNll). */
export function usesChunkedLoss(ctx: GraphContext): boolean {
  const { opts, ir } = ctx;
  return opts.tokenLoss && !opts.logits && !opts.gradients && opts.weights === 'inputs' && ir.spec.vocabSize > LOSS_VOCAB_CHUNK;
}

/**
 * token_nll [batch, seq] without the full logits: per chunk c of the vocabulary, logits_c =
 * Gemm(h, W_c) (each value bitwise the full head's), lse_c = ReduceLogSumExp(logits_c) and the label's
 * logit where the label falls in c (else 0); then nll = ReduceLogSumExp(lse_c over c) − Σ_c picked_c
 * (the log-sum-exp regrouped: equal within float32 rounding). Each chunk's two reductions read its
 * logits together, so the runtime frees them before the next chunk.
 */
export function chunkedTokenNll(ctx: GraphContext, h: string, tokenEmbedding: EmbeddingRef, labels: string, out: string): string {
  const { b, ir } = ctx;
  const V = ir.spec.vocabSize;
  const { flat, head, headTensor } = headInputs(ctx, h, tokenEmbedding, false);
  const label = b.op('Reshape', [labels, b.constInt64([-1, 1])], undefined, 'loss/labels');
  const zero = b.constFloat([0], []);
  const parts: string[] = [];
  for (let v0 = 0; v0 < V; v0 += LOSS_VOCAB_CHUNK) {
    const v1 = Math.min(V, v0 + LOSS_VOCAB_CHUNK);
    const n = `loss/chunk${v0}`;
    // Each chunk is its own input (a view of the head): an in-graph Slice per chunk would copy the
    // whole head once more in the runtime, as onnxruntime computes all the Slices of the input first.
    const w =
      weightRowsInput(ctx, headTensor, v0, v1) ??
      b.op('Slice', [head(), b.constInt64([v0]), b.constInt64([v1]), b.constInt64([0])], undefined, `${n}/weight`);
    const logits = b.op('Gemm', [flat, w], { transB: 1 }, `${n}/logits`);
    const lse = reduceLast(ctx, 'ReduceLogSumExp', logits, `${n}/logsumexp`);
    const local = b.op('Sub', [label, b.constInt64([v0], [])], undefined, `${n}/local`);
    const index = b.op(
      'Max',
      [b.op('Min', [local, b.constInt64([v1 - v0 - 1], [])], undefined, `${n}/min`), b.constInt64([0], [])],
      undefined,
      `${n}/index`,
    );
    const picked = b.op('GatherElements', [logits, index], { axis: 1 }, `${n}/picked`);
    const inside = b.op(
      'And',
      [
        b.op('GreaterOrEqual', [local, b.constInt64([0], [])], undefined, `${n}/ge`),
        b.op('Less', [local, b.constInt64([v1 - v0], [])], undefined, `${n}/lt`),
      ],
      undefined,
      `${n}/inside`,
    );
    const own = b.op('Where', [inside, picked, zero], undefined, `${n}/own`);
    parts.push(b.op('Concat', [lse, own], { axis: 1 }, `${n}/part`));
  }
  const k = parts.length;
  const all = b.op('Reshape', [boundedConcat(b, parts, 1, 'loss/parts'), b.constInt64([-1, k, 2])], undefined, 'loss/parts3');
  const lses = b.op('Gather', [all, b.constInt64([0], [])], { axis: 2 }, 'loss/lses');
  const picks = b.op('Gather', [all, b.constInt64([1], [])], { axis: 2 }, 'loss/picks');
  const lse = reduceLast(ctx, 'ReduceLogSumExp', lses, 'loss/logsumexp');
  const picked = b.op('ReduceSum', [picks, b.constInt64([-1])], { keepdims: 1 }, 'loss/picked');
  const nll = b.op('Sub', [lse, picked], undefined, 'loss/nll');
  const shape = streamShapeOf(ctx, 'loss/ids_shape');
  return b.node('Reshape', [nll, shape], { outputs: [out], name: 'loss' })[0]!;
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

/** loss.lse [batch, seq] = log Σ_v exp(logits) and loss.picked [batch, seq] = logits[labels] (GraphOptions.lossParts). */
export function tokenLossParts(ctx: GraphContext, logits: string, labels: string): [string, string] {
  const { b } = ctx;
  const lse = reduceLast(ctx, 'ReduceLogSumExp', logits, 'loss/logsumexp');
  const index = b.op('Unsqueeze', [labels, b.constInt64([-1])], undefined, 'loss/labels');
  const picked = b.op('GatherElements', [logits, index], { axis: -1 }, 'loss/picked');
  const last = b.constInt64([-1]);
  b.node('Squeeze', [lse, last], { outputs: ['loss.lse'], name: 'loss/lse' });
  b.node('Squeeze', [picked, last], { outputs: ['loss.picked'], name: 'loss/picked_out' });
  return ['loss.lse', 'loss.picked'];
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
