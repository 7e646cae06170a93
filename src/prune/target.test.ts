/**
 * Global targets in parameters / FLOPs: planCost must equal the cost of the model that slicing
 * really produces (modelCost of sliceModel, on GPT-2-shaped and grouped-query IRs, heads, FFN and
 * whole layers), and ratioForTarget must land on the achievable fraction closest to the target.
 */
import { describe, expect, it } from 'vitest';
import { allocate } from './allocate';
import { modelCost } from './cost';
import { sliceModel } from './slice';
import { planCost, ratioForTarget, removedFraction } from './target';
import { randomIR } from '../test-util/random-ir';
import type { UnitScores } from '../saliency/types';

function scoresFor(L: number, H: number, F: number): UnitScores {
  return {
    criterion: 'magnitude',
    numLayers: L,
    numHeads: H,
    ffnSize: F,
    heads: Float64Array.from({ length: L * H }, (_, i) => (i * 5) % 7),
    ffn: Float64Array.from({ length: L * F }, (_, i) => (i * 11) % 13),
    layers: Float64Array.from({ length: L }, (_, i) => i),
  };
}

describe('planCost', () => {
  for (const [name, ir] of [
    ['multi-head with biases', randomIR({ layers: 3, heads: 4, ffn: 16 })],
    ['grouped-query', randomIR({ layers: 3, heads: 4, kvHeads: 2, ffn: 16, seed: 3 })],
  ] as const) {
    it(`equals the cost of the sliced model (${name})`, () => {
      const s = scoresFor(3, 4, 16);
      for (const req of [
        { heads: 0.5, ffn: 0.25, layers: 0 },
        { heads: 0.25, ffn: 0.75, layers: 1 },
        { heads: 0, ffn: 0, layers: 2 },
      ]) {
        const plan = allocate(ir, s, s, s, { allocation: 'uniform', ...req });
        const sliced = modelCost(sliceModel(ir, plan), 64);
        expect(planCost(ir, plan, 64)).toEqual({ parameters: sliced.parameters, flops: sliced.flops });
      }
    });
  }
});

describe('ratioForTarget', () => {
  const ir = randomIR({ layers: 2, heads: 4, ffn: 32, vocab: 20 });
  const s = scoresFor(2, 4, 32);
  const planFor = (r: number) => allocate(ir, s, s, null, { allocation: 'uniform', heads: r, ffn: r, layers: 0 });

  it('finds the plan whose removed fraction of parameters is closest to the target', () => {
    for (const target of [0.1, 0.25, 0.4]) {
      const { plan, achieved } = ratioForTarget(ir, planFor, 'parameters', target, 64);
      expect(achieved).toBeCloseTo(removedFraction(ir, plan, 'parameters', 64), 12);
      // no ratio on a fine grid gets closer
      let best = Infinity;
      for (let r = 0; r <= 0.99; r += 0.001) best = Math.min(best, Math.abs(removedFraction(ir, planFor(r), 'parameters', 64) - target));
      expect(Math.abs(achieved - target)).toBeCloseTo(best, 12);
    }
  });

  it('works in FLOPs, and clamps to what can be removed', () => {
    const { achieved } = ratioForTarget(ir, planFor, 'flops', 0.2, 64);
    expect(Math.abs(achieved - 0.2)).toBeLessThan(0.05);
    const max = ratioForTarget(ir, planFor, 'parameters', 0.99, 64);
    expect(max.ratio).toBeCloseTo(0.99, 12);
    expect(max.achieved).toBeLessThan(0.99); // embeddings and norms stay
    expect(ratioForTarget(ir, planFor, 'parameters', 0, 64).ratio).toBe(0);
  });
});
