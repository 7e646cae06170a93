/**
 * The scalar training loss of a gradient graph and the list of inputs it is differentiated with
 * respect to (graph contract in ../options.ts): loss = Σ w ⊙ token_nll / Σ w over all positions;
 * and the feeds of the o / down weight inputs.
 */
import type { ModelIR } from '../../core/ir';
import type { Feeds } from '../../core/runner';
import type { GraphContext } from '../context';
import type { GradientOptions } from '../options';
import type { GradientRequest } from './autodiff';

export const LOSS = 'loss';
export const LOSS_WEIGHTS = 'loss_weights';

export const gradNames = {
  headMask: 'grad.head_mask',
  ffnMask: 'grad.ffn_mask',
  layerMask: 'grad.layer_mask',
  o: (l: number) => `grad.o.${l}`,
  down: (l: number) => `grad.down.${l}`,
};

export const weightInputNames = {
  o: (l: number) => `weight.o.${l}`,
  down: (l: number) => `weight.down.${l}`,
};

/** Adds `loss` = ReduceSum(w ⊙ nll) / ReduceSum(w) (a scalar). */
export function weightedMeanLoss(ctx: GraphContext, nll: string, weights: string): string {
  const { b } = ctx;
  const num = b.op('ReduceSum', [b.op('Mul', [nll, weights], undefined, 'loss/weighted')], { keepdims: 0 }, 'loss/sum');
  const den = b.op('ReduceSum', [weights], { keepdims: 0 }, 'loss/count');
  return b.node('Div', [num, den], { outputs: [LOSS], name: 'loss/mean' })[0]!;
}

/** Which inputs get a gradient output, and its name. */
export function gradientTargets(ir: ModelIR, g: GradientOptions): GradientRequest['wrt'] {
  const wrt: { value: string; output: string }[] = [];
  if (g.masks) {
    wrt.push({ value: 'head_mask', output: gradNames.headMask });
    wrt.push({ value: 'ffn_mask', output: gradNames.ffnMask });
    wrt.push({ value: 'layer_mask', output: gradNames.layerMask });
  }
  if (g.weights) {
    ir.layers.forEach((shape, l) => {
      if (shape.numHeads > 0) wrt.push({ value: weightInputNames.o(l), output: gradNames.o(l) });
      if (shape.ffnSize > 0) wrt.push({ value: weightInputNames.down(l), output: gradNames.down(l) });
    });
  }
  return wrt;
}

/** Feeds for a `weightInputs` graph: every layer's o / down projection weight ([out, in], as stored in the IR). */
export function weightFeeds(ir: ModelIR): Feeds {
  const feeds: Feeds = {};
  ir.layers.forEach((shape, l) => {
    const w = ir.weights.layers[l]!;
    if (shape.numHeads > 0) feeds[weightInputNames.o(l)] = { type: 'float32', dims: w.o.weight.shape, data: w.o.weight.data };
    if (shape.ffnSize > 0) feeds[weightInputNames.down(l)] = { type: 'float32', dims: w.down.weight.shape, data: w.down.weight.data };
  });
  return feeds;
}
