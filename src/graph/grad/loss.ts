/**
 * The scalar training loss of a gradient graph and the list of inputs it is differentiated with
 * respect to (graph contract in ../options.ts): loss = Σ w ⊙ token_nll / Σ w over all positions,
 * or with distillation Σ w ⊙ (lm · nll + kl · cross) / Σ w (cross = −Σ_v p_v log q_v against the
 * teacher's probabilities); and the feeds of the weight inputs.
 */
import type { ModelIR } from '../../core/ir';
import type { Feeds } from '../../core/runner';
import { reduceLast, type GraphContext } from '../context';
import type { GradientOptions, GraphOptions } from '../options';
import type { GradientRequest } from './autodiff';

export const LOSS = 'loss';
export const LOSS_WEIGHTS = 'loss_weights';
export const TEACHER_PROBS = 'teacher_probs';
export const LOSS_LM = 'loss.lm';
export const LOSS_CROSS = 'loss.cross';

/** Linear weights of a block that can be graph inputs: o / down with weightInputs true, all with 'all'. */
export const PROJECTION_KINDS = ['o', 'down'] as const;
export const LINEAR_KINDS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LinearKind = (typeof LINEAR_KINDS)[number];

/** The input of a headless range's loss gradient (GradientOptions.stream). */
export const GRAD_OUT = 'grad_out';

export const gradNames = {
  hiddenIn: 'grad.hidden_in',
  headMask: 'grad.head_mask',
  ffnMask: 'grad.ffn_mask',
  layerMask: 'grad.layer_mask',
  o: (l: number) => `grad.o.${l}`,
  down: (l: number) => `grad.down.${l}`,
  weight: (kind: LinearKind, l: number) => `grad.${kind}.${l}`,
};

export const weightInputNames = {
  o: (l: number) => `weight.o.${l}`,
  down: (l: number) => `weight.down.${l}`,
  weight: (kind: LinearKind, l: number) => `weight.${kind}.${l}`,
};

/** Adds `loss` = Σ stream ⊙ grad_out (a scalar whose gradients are the VJPs with grad_out; GradientOptions.stream). */
export function seededStreamLoss(ctx: GraphContext, stream: string): string {
  const { b } = ctx;
  const seed = b.addInput(GRAD_OUT, 'float32', ['batch', 'seq', ctx.ir.spec.hiddenSize]);
  return b.node('ReduceSum', [b.op('Mul', [stream, seed], undefined, 'loss/seeded')], {
    outputs: [LOSS],
    name: 'loss/seed_sum',
    attrs: { keepdims: 0 },
  })[0]!;
}

/** Adds `loss` = ReduceSum(w ⊙ nll) / ReduceSum(w) (a scalar). */
export function weightedMeanLoss(ctx: GraphContext, nll: string, weights: string): string {
  const { b } = ctx;
  const num = b.op('ReduceSum', [b.op('Mul', [nll, weights], undefined, 'loss/weighted')], { keepdims: 0 }, 'loss/sum');
  const den = b.op('ReduceSum', [weights], { keepdims: 0 }, 'loss/count');
  return b.node('Div', [num, den], { outputs: [LOSS], name: 'loss/mean' })[0]!;
}

/**
 * Distillation token loss [batch, seq] ([batch] for a classifier) = lm · nll + kl · cross, cross = logsumexp(z) − Σ_v p_v z_v
 * (Σ p = 1), with the weighted means of nll and cross as extra outputs.
 */
export function distillLoss(ctx: GraphContext, logits: string, nll: string, weights: string, mix: { lm: number; kl: number }): string {
  const { b } = ctx;
  // A classifier's logits are [batch, labels]: one teacher distribution per image.
  const dims = ctx.ir.spec.head === 'classifier' ? ['batch'] : ['batch', 'seq'];
  const teacher = b.addInput(TEACHER_PROBS, 'float32', [...dims, ctx.ir.spec.vocabSize]);
  const lse = reduceLast(ctx, 'ReduceLogSumExp', logits, 'distill/logsumexp');
  const dot = b.op(
    'ReduceSum',
    [b.op('Mul', [teacher, logits], undefined, 'distill/p_z'), b.constInt64([-1])],
    { keepdims: 1 },
    'distill/dot',
  );
  const cross = b.op('Squeeze', [b.op('Sub', [lse, dot], undefined, 'distill/cross_k'), b.constInt64([-1])], undefined, 'distill/cross');
  const mean = (x: string, out: string) => {
    const num = b.op('ReduceSum', [b.op('Mul', [x, weights], undefined, `${out}/weighted`)], { keepdims: 0 }, `${out}/sum`);
    const den = b.op('ReduceSum', [weights], { keepdims: 0 }, `${out}/count`);
    return b.node('Div', [num, den], { outputs: [out], name: `${out}/mean` })[0]!;
  };
  b.addOutput(mean(nll, LOSS_LM), 'float32', []);
  b.addOutput(mean(cross, LOSS_CROSS), 'float32', []);
  const token = b.op(
    'Add',
    [
      b.op('Mul', [nll, b.constFloat([mix.lm], [])], undefined, 'distill/lm'),
      b.op('Mul', [cross, b.constFloat([mix.kl], [])], undefined, 'distill/kl'),
    ],
    undefined,
    'distill/token',
  );
  return weightedMeanLoss(ctx, token, weights);
}

/** The weight kinds a graph takes as inputs for layer shape `shape` (none for an empty sublayer). */
export function inputKinds(ir: ModelIR, l: number, mode: GraphOptions['weightInputs']): LinearKind[] {
  const shape = ir.layers[l]!;
  if (!mode) return [];
  const attn: LinearKind[] = mode === 'all' ? ['q', 'k', 'v', 'o'] : ['o'];
  const mlp: LinearKind[] = mode === 'all' ? [...(ir.spec.gatedMlp ? (['gate'] as const) : []), 'up', 'down'] : ['down'];
  return [...(shape.numHeads > 0 ? attn : []), ...(shape.ffnSize > 0 ? mlp : [])];
}

/** Which inputs get a gradient output, and its name. */
export function gradientTargets(ir: ModelIR, g: GradientOptions, mode: GraphOptions['weightInputs'] = true): GradientRequest['wrt'] {
  const wrt: { value: string; output: string }[] = [];
  if (g.masks) {
    wrt.push({ value: 'head_mask', output: gradNames.headMask });
    wrt.push({ value: 'ffn_mask', output: gradNames.ffnMask });
    wrt.push({ value: 'layer_mask', output: gradNames.layerMask });
  }
  if (g.stream) wrt.push({ value: 'hidden_in', output: gradNames.hiddenIn });
  if (g.weights) {
    ir.layers.forEach((_, l) => {
      for (const kind of inputKinds(ir, l, mode)) wrt.push({ value: weightInputNames.weight(kind, l), output: gradNames.weight(kind, l) });
    });
  }
  return wrt;
}

/** The IR weight of a linear kind in layer l (gate exists only in gated MLPs). */
export function linearWeight(ir: ModelIR, kind: LinearKind, l: number) {
  const w = ir.weights.layers[l]!;
  const lin = kind === 'gate' ? w.gate : w[kind];
  if (!lin) throw new Error(`Layer ${l} has no ${kind} projection.`);
  return lin.weight;
}

/** Feeds for a weightInputs 'all' graph: every linear weight of every block ([out, in], as in the IR). */
export function allWeightFeeds(ir: ModelIR): Feeds {
  const feeds: Feeds = {};
  ir.layers.forEach((_, l) => {
    for (const kind of inputKinds(ir, l, 'all')) {
      const t = linearWeight(ir, kind, l);
      feeds[weightInputNames.weight(kind, l)] = { type: 'float32', dims: t.shape, data: t.data };
    }
  });
  return feeds;
}

/**
 * Feeds for a `weightInputs` graph: every layer's o / down projection weight ([out, in], as stored in
 * the IR); with `inputNames`, only those the graph declares (the others are not read: a spilled
 * model's would come back from storage).
 */
export function weightFeeds(ir: ModelIR, inputNames?: readonly string[]): Feeds {
  const feeds: Feeds = {};
  const wanted = (name: string) => !inputNames || inputNames.includes(name);
  ir.layers.forEach((shape, l) => {
    const w = ir.weights.layers[l]!;
    const [o, down] = [weightInputNames.o(l), weightInputNames.down(l)];
    if (shape.numHeads > 0 && wanted(o)) feeds[o] = { type: 'float32', dims: w.o.weight.shape, data: w.o.weight.data };
    if (shape.ffnSize > 0 && wanted(down)) feeds[down] = { type: 'float32', dims: w.down.weight.shape, data: w.down.weight.data };
  });
  return feeds;
}
