/**
 * The input side of a patch-input model (ViT): pixel_values float32 [batch, C, S, S] cut into
 * (S/p)² patches of C·p·p values (row-major over the patch grid, each patch in Conv2d weight order
 * c, y, x), one MatMul with the patch projection (the Conv2d of stride p, as a MatMul: cheap in
 * onnxruntime-web's WASM and differentiable by graph/grad), the CLS token prepended and the learned
 * positions (CLS first) added. The residual stream is then [batch, 1 + (S/p)², hidden].
 */
import { ShapeMismatchError } from '../core/errors';
import type { ModelIR, VisionSpec } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import type { OnnxGraphBuilder } from '../io/onnx';
import { reshape, weight, weightInput, type GraphContext } from './context';

export const PIXEL_VALUES = 'pixel_values';

export function visionOf(ir: ModelIR): VisionSpec {
  const v = ir.spec.vision;
  if (!v) throw new ShapeMismatchError(`${ir.name} declares patch input but its spec has no image geometry (vision).`);
  return v;
}

/** Patches per image side. */
export function gridSize(v: VisionSpec): number {
  return v.imageSize / v.patchSize;
}

/** Declares pixel_values and returns it with the stream shape [batch, 1 + patches] (int64 [2]). */
export function addPixelInput(b: OnnxGraphBuilder, ir: ModelIR): { pixels: string; streamShape: string; batch: string } {
  const v = visionOf(ir);
  const pixels = b.addInput(PIXEL_VALUES, 'float32', ['batch', v.numChannels, v.imageSize, v.imageSize]);
  const batch = b.op('Shape', [pixels], { end: 1 }, 'patches/batch');
  const streamShape = b.op('Concat', [batch, b.constInt64([gridSize(v) ** 2 + 1])], { axis: 0 }, 'patches/stream_shape');
  return { pixels, streamShape, batch };
}

/** Patch projection weight [d, C, p, p] -> its transpose [C·p·p, d] (stored once, no run-time Transpose). */
export function patchWeightT(w: Tensor): Tensor {
  const [d = 0, C = 0, p = 0] = w.shape;
  const k = C * p * p;
  const out = new Float32Array(k * d);
  for (let o = 0; o < d; o++) for (let i = 0; i < k; i++) out[i * d + o] = w.data[o * k + i]!;
  return tensor([k, d], out);
}

/** W^T [C·p·p, d] of the patch projection: an initializer, or the IR's [d, C, p, p] input reshaped and transposed. */
function projectionT(ctx: GraphContext, w: Tensor): string {
  const input = weightInput(ctx, w);
  if (!input) return weight(ctx, 'patch_embedding.weight_t', patchWeightT(w));
  const flat = reshape(ctx, input, [w.shape[0] ?? 0, -1], 'patches/weight_rows');
  return ctx.b.op('Transpose', [flat], { perm: [1, 0] }, 'patches/weight_t');
}

/** The residual stream entering block 0: [CLS; patches W^T + b] + positions, named `out` when given. */
export function embedPatches(ctx: GraphContext, batch: string, out?: string): string {
  const { b, ir } = ctx;
  const v = visionOf(ir);
  const pe = ir.weights.patchEmbedding;
  const cls = ir.weights.clsToken;
  const pos = ir.weights.positionEmbedding;
  if (!pe || !cls || !pos) throw new ShapeMismatchError(`${ir.name} lacks its patch embedding, CLS token or position embedding.`);
  const { numChannels: C, patchSize: p } = v;
  const g = gridSize(v);
  const d = ir.spec.hiddenSize;
  const grid = reshape(ctx, ctx.inputIds, [0, C, g, p, g, p], 'patches/grid');
  const ordered = b.op('Transpose', [grid], { perm: [0, 2, 4, 1, 3, 5] }, 'patches/order');
  const rows = reshape(ctx, ordered, [0, g * g, C * p * p], 'patches/rows');
  let x = b.op('MatMul', [rows, projectionT(ctx, pe.weight)], undefined, 'patches/proj');
  if (pe.bias) x = b.op('Add', [x, weight(ctx, 'patch_embedding.bias', pe.bias)], undefined, 'patches/proj_bias');
  const cls3 = reshape(ctx, weight(ctx, 'cls_token', cls), [1, 1, d], 'patches/cls');
  const clsShape = b.op('Concat', [batch, b.constInt64([1, d])], { axis: 0 }, 'patches/cls_shape');
  const clsRows = b.op('Expand', [cls3, clsShape], undefined, 'patches/cls_rows');
  const tokens = b.op('Concat', [clsRows, x], { axis: 1 }, 'patches/tokens');
  const posW = weight(ctx, 'position_embedding', pos);
  return out ? b.node('Add', [tokens, posW], { outputs: [out], name: 'embed' })[0]! : b.op('Add', [tokens, posW], undefined, 'embed');
}
