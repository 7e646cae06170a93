/**
 * Rotary position embedding (Llama family, Hugging Face "rotate_half" convention):
 * x' = x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1] over the head dimension.
 */
import type { ModelIR } from '../core/ir';
import type { OnnxGraphBuilder } from '../io/onnx';
import type { GraphContext } from './context';

/** cos/sin tables [seq, headDim] computed in float32 like Hugging Face: emb = [pos * inv_freq, pos * inv_freq]. */
export function rotaryTablesOf(b: OnnxGraphBuilder, ir: ModelIR, positions: string): { cos: string; sin: string } {
  const dh = ir.spec.headDim;
  const theta = ir.spec.ropeTheta ?? 10000;
  const invFreq = Float32Array.from({ length: dh / 2 }, (_, i) => 1 / theta ** ((2 * i) / dh));
  const pos = b.op('Cast', [positions], { to: 1 }, 'rope/pos');
  const col = b.op('Unsqueeze', [pos, b.constInt64([1])], undefined, 'rope/pos_col');
  const angles = b.op('Mul', [col, b.constFloat(invFreq, [1, dh / 2])], undefined, 'rope/angles');
  const emb = b.op('Concat', [angles, angles], { axis: -1 }, 'rope/emb');
  return { cos: b.op('Cos', [emb], undefined, 'rope/cos'), sin: b.op('Sin', [emb], undefined, 'rope/sin') };
}

/** Applies rotary embedding to x [batch, heads, seq, headDim]. */
export function applyRotary(ctx: GraphContext, x: string, name: string): string {
  const { b } = ctx;
  const tables = ctx.rotary;
  if (!tables) throw new Error('rotary tables were not built');
  const half = ctx.ir.spec.headDim / 2;
  const [x1, x2] = b.node('Split', [x, b.constInt64([half, half])], { attrs: { axis: -1 }, outputs: 2, name: `${name}/halves` });
  const rotated = b.op('Concat', [b.op('Neg', [x2!], undefined, `${name}/neg`), x1!], { axis: -1 }, `${name}/rotate_half`);
  const a = b.op('Mul', [x, tables.cos], undefined, `${name}/cos`);
  const c = b.op('Mul', [rotated, tables.sin], undefined, `${name}/sin`);
  return b.op('Add', [a, c], undefined, name);
}
