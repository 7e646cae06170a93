/**
 * VJPs of broadcasting binary ops (Add, Sub, Mul, Div, Pow with a constant exponent) and Where.
 * Every input gradient is summed back over the axes broadcasting expanded (GradEmitter.unbroadcast).
 */
import { gradOut, type GradRule, type VjpArgs } from './types';

function outShape(a: VjpArgs) {
  return a.e.shape(a.node.output[0]!);
}

function binary(local: (a: VjpArgs, g: string, x: string, y: string, which: 0 | 1) => string): GradRule {
  return {
    diff: [0, 1],
    vjp(a) {
      const g = gradOut(a);
      const [x, y] = a.node.input as [string, string];
      return [0, 1].map((i) => (a.needs[i] ? a.e.unbroadcast(local(a, g, x, y, i as 0 | 1), outShape(a), a.node.input[i]!) : undefined));
    },
  };
}

export const Add = binary((_a, g) => g);

export const Sub = binary((a, g, _x, _y, i) => (i === 0 ? g : a.e.op('Neg', [g], undefined, 'sub_neg')));

export const Mul = binary((a, g, x, y, i) => a.e.op('Mul', [g, i === 0 ? y : x], undefined, 'mul_grad'));

/** d(x/y)/dx = 1/y; d(x/y)/dy = -(x/y)/y. */
export const Div = binary((a, g, _x, y, i) => {
  const gx = a.e.op('Div', [g, y], undefined, 'div_grad');
  return i === 0 ? gx : a.e.op('Neg', [a.e.op('Mul', [gx, a.node.output[0]!], undefined, 'div_grad_y')], undefined, 'div_grad_neg');
});

/** x^c with a constant scalar exponent c: c * x^(c-1). */
export const Pow: GradRule = {
  diff: [0, 1],
  vjp(a) {
    if (a.needs[1]) throw new Error(`gradient builder: Pow "${a.node.name ?? ''}" with a varying exponent is not supported`);
    const [x, p] = a.node.input as [string, string];
    const c = a.e.shapes.facts(p).floats;
    if (!c || c.length !== 1) throw new Error(`gradient builder: Pow "${a.node.name ?? ''}" needs a constant scalar exponent`);
    const k = c[0]!;
    const g = gradOut(a);
    const pow = k === 2 ? x : k === 1 ? undefined : a.e.op('Pow', [x, a.e.scalar(k - 1)], undefined, 'pow_grad');
    const local = pow ? a.e.op('Mul', [pow, a.e.scalar(k)], undefined, 'pow_grad_scale') : a.e.scalar(k);
    return [a.e.unbroadcast(a.e.op('Mul', [g, local], undefined, 'pow_grad_g'), outShape(a), x), undefined];
  },
};

/** Where(c, a, b): the gradient goes to a where c holds, to b elsewhere. */
export const Where: GradRule = {
  diff: [1, 2],
  vjp(a) {
    const g = gradOut(a);
    const [c] = a.node.input as [string];
    const zero = a.e.scalar(0);
    return [
      undefined,
      a.needs[1] ? a.e.unbroadcast(a.e.op('Where', [c, g, zero], undefined, 'where_grad'), outShape(a), a.node.input[1]!) : undefined,
      a.needs[2] ? a.e.unbroadcast(a.e.op('Where', [c, zero, g], undefined, 'where_grad'), outShape(a), a.node.input[2]!) : undefined,
    ];
  },
};

/** Expand(x, shape): the gradient is summed back to x's shape. */
export const Expand: GradRule = {
  diff: [0],
  vjp(a) {
    return [a.needs[0] ? a.e.unbroadcast(gradOut(a), outShape(a), a.node.input[0]!) : undefined, undefined];
  },
};
