/**
 * Multi-head self-attention branch of one pre-norm block (the block applies `spec.normPlacement`),
 * masked by the context's attention mask (`spec.attention`). q/k/v are one fused MatMul with
 * W^T stored [hidden, (H + 2K) * headDim] and 1/sqrt(headDim) folded into the q columns. Grouped-query
 * attention (K < H) broadcasts each kv head over its H/K query heads without copying.
 * head_mask multiplies each head's context before the output projection (the attn_in tap).
 * A layer with 0 heads has no attention; only its o-projection bias (if any) remains, as a constant.
 */
import { fusedWeightT, matmulBias, projectionWeightT, reshape, weight, type GraphContext } from './context';
import { applyNorm } from './norms';
import { applyRotary } from './rotary';
import { applyLayerMask, emptyTap, tap, tapNames, type TapRecord } from './taps';
import { fusedBias } from './weights';
import { linearFromInputs } from './weight-inputs';

/** Returns the branch output to add to the residual stream (or undefined when there is nothing to add). */
export function attentionBranch(ctx: GraphContext, taps: TapRecord[], x: string, l: number): string | undefined {
  const { b, ir } = ctx;
  const { numHeads: H, numKvHeads: K } = ir.layers[l]!;
  const w = ir.weights.layers[l]!;
  const name = `layer${l}/attn`;
  if (H === 0) {
    emptyTap(ctx, taps, x, tapNames.attnIn(l));
    return w.o.bias ? weight(ctx, `${name}/o.bias`, w.o.bias) : undefined;
  }
  const dh = ir.spec.headDim;
  const scales = [1 / Math.sqrt(dh), 1, 1];
  const xn = applyNorm(ctx, x, w.attnNorm, `${name}/norm`);
  const [q, k, v] = ctx.weightIndex ? qkvFromInputs(ctx, xn, l, scales[0]!) : fusedQkv(ctx, xn, l, scales);
  // [batch, seq, n*dh] -> [batch, n, seq, dh]
  const heads = (t: string, n: number, what: string) =>
    b.op('Transpose', [reshape(ctx, t, [0, 0, n, dh], `${name}/${what}_heads`)], { perm: [0, 2, 1, 3] }, `${name}/${what}_t`);
  let qh = heads(q!, H, 'q');
  let kh = heads(k!, K, 'k');
  let vh = heads(v!, K, 'v');
  if (ir.spec.positions === 'rotary') {
    qh = applyRotary(ctx, qh, `${name}/q_rope`);
    kh = applyRotary(ctx, kh, `${name}/k_rope`);
  }
  if (ctx.kvCache) [kh, vh] = ctx.kvCache.extend(l, kh, vh);
  let kT = b.op('Transpose', [kh], { perm: [0, 1, 3, 2] }, `${name}/k_transposed`);
  const group = H / K;
  if (group > 1) {
    // q [b, K, G, s, dh] against k/v [b, K, 1, s, dh]: MatMul broadcasts over the group axis.
    qh = reshape(ctx, qh, [0, K, group, -1, dh], `${name}/q_groups`);
    kT = b.op('Unsqueeze', [kT, b.constInt64([2])], undefined, `${name}/k_group`);
    vh = b.op('Unsqueeze', [vh, b.constInt64([2])], undefined, `${name}/v_group`);
  }
  const mask = ctx.kvCache && group > 1 ? ctx.kvCache.groupedMask : ctx.attentionMask;
  const raw = b.op('MatMul', [qh, kT], undefined, `${name}/scores`);
  const scores = mask ? b.op('Add', [raw, mask], undefined, `${name}/scores_masked`) : raw;
  const probs = b.op('Softmax', [scores], { axis: -1 }, `${name}/probs`);
  if (ctx.opts.attentionProbs && !ctx.kvCache) {
    // [b, K, G, s, s] -> [b, H, s, s] (query head h = kv group h / G, member h % G).
    const perHead = group > 1 ? reshape(ctx, probs, [0, H, -1, 0], `${name}/probs_heads`) : probs;
    const [out] = b.node('Identity', [perHead], { outputs: [`attn_probs.${l}`], name: `${name}/probs_out` });
    b.addOutput(out!, 'float32', ['batch', H, 'seq', 'seq']);
  }
  let context = b.op('MatMul', [probs, vh], undefined, `${name}/context`);
  if (group > 1) context = reshape(ctx, context, [0, H, -1, dh], `${name}/context_heads`);
  context = applyLayerMask(ctx, context, 'head', l, `${name}/head`);
  const merged = reshape(ctx, b.op('Transpose', [context], { perm: [0, 2, 1, 3] }, `${name}/context_t`), [0, 0, H * dh], `${name}/o_in`);
  tap(ctx, taps, merged, tapNames.attnIn(l), H * dh);
  if (ctx.weightIndex) return linearFromInputs(ctx, merged, w.o, `${name}/o`);
  const oBias = w.o.bias && weight(ctx, `${name}/o.bias`, w.o.bias);
  const oT = projectionWeightT(ctx, 'o', l, w.o.weight, `${name}/o.weight_t`);
  return matmulBias(ctx, merged, oT, oBias, `${name}/o`);
}

/** q, k, v from one MatMul with the fused, transposed, q-scaled weights (embedded initializers). */
function fusedQkv(ctx: GraphContext, xn: string, l: number, scales: readonly number[]): string[] {
  const { b, ir } = ctx;
  const { numHeads: H, numKvHeads: K } = ir.layers[l]!;
  const dh = ir.spec.headDim;
  const w = ir.weights.layers[l]!;
  const name = `layer${l}/attn`;
  const qkvBias = fusedBias([w.q, w.k, w.v], scales);
  const qkv = matmulBias(
    ctx,
    xn,
    fusedWeightT(
      ctx,
      [
        { kind: 'q', w: w.q.weight, scale: scales[0] },
        { kind: 'k', w: w.k.weight },
        { kind: 'v', w: w.v.weight },
      ],
      l,
      `${name}/qkv.weight_t`,
    ),
    qkvBias && weight(ctx, `${name}/qkv.bias`, qkvBias),
    `${name}/qkv`,
  );
  return b.node('Split', [qkv, b.constInt64([H * dh, K * dh, K * dh])], {
    attrs: { axis: -1 },
    outputs: 3,
    name: `${name}/split`,
  });
}

/** q (scaled by `qScale`), k, v as three Gemms reading the IR's weights as graph inputs. */
function qkvFromInputs(ctx: GraphContext, xn: string, l: number, qScale: number): string[] {
  const w = ctx.ir.weights.layers[l]!;
  const name = `layer${l}/attn`;
  return [
    linearFromInputs(ctx, xn, w.q, `${name}/q_proj`, qScale),
    linearFromInputs(ctx, xn, w.k, `${name}/k_proj`),
    linearFromInputs(ctx, xn, w.v, `${name}/v_proj`),
  ];
}
