/**
 * Test helper: a naive float64 forward pass of a ModelIR (one sequence at a time, plain loops),
 * written from the model definitions, not from the graph builder. Covers everything the builder
 * supports (LayerNorm/RMSNorm, learned/rotary positions, GQA, gated MLPs, pruned layers, masks),
 * so graph tests can compare onnxruntime output with an independent computation.
 */
import { tokenEmbeddingOf } from '../core/ir';
import type { Activation, Linear, ModelIR, Norm } from '../core/ir';

export interface ForwardMasks {
  head?: ArrayLike<number>; // [L*H]
  ffn?: ArrayLike<number>; // [L*F]
  layer?: ArrayLike<number>; // [L]
}

export interface ForwardResult {
  /** [seq][vocab] */
  logits: number[][];
  /** hidden[i][t] = residual entering block i; hidden[L] before the final norm. */
  hidden: number[][][];
  attnIn: number[][][];
  ffnIn: number[][][];
  /** probs[i][h][t][s]: attention probability of query t on key s in head h of layer i (s <= t). */
  probs: number[][][][];
}

function linear(x: readonly number[], lin: Linear): number[] {
  const [out, inDim] = lin.weight.shape as [number, number];
  const w = lin.weight.data;
  return Array.from({ length: out }, (_, o) => {
    let s = lin.bias ? lin.bias.data[o]! : 0;
    for (let i = 0; i < inDim; i++) s += w[o * inDim + i]! * x[i]!;
    return s;
  });
}

function norm(x: readonly number[], n: Norm, kind: 'layernorm' | 'rmsnorm', eps: number): number[] {
  const d = x.length;
  const mean = kind === 'layernorm' ? x.reduce((a, b) => a + b, 0) / d : 0;
  const v = x.reduce((a, b) => a + (b - mean) ** 2, 0) / d;
  return x.map((xi, i) => ((xi - mean) / Math.sqrt(v + eps)) * n.weight.data[i]! + (n.bias ? n.bias.data[i]! : 0));
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse; use a series / continued fraction to ~1e-15.
  const t = Math.abs(x);
  if (t < 3) {
    let sum = t;
    let term = t;
    for (let n = 1; n < 200; n++) {
      term *= (-t * t) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  return Math.sign(x) * (1 - (Math.exp(-t * t) / (t * Math.sqrt(Math.PI))) * (1 - 1 / (2 * t * t) + 3 / (4 * t ** 4)));
}

export function act(kind: Activation, x: number): number {
  switch (kind) {
    case 'relu':
      return Math.max(0, x);
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
      return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
  }
}

function rope(v: number[], pos: number, theta: number): number[] {
  const d = v.length;
  const half = d / 2;
  return v.map((x, i) => {
    const j = i % half;
    const angle = pos / theta ** ((2 * j) / d);
    const rot = i < half ? -v[i + half]! : v[i - half]!;
    return x * Math.cos(angle) + rot * Math.sin(angle);
  });
}

function attention(
  ir: ModelIR,
  l: number,
  xs: number[][],
  masks: ForwardMasks,
): { out: number[][]; attnIn: number[][]; probs: number[][][] } {
  const { numHeads: H, numKvHeads: K } = ir.layers[l]!;
  const w = ir.weights.layers[l]!;
  const dh = ir.spec.headDim;
  const Hm = ir.layers[0]!.numHeads;
  const n = (x: number[]) => norm(x, w.attnNorm, ir.spec.norm, ir.spec.normEps);
  const rotary = ir.spec.positions === 'rotary';
  const theta = ir.spec.ropeTheta ?? 10000;
  const proj = xs.map((x, t) => {
    const xn = n(x);
    const q = linear(xn, w.q);
    const k = linear(xn, w.k);
    const split = (v: number[], heads: number) => Array.from({ length: heads }, (_, h) => v.slice(h * dh, (h + 1) * dh));
    const qh = split(q, H).map((v) => (rotary ? rope(v, t, theta) : v));
    const kh = split(k, K).map((v) => (rotary ? rope(v, t, theta) : v));
    return { q: qh, k: kh, v: split(linear(xn, w.v), K) };
  });
  const probs: number[][][] = Array.from({ length: H }, () => []);
  const attnIn = xs.map((_, t) => {
    const ctx: number[] = [];
    for (let h = 0; h < H; h++) {
      const kv = Math.floor(h / (H / K));
      const scores = Array.from(
        { length: ir.spec.attention === 'bidirectional' ? xs.length : t + 1 },
        (_, s) => proj[t]!.q[h]!.reduce((a, qi, i) => a + qi * proj[s]!.k[kv]![i]!, 0) / Math.sqrt(dh),
      );
      const m = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - m));
      const z = e.reduce((a, b) => a + b, 0);
      probs[h]!.push(e.map((p) => p / z));
      const hm = masks.head ? masks.head[l * Hm + h]! : 1;
      for (let i = 0; i < dh; i++) ctx.push((hm * e.reduce((a, p, s) => a + p * proj[s]!.v[kv]![i]!, 0)) / z);
    }
    return ctx;
  });
  return { out: attnIn.map((c) => linear(c, w.o)), attnIn, probs };
}

function mlp(ir: ModelIR, l: number, x: number[], masks: ForwardMasks): { out: number[]; ffnIn: number[] } {
  const w = ir.weights.layers[l]!;
  const Fm = ir.layers[0]!.ffnSize;
  const xn = norm(x, w.mlpNorm, ir.spec.norm, ir.spec.normEps);
  const up = linear(xn, w.up);
  const gate = ir.spec.gatedMlp && w.gate ? linear(xn, w.gate) : undefined;
  const a = up.map(
    (u, j) => (gate ? act(ir.spec.activation, gate[j]!) * u : act(ir.spec.activation, u)) * (masks.ffn ? masks.ffn[l * Fm + j]! : 1),
  );
  return { out: linear(a, w.down), ffnIn: a };
}

/** Runs one sequence of token ids through the model. */
export function referenceForward(ir: ModelIR, ids: readonly number[], masks: ForwardMasks = {}): ForwardResult {
  const { spec, weights } = ir;
  const d = spec.hiddenSize;
  const te = tokenEmbeddingOf(ir);
  const xs = ids.map((id, t) =>
    Array.from(
      { length: d },
      (_, i) =>
        te.data[id * d + i]! + (spec.positions === 'learned' && weights.positionEmbedding ? weights.positionEmbedding.data[t * d + i]! : 0),
    ),
  );
  const r = referenceBlocks(ir, xs, masks);
  const head = weights.lmHead ?? te;
  const logits = r.xs.map((x) => linear(norm(x, weights.finalNorm, spec.norm, spec.normEps), { weight: head }));
  return { logits, ...r };
}

/**
 * An image classifier (ViT) on one image [C, S, S] (row-major): stride-p convolution patches (row-major
 * over the grid), CLS first, learned positions, the blocks, final norm, CLS (or mean) pooling, the
 * classifier with its bias: logits [labels].
 */
export function referenceVitForward(ir: ModelIR, image: ArrayLike<number>, masks: ForwardMasks = {}): number[] {
  const { spec, weights } = ir;
  const v = spec.vision!;
  const d = spec.hiddenSize;
  const [C, S, p] = [v.numChannels, v.imageSize, v.patchSize];
  const g = S / p;
  const pe = weights.patchEmbedding!;
  const tokens: number[][] = [Array.from(weights.clsToken!.data)];
  for (let gy = 0; gy < g; gy++)
    for (let gx = 0; gx < g; gx++) {
      const patch: number[] = [];
      for (let c = 0; c < C; c++)
        for (let y = 0; y < p; y++) for (let x = 0; x < p; x++) patch.push(image[c * S * S + (gy * p + y) * S + gx * p + x]!);
      tokens.push(linear(patch, { weight: { shape: [d, C * p * p], data: pe.weight.data }, ...(pe.bias ? { bias: pe.bias } : {}) }));
    }
  const pos = weights.positionEmbedding!.data;
  const xs = tokens.map((x, t) => x.map((xi, i) => xi + pos[t * d + i]!));
  const out = referenceBlocks(ir, xs, masks).xs.map((x) => norm(x, weights.finalNorm, spec.norm, spec.normEps));
  const pooled =
    (spec.pooling ?? 'cls') === 'cls' ? out[0]! : out[0]!.map((_, i) => out.slice(1).reduce((a, x) => a + x[i]!, 0) / (out.length - 1));
  return linear(pooled, { weight: weights.lmHead!, ...(weights.lmHeadBias ? { bias: weights.lmHeadBias } : {}) });
}

/** The blocks on a residual stream [seq][d]: the final stream and each block's taps. */
function referenceBlocks(ir: ModelIR, x0: number[][], masks: ForwardMasks) {
  const { weights } = ir;
  const d = ir.spec.hiddenSize;
  let xs = x0;
  const hidden: number[][][] = [];
  const attnIn: number[][][] = [];
  const ffnIn: number[][][] = [];
  const probs: number[][][][] = [];
  ir.layers.forEach((shape, l) => {
    hidden.push(xs);
    const lm = masks.layer ? masks.layer[l]! : 1;
    const w = weights.layers[l]!;
    const zeros = () => new Array<number>(d).fill(0);
    const a =
      shape.numHeads > 0
        ? attention(ir, l, xs, masks)
        : { out: xs.map(() => (w.o.bias ? [...w.o.bias.data] : zeros())), attnIn: xs.map(() => []), probs: [] };
    attnIn.push(a.attnIn);
    probs.push(a.probs);
    xs = xs.map((x, t) => x.map((xi, i) => xi + lm * a.out[t]![i]!));
    const m = xs.map((x) => (shape.ffnSize > 0 ? mlp(ir, l, x, masks) : { out: w.down.bias ? [...w.down.bias.data] : zeros(), ffnIn: [] }));
    ffnIn.push(m.map((r) => r.ffnIn));
    xs = xs.map((x, t) => x.map((xi, i) => xi + lm * m[t]!.out[i]!));
  });
  hidden.push(xs);
  return { xs, hidden, attnIn, ffnIn, probs };
}

/** log_softmax(row)[label] in float64. */
export function logProb(row: ArrayLike<number>, label: number): number {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]!);
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i]! - m);
  return row[label]! - m - Math.log(z);
}
