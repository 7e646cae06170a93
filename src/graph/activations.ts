/**
 * Activation functions from standard ONNX primitives (opset 17 has no Gelu op):
 * gelu_new (tanh approximation, GPT-2), exact gelu (Erf), relu, silu. The op order follows the
 * patterns onnxruntime's FastGeluFusion / GeluFusion recognise, so its CPU and WASM backends run
 * one fused kernel instead of ~8 element-wise passes.
 */
import type { Activation } from '../core/ir';
import { scalarF, type GraphContext } from './context';

export function activation(ctx: GraphContext, kind: Activation, x: string, name: string): string {
  const { b } = ctx;
  const f = (v: number) => scalarF(ctx, v);
  switch (kind) {
    case 'relu':
      return b.op('Relu', [x], undefined, name);
    case 'silu':
      return b.op('Mul', [x, b.op('Sigmoid', [x], undefined, `${name}/sigmoid`)], undefined, name);
    case 'gelu': {
      // 0.5 * x * (1 + erf(x / sqrt(2)))
      const erf = b.op('Erf', [b.op('Div', [x, f(Math.SQRT2)], undefined, `${name}/scaled`)], undefined, `${name}/erf`);
      const half = b.op('Mul', [x, f(0.5)], undefined, `${name}/half`);
      return b.op('Mul', [half, b.op('Add', [erf, f(1)], undefined, `${name}/one_plus`)], undefined, name);
    }
    case 'gelu_new': {
      // 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
      const cube = b.op('Pow', [x, f(3)], undefined, `${name}/cube`);
      const inner = b.op('Add', [x, b.op('Mul', [cube, f(0.044715)], undefined, `${name}/cube_scaled`)], undefined, `${name}/inner`);
      const t = b.op('Tanh', [b.op('Mul', [inner, f(Math.sqrt(2 / Math.PI))], undefined, `${name}/arg`)], undefined, `${name}/tanh`);
      const half = b.op('Mul', [x, f(0.5)], undefined, `${name}/half`);
      return b.op('Mul', [half, b.op('Add', [t, f(1)], undefined, `${name}/one_plus`)], undefined, name);
    }
  }
}
