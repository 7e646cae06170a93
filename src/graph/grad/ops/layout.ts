/**
 * VJPs of layout ops: Reshape / Flatten / Squeeze / Unsqueeze (reshape the gradient back),
 * Transpose (inverse permutation), Split (concatenate the parts' gradients, zeros for unused
 * parts), Concat (split the gradient at the inputs' sizes) and Slice (zero-pad back, unit steps).
 */
import { fixed } from '../dims';
import { fixedValues, intAttr, intsAttr } from '../facts';
import { gradOut, type GradRule } from './types';

const reshapeBack: GradRule = {
  diff: [0],
  vjp(a) {
    return [a.needs[0] ? a.e.reshapeLike(gradOut(a), a.node.input[0]!) : undefined];
  },
};

export const Reshape = reshapeBack;
export const Flatten = reshapeBack;
export const Squeeze = reshapeBack;
export const Unsqueeze = reshapeBack;

export const Transpose: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined];
    const rank = a.e.rank(a.node.input[0]!);
    const perm = intsAttr(a.node, 'perm') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
    const inverse = new Array<number>(rank);
    perm.forEach((p, i) => (inverse[p] = i));
    return [a.e.op('Transpose', [gradOut(a)], { perm: inverse }, 'transpose_grad')];
  },
};

export const Split: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined];
    const axis = intAttr(a.node, 'axis', 0);
    const parts = a.node.output.map((o, i) => a.gy[i] ?? a.e.zerosLike(o));
    const gx = a.e.op('Concat', parts, { axis }, 'split_grad');
    return a.node.input.map((_, i) => (i === 0 ? gx : undefined));
  },
};

export const Concat: GradRule = {
  diff: 'all',
  vjp(a) {
    const { e, node } = a;
    const g = gradOut(a);
    const rank = e.rank(node.output[0]!);
    const axisRaw = intAttr(node, 'axis', 0);
    const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    const sizes = node.input.map((x) => fixed(e.shape(x)?.[axis] ?? null));
    const sizeInput = sizes.every((s) => s !== null)
      ? e.ints(sizes as number[])
      : e.op(
          'Concat',
          node.input.map((x) => e.op('Slice', [e.shapeOf(x), e.ints([axis]), e.ints([axis + 1])], undefined, 'concat_size')),
          { axis: 0 },
          'concat_sizes',
        );
    const parts = e.b.node('Split', [g, sizeInput], { attrs: { axis }, outputs: node.input.length, name: 'grad/concat_grad' });
    return node.input.map((_, i) => (a.needs[i] ? parts[i] : undefined));
  },
};

/** Slice with constant non-negative starts and unit steps: the gradient is zero-padded back. */
export const Slice: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined];
    const { e, node } = a;
    const x = node.input[0]!;
    const rank = e.rank(x);
    const facts = (i: number) => (node.input[i] ? e.shapes.facts(node.input[i]!) : undefined);
    const starts = fixedValues(facts(1));
    const axes = node.input[3] ? fixedValues(facts(3)) : starts?.map((_, i) => i);
    const steps = node.input[4] ? fixedValues(facts(4)) : starts?.map(() => 1);
    if (!starts || !axes || !steps || steps.some((s) => s !== 1) || starts.some((s) => s < 0)) {
      throw new Error(`gradient builder: Slice "${node.name ?? ''}" needs constant non-negative starts and unit steps`);
    }
    const begin = new Array<number>(rank).fill(0);
    axes.forEach((ax, i) => (begin[ax < 0 ? ax + rank : ax] = starts[i]!));
    const beginT = e.ints(begin);
    // end padding = shape(x) - shape(y) - begin (run time)
    const endPad = e.op(
      'Sub',
      [e.op('Sub', [e.shapeOf(x), e.shapeOf(node.output[0]!)], undefined, 'slice_diff'), beginT],
      undefined,
      'slice_end',
    );
    const pads = e.op('Concat', [beginT, endPad], { axis: 0 }, 'slice_pads');
    return [e.op('Pad', [gradOut(a), pads], undefined, 'slice_grad')];
  },
};
