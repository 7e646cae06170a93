/**
 * VJPs of reductions and softmax. ReduceSum spreads the gradient over the reduced axes,
 * ReduceMean also divides by their size, ReduceLogSumExp multiplies by softmax(x) = exp(x - y).
 * Softmax: dx = y ⊙ (g − Σ_axis g ⊙ y); LogSoftmax: dx = g − exp(y) Σ_axis g.
 */
import { fixed, product } from '../dims';
import type { GradEmitter } from '../emitter';
import { fixedValues, intAttr, intsAttr } from '../facts';
import { gradOut, type GradRule, type VjpArgs } from './types';

/** Normalised reduced axes of a Reduce* node (all axes when none are given). */
function reducedAxes(a: VjpArgs, rank: number): number[] {
  const { node, e } = a;
  const given = intsAttr(node, 'axes') ?? (node.input[1] ? fixedValues(e.shapes.facts(node.input[1])) : []);
  if (given === null) throw new Error(`gradient builder: ${node.op_type} "${node.name ?? ''}" has run-time axes`);
  if (!given.length) {
    if (intAttr(node, 'noop_with_empty_axes', 0) === 1) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return given.map((x) => (x < 0 ? x + rank : x)).sort((p, q) => p - q);
}

/** The output gradient (or output) with the reduced axes restored as size 1. */
function keepDims(a: VjpArgs, value: string, axes: readonly number[], rank: number): string {
  if (intAttr(a.node, 'keepdims', 1) === 1 || axes.length === rank) return value;
  return a.e.op('Unsqueeze', [value, a.e.ints(axes)], undefined, 'reduce_keepdims');
}

function reduceRule(kind: 'sum' | 'mean' | 'lse'): GradRule {
  return {
    diff: [0],
    vjp(a) {
      if (!a.needs[0]) return a.node.input.map(() => undefined);
      const { e } = a;
      const x = a.node.input[0]!;
      const rank = e.rank(x);
      const axes = reducedAxes(a, rank);
      const g = keepDims(a, gradOut(a), axes, rank);
      let gx: string;
      if (kind === 'lse') {
        const y = keepDims(a, a.node.output[0]!, axes, rank);
        const soft = e.op('Exp', [e.op('Sub', [x, y], undefined, 'lse_centered')], undefined, 'lse_softmax');
        gx = e.op('Mul', [g, soft], undefined, 'lse_grad');
      } else {
        const scaled = kind === 'mean' ? e.op('Div', [g, count(e, x, axes)], undefined, 'mean_scale') : g;
        gx = e.op('Expand', [scaled, e.shapeOf(x)], undefined, `${kind}_grad`);
      }
      return a.node.input.map((_, i) => (i === 0 ? gx : undefined));
    },
  };
}

/** Number of reduced elements as a float scalar (static when the reduced dims are fixed). */
function count(e: GradEmitter, x: string, axes: readonly number[]): string {
  const s = e.shape(x);
  const n = s ? fixed(product(axes.map((i) => s[i] ?? null))) : null;
  if (n !== null) return e.scalar(n);
  const sizes = e.op('Gather', [e.shapeOf(x), e.ints(axes)], { axis: 0 }, 'mean_dims');
  const prod = e.op('ReduceProd', [sizes], { keepdims: 0 }, 'mean_count');
  return e.op('Cast', [prod], { to: 1 }, 'mean_count_f');
}

export const ReduceSum = reduceRule('sum');
export const ReduceMean = reduceRule('mean');
export const ReduceLogSumExp = reduceRule('lse');

function softmaxAxis(a: VjpArgs): number {
  return intAttr(a.node, 'axis', a.e.opset >= 13 ? -1 : 1);
}

export const Softmax: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined];
    const { e } = a;
    const y = a.node.output[0]!;
    const g = gradOut(a);
    const rank = e.rank(y);
    const axis = softmaxAxis(a);
    const dot = e.reduceSum(e.op('Mul', [g, y], undefined, 'softmax_gy'), [axis < 0 ? axis + rank : axis], true);
    return [e.op('Mul', [y, e.op('Sub', [g, dot], undefined, 'softmax_centered')], undefined, 'softmax_grad')];
  },
};

export const LogSoftmax: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined];
    const { e } = a;
    const y = a.node.output[0]!;
    const g = gradOut(a);
    const rank = e.rank(y);
    const axis = softmaxAxis(a);
    const total = e.reduceSum(g, [axis < 0 ? axis + rank : axis], true);
    const soft = e.op('Exp', [y], undefined, 'logsoftmax_p');
    return [e.op('Sub', [g, e.op('Mul', [soft, total], undefined, 'logsoftmax_pg')], undefined, 'logsoftmax_grad')];
  },
};
