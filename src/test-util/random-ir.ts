/** Test helper: a small random GPT-2-shaped ModelIR (deterministic). */
import type { LayerWeights, ModelIR } from '../core/ir';
import { tensor } from '../core/tensor';

export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

export function randomIR(
  opts: { layers?: number; hidden?: number; heads?: number; kvHeads?: number; ffn?: number; vocab?: number; seed?: number } = {},
): ModelIR {
  const L = opts.layers ?? 2;
  const d = opts.hidden ?? 16;
  const H = opts.heads ?? 4;
  const K = opts.kvHeads ?? H;
  const F = opts.ffn ?? 32;
  const V = opts.vocab ?? 50;
  const dh = d / H;
  const rnd = seededRandom(opts.seed ?? 1);
  const t = (shape: number[], scale = 0.3) =>
    tensor(
      shape,
      Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rnd() * scale),
    );
  const ones = (n: number) =>
    tensor(
      [n],
      Float32Array.from({ length: n }, () => 1 + rnd() * 0.1),
    );
  const layer = (): LayerWeights => ({
    attnNorm: { weight: ones(d), bias: t([d], 0.1) },
    q: { weight: t([H * dh, d]), bias: t([H * dh], 0.1) },
    k: { weight: t([K * dh, d]), bias: t([K * dh], 0.1) },
    v: { weight: t([K * dh, d]), bias: t([K * dh], 0.1) },
    o: { weight: t([d, H * dh]), bias: t([d], 0.1) },
    mlpNorm: { weight: ones(d), bias: t([d], 0.1) },
    up: { weight: t([F, d]), bias: t([F], 0.1) },
    down: { weight: t([d, F]), bias: t([d], 0.1) },
  });
  return {
    name: 'random-gpt2',
    spec: {
      family: 'gpt2',
      modelType: 'gpt2',
      numLayers: L,
      hiddenSize: d,
      headDim: dh,
      vocabSize: V,
      maxPositions: 64,
      norm: 'layernorm',
      normEps: 1e-5,
      activation: 'gelu_new',
      gatedMlp: false,
      positions: 'learned',
      attention: 'causal',
      normPlacement: 'pre',
      head: 'lm',
      tiedEmbeddings: true,
    },
    layers: Array.from({ length: L }, () => ({ numHeads: H, numKvHeads: K, ffnSize: F })),
    originalLayerIndex: Array.from({ length: L }, (_, i) => i),
    weights: {
      tokenEmbedding: t([V, d]),
      positionEmbedding: t([64, d], 0.1),
      layers: Array.from({ length: L }, layer),
      finalNorm: { weight: ones(d), bias: t([d], 0.1) },
    },
  };
}
