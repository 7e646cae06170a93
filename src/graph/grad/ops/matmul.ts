/**
 * VJPs of MatMul (numpy semantics, rank >= 2) and Gemm.
 * MatMul C = A B: dA = dC Bᵀ, dB = Aᵀ dC, each summed over broadcast batch axes. When B is a
 * matrix shared by every batch row (a weight), dB is one Gemm over the flattened rows:
 * dB = A₂ᵀ dC₂ with A₂ = A reshaped to [rows, k], dC₂ = dC reshaped to [rows, n].
 */
import { attr, type AttrValue } from '../../../io/onnx';
import { fixed } from '../dims';
import type { GradEmitter } from '../emitter';
import { intAttr } from '../facts';
import { gradOut, type GradRule } from './types';

/** Reshapes x to [-1, last dim of x] (the last dim read statically when known, else at run time). */
function flatten2d(e: GradEmitter, x: string): string {
  const s = e.shape(x);
  const last = s ? fixed(s[s.length - 1] ?? null) : null;
  const target =
    last !== null
      ? e.ints([-1, last])
      : e.op(
          'Concat',
          [e.ints([-1]), e.op('Slice', [e.shapeOf(x), e.ints([-1]), e.ints([2 ** 31 - 1])], undefined, 'last_dim')],
          { axis: 0 },
          'flat_shape',
        );
  return e.op('Reshape', [x, target], undefined, 'flatten2d');
}

export const MatMul: GradRule = {
  diff: [0, 1],
  vjp(a) {
    const { e } = a;
    const g = gradOut(a);
    const [x, w] = a.node.input as [string, string];
    const rx = e.rank(x);
    const rw = e.rank(w);
    const gShape = e.shape(a.node.output[0]!);
    if (rx < 2 || rw < 2) throw new Error(`gradient builder: MatMul "${a.node.name ?? ''}" with a rank-1 operand is not supported`);
    const rg = gShape?.length ?? Math.max(rx, rw);
    let gx: string | undefined;
    let gw: string | undefined;
    if (a.needs[0]) {
      const prod = e.op('MatMul', [g, e.transposeLast2(w, rw)], undefined, 'matmul_grad_a');
      gx = e.unbroadcast(prod, gShape && [...gShape.slice(0, -2), ...e.shape(x)!.slice(-2)], x);
    }
    if (a.needs[1]) {
      if (rw === 2 && rx >= 2) {
        gw = e.op('Gemm', [flatten2d(e, x), flatten2d(e, g)], { transA: 1 }, 'matmul_grad_w');
      } else {
        const prod = e.op('MatMul', [e.transposeLast2(x, rx), g], undefined, 'matmul_grad_b');
        gw = e.unbroadcast(prod, gShape && [...gShape.slice(0, rg - 2), ...e.shape(w)!.slice(-2)], w);
      }
    }
    return [gx, gw];
  },
};

/** Gemm Y = alpha·A'B' + beta·C with A' = transA ? Aᵀ : A (and likewise B'). */
export const Gemm: GradRule = {
  diff: [0, 1, 2],
  vjp(a) {
    const { e, node } = a;
    const g = gradOut(a);
    const [A, B, C] = node.input as [string, string, string | undefined];
    const tA = intAttr(node, 'transA', 0);
    const tB = intAttr(node, 'transB', 0);
    const alphaAttr = node.attribute?.find((x) => x.name === 'alpha')?.f;
    const betaAttr = node.attribute?.find((x) => x.name === 'beta')?.f;
    const alpha: Record<string, AttrValue> = alphaAttr === undefined ? {} : { alpha: attr.float(alphaAttr) };
    const gA = !a.needs[0]
      ? undefined
      : tA
        ? e.op('Gemm', [B, g], { transA: tB, transB: 1, ...alpha }, 'gemm_grad_a')
        : e.op('Gemm', [g, B], { transB: tB ? 0 : 1, ...alpha }, 'gemm_grad_a');
    const gB = !a.needs[1]
      ? undefined
      : tB
        ? e.op('Gemm', [g, A], { transA: 1, transB: tA, ...alpha }, 'gemm_grad_b')
        : e.op('Gemm', [A, g], { transA: tA ? 0 : 1, ...alpha }, 'gemm_grad_b');
    let gC: string | undefined;
    if (a.needs[2] && C) {
      const scaled = betaAttr === undefined || betaAttr === 1 ? g : e.op('Mul', [g, e.scalar(betaAttr)], undefined, 'gemm_grad_c');
      gC = e.unbroadcast(scaled, e.shape(node.output[0]!), C);
    }
    return [gA, gB, gC];
  },
};
