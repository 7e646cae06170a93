/**
 * Rotary position embedding (Llama family, Hugging Face "rotate_half" convention):
 * x' = x * cos + rotate_half(x) * sin, rotate_half([x1, x2]) = [-x2, x1] over the head dimension.
 *
 * The cos/sin tables are computed here on the CPU and stored as constants, gathered by position:
 * WebGPU's sin/cos may be off by up to 2^-11 even on [-π, π] (the WGSL accuracy bound; SwiftShader
 * is ~2e-4 off, which moved a tiny Llama's logits by 4.5e-3). Models whose table would exceed
 * MAX_TABLE_FLOATS (very long contexts) compute them in the graph instead, with the angles reduced
 * to [-π, π) first.
 */
import type { ModelIR } from '../core/ir';
import { tensor } from '../core/tensor';
import type { OnnxGraphBuilder } from '../io/onnx';
import type { GraphContext } from './context';

/** maxPositions x headDim floats (cos and sin halves together): 16 MiB. */
export const MAX_TABLE_FLOATS = 1 << 22;

function inverseFrequencies(ir: ModelIR): Float32Array {
  const dh = ir.spec.headDim;
  const theta = ir.spec.ropeTheta ?? 10000;
  return Float32Array.from({ length: dh / 2 }, (_, i) => 1 / theta ** ((2 * i) / dh));
}

/** cos/sin tables [seq, headDim] like Hugging Face: emb = [pos * inv_freq, pos * inv_freq] in float32. */
export function rotaryTablesOf(b: OnnxGraphBuilder, ir: ModelIR, positions: string): { cos: string; sin: string } {
  const invFreq = inverseFrequencies(ir);
  if (ir.spec.maxPositions * ir.spec.headDim <= MAX_TABLE_FLOATS) return gatheredTables(b, ir.spec.maxPositions, invFreq, positions);
  const pos = b.op('Cast', [positions], { to: 1 }, 'rope/pos');
  const col = b.op('Unsqueeze', [pos, b.constInt64([1])], undefined, 'rope/pos_col');
  const angles = b.op('Mul', [col, b.constFloat(invFreq, [1, invFreq.length])], undefined, 'rope/angles');
  const emb = reduceToPeriod(b, b.op('Concat', [angles, angles], { axis: -1 }, 'rope/emb_raw'));
  return { cos: b.op('Cos', [emb], undefined, 'rope/cos'), sin: b.op('Sin', [emb], undefined, 'rope/sin') };
}

/** Exact tables [maxPositions, headDim/2] (float32 angle, cos/sin rounded once), gathered by position and doubled. */
function gatheredTables(b: OnnxGraphBuilder, maxPositions: number, invFreq: Float32Array, positions: string): { cos: string; sin: string } {
  const half = invFreq.length;
  const cos = new Float32Array(maxPositions * half);
  const sin = new Float32Array(maxPositions * half);
  for (let p = 0; p < maxPositions; p++) {
    for (let i = 0; i < half; i++) {
      const angle = Math.fround(p * invFreq[i]!);
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  const table = (name: 'cos' | 'sin', values: Float32Array) => {
    const rows = b.op(
      'Gather',
      [b.addWeight(`rope/${name}_table`, tensor([maxPositions, half], values)), positions],
      { axis: 0 },
      `rope/${name}_half`,
    );
    return b.op('Concat', [rows, rows], { axis: -1 }, `rope/${name}`);
  };
  return { cos: table('cos', cos), sin: table('sin', sin) };
}

/**
 * x - 2π·floor(x/2π + 1/2), in [-π, π): GPU sin/cos lose accuracy on large arguments; the float32
 * reduction error here is ~|x|·2^-24, with 2π split in two float32 parts (Cody-Waite).
 */
function reduceToPeriod(b: OnnxGraphBuilder, x: string): string {
  const TWO_PI_HI = Math.fround(2 * Math.PI);
  const TWO_PI_LO = 2 * Math.PI - TWO_PI_HI;
  const turns = b.op('Mul', [x, b.constFloat([1 / (2 * Math.PI)], [])], undefined, 'rope/turns');
  const k = b.op('Floor', [b.op('Add', [turns, b.constFloat([0.5], [])], undefined, 'rope/turns_half')], undefined, 'rope/k');
  const hi = b.op('Sub', [x, b.op('Mul', [k, b.constFloat([TWO_PI_HI], [])], undefined, 'rope/k_hi')], undefined, 'rope/reduced_hi');
  return b.op('Sub', [hi, b.op('Mul', [k, b.constFloat([TWO_PI_LO], [])], undefined, 'rope/k_lo')], undefined, 'rope/emb');
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
