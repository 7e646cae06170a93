/** Test helper: a small random Llama-shaped ModelIR (RMSNorm, rotary, SwiGLU, optional GQA, untied head; deterministic). */
import type { LayerWeights, ModelIR } from '../core/ir';
import { tensor } from '../core/tensor';
import { seededRandom } from './random-ir';

export function randomLlamaIR(
  opts: {
    layers?: number;
    hidden?: number;
    heads?: number;
    kvHeads?: number;
    headDim?: number;
    ffn?: number;
    vocab?: number;
    seed?: number;
    qkvBias?: boolean;
  } = {},
): ModelIR {
  const L = opts.layers ?? 2;
  const d = opts.hidden ?? 16;
  const H = opts.heads ?? 4;
  const K = opts.kvHeads ?? 2;
  const dh = opts.headDim ?? 8;
  const F = opts.ffn ?? 24;
  const V = opts.vocab ?? 40;
  const rnd = seededRandom(opts.seed ?? 3);
  const t = (shape: number[], scale = 0.4) =>
    tensor(
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd() * scale),
    );
  const ones = (n: number) =>
    tensor(
      [n],
      Float32Array.from({ length: n }, () => 1 + rnd() * 0.2),
    );
  const layer = (): LayerWeights => ({
    attnNorm: { weight: ones(d) },
    q: { weight: t([H * dh, d]), ...(opts.qkvBias ? { bias: t([H * dh], 0.1) } : {}) },
    k: { weight: t([K * dh, d]), ...(opts.qkvBias ? { bias: t([K * dh], 0.1) } : {}) },
    v: { weight: t([K * dh, d]), ...(opts.qkvBias ? { bias: t([K * dh], 0.1) } : {}) },
    o: { weight: t([d, H * dh]) },
    mlpNorm: { weight: ones(d) },
    gate: { weight: t([F, d]) },
    up: { weight: t([F, d]) },
    down: { weight: t([d, F]) },
  });
  return {
    name: 'random-llama',
    spec: {
      family: 'llama',
      modelType: 'llama',
      numLayers: L,
      hiddenSize: d,
      headDim: dh,
      vocabSize: V,
      maxPositions: 64,
      norm: 'rmsnorm',
      normEps: 1e-6,
      activation: 'silu',
      gatedMlp: true,
      positions: 'rotary',
      attention: 'causal',
      normPlacement: 'pre',
      head: 'lm',
      ropeTheta: 10000,
      tiedEmbeddings: false,
    },
    layers: Array.from({ length: L }, () => ({ numHeads: H, numKvHeads: K, ffnSize: F })),
    originalLayerIndex: Array.from({ length: L }, (_, i) => i),
    weights: {
      tokenEmbedding: t([V, d], 1),
      layers: Array.from({ length: L }, layer),
      finalNorm: { weight: ones(d) },
      lmHead: t([V, d]),
    },
  };
}
