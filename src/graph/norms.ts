/**
 * Normalisation layers: LayerNorm as the opset-17 LayerNormalization op, RMSNorm from primitives
 * (x / sqrt(mean(x^2) + eps) * w, the pattern onnxruntime fuses into SimplifiedLayerNormalization).
 */
import type { Norm } from '../core/ir';
import { attr, reduceLast, scalarF, weight, type GraphContext } from './context';
import { unsupportedStructure } from './structure';

export function layerNorm(ctx: GraphContext, x: string, norm: Norm, name: string): string {
  const { b } = ctx;
  const inputs = [x, weight(ctx, `${name}.weight`, norm.weight)];
  if (norm.bias) inputs.push(weight(ctx, `${name}.bias`, norm.bias));
  return b.op('LayerNormalization', inputs, { axis: -1, epsilon: attr.float(ctx.ir.spec.normEps) }, name);
}

export function rmsNorm(ctx: GraphContext, x: string, norm: Norm, name: string): string {
  const { b } = ctx;
  const sq = b.op('Pow', [x, scalarF(ctx, 2)], undefined, `${name}/sq`);
  const mean = reduceLast(ctx, 'ReduceMean', sq, `${name}/mean`);
  const std = b.op('Sqrt', [b.op('Add', [mean, scalarF(ctx, ctx.ir.spec.normEps)], undefined, `${name}/eps`)], undefined, `${name}/std`);
  const normed = b.op('Div', [x, std], undefined, `${name}/div`);
  let y = b.op('Mul', [normed, weight(ctx, `${name}.weight`, norm.weight)], undefined, name);
  if (norm.bias) y = b.op('Add', [y, weight(ctx, `${name}.bias`, norm.bias)], undefined, `${name}/bias`);
  return y;
}

export function applyNorm(ctx: GraphContext, x: string, norm: Norm, name: string): string {
  switch (ctx.ir.spec.norm) {
    case 'layernorm':
      return layerNorm(ctx, x, norm, name);
    case 'rmsnorm':
      return rmsNorm(ctx, x, norm, name);
    default:
      throw unsupportedStructure(ctx.ir.spec, 'norm');
  }
}
