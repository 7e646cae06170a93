/**
 * VJPs of element-wise unary ops, each written with the forward output y where that is cheaper:
 * tanh' = 1 - y², sigmoid' = y(1 - y), sqrt' = 1/(2y), (1/x)' = -y², exp' = y, erf' = 2/√π e^{-x²}.
 */
import type { GradEmitter } from '../emitter';
import { gradOut, type GradRule } from './types';

type Local = (e: GradEmitter, g: string, x: string, y: string) => string;

function unary(local: Local): GradRule {
  return {
    diff: [0],
    vjp(a) {
      return [a.needs[0] ? local(a.e, gradOut(a), a.node.input[0]!, a.node.output[0]!) : undefined];
    },
  };
}

const mul = (e: GradEmitter, x: string, y: string, hint: string) => e.op('Mul', [x, y], undefined, hint);

export const Identity = unary((_e, g) => g);
export const Neg = unary((e, g) => e.op('Neg', [g], undefined, 'neg_grad'));

export const Tanh = unary((e, g, _x, y) => {
  const oneMinus = e.op('Sub', [e.scalar(1), mul(e, y, y, 'tanh_sq')], undefined, 'tanh_d');
  return mul(e, g, oneMinus, 'tanh_grad');
});

export const Sigmoid = unary((e, g, _x, y) => {
  const d = mul(e, y, e.op('Sub', [e.scalar(1), y], undefined, 'sigmoid_1m'), 'sigmoid_d');
  return mul(e, g, d, 'sigmoid_grad');
});

export const Erf = unary((e, g, x) => {
  const negSq = e.op('Neg', [mul(e, x, x, 'erf_sq')], undefined, 'erf_negsq');
  const d = mul(e, e.op('Exp', [negSq], undefined, 'erf_exp'), e.scalar(2 / Math.sqrt(Math.PI)), 'erf_d');
  return mul(e, g, d, 'erf_grad');
});

export const Relu = unary((e, g, x) =>
  e.op('Where', [e.op('Greater', [x, e.scalar(0)], undefined, 'relu_pos'), g, e.scalar(0)], undefined, 'relu_grad'),
);

export const Sqrt = unary((e, g, _x, y) => e.op('Div', [mul(e, g, e.scalar(0.5), 'sqrt_half'), y], undefined, 'sqrt_grad'));

export const Reciprocal = unary((e, g, _x, y) => e.op('Neg', [mul(e, g, mul(e, y, y, 'recip_sq'), 'recip_g')], undefined, 'recip_grad'));

export const Exp = unary((e, g, _x, y) => mul(e, g, y, 'exp_grad'));

export const Log = unary((e, g, x) => e.op('Div', [g, x], undefined, 'log_grad'));

export const Abs = unary((e, g, x) => mul(e, g, e.op('Sign', [x], undefined, 'abs_sign'), 'abs_grad'));

export const Sin = unary((e, g, x) => mul(e, g, e.op('Cos', [x], undefined, 'sin_d'), 'sin_grad'));

export const Cos = unary((e, g, x) => e.op('Neg', [mul(e, g, e.op('Sin', [x], undefined, 'cos_d'), 'cos_g')], undefined, 'cos_grad'));

/** Cast between float types passes the gradient; casts to or from integers carry none. */
export const Cast: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined];
    const to = a.node.attribute?.find((x) => x.name === 'to')?.i;
    if (to !== 1) throw new Error(`gradient builder: Cast "${a.node.name ?? ''}" to type ${to} on a differentiable path`);
    return [gradOut(a)];
  },
};
