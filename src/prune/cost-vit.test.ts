/** The cost model for a ViT (bidirectional attention, patch projection, classifier on one vector), by hand. */
import { describe, expect, it } from 'vitest';
import type { CostSpec } from './cost';
import { defaultCostSeq, forwardFlops, layerFlops } from './cost';

const vit: CostSpec = {
  hiddenSize: 16,
  headDim: 8,
  vocabSize: 3,
  gatedMlp: false,
  attention: 'bidirectional',
  head: 'classifier',
  vision: { imageSize: 8, patchSize: 4, numChannels: 2, labels: ['a', 'b', 'c'] },
};
const layer = { numHeads: 2, numKvHeads: 2, ffnSize: 32 };

describe('ViT FLOPs', () => {
  it('counts full (not causal) attention, the patch projection and one classifier row', () => {
    // linear: 2 · 5 tokens · (16·8·(2·2 + 2·2) + 16·32·2) = 20480; attention: 4 · 5² · 8 · 2 = 1600
    expect(layerFlops(vit, layer, 5)).toBe(22080);
    // 2 layers + patches 2 · 4 · (2·4·4) · 16 = 4096 + classifier 2 · 16 · 3 = 96
    expect(forwardFlops(vit, [layer, layer], 5)).toBe(2 * 22080 + 4096 + 96);
  });

  it('leaves a decoder as it was (causal halving, LM head at every position)', () => {
    const lm: CostSpec = { hiddenSize: 16, headDim: 8, vocabSize: 3, gatedMlp: false };
    expect(layerFlops(lm, layer, 5)).toBe(20480 + 800);
    expect(forwardFlops(lm, [layer], 5)).toBe(21280 + 2 * 5 * 16 * 3);
  });

  it('targets count a ViT at its own tokens per image, a language model at 128', () => {
    expect(defaultCostSeq({ input: 'patches', maxPositions: 50 })).toBe(50);
    expect(defaultCostSeq({ maxPositions: 1024 })).toBe(128);
  });
});
