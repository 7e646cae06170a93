/**
 * Floors (issue 15): every allocator keeps at least one kv group and a minimum share of FFN neurons
 * (default 5%, configurable) in every layer that is not removed whole; the incremental schedule
 * (allocation and SlimGPT) redistributes what its capped layers cannot take, so high targets are met.
 */
import { describe, expect, it } from 'vitest';
import { allocate, ALLOCATIONS, incrementalRatios } from '../allocate';
import { slimGptCounts } from '../slimgpt';
import { randomIR } from '../../test-util/random-ir';
import type { UnitScores } from '../../saliency/types';
import { floorCount } from './select';

const [L, H, F] = [4, 4, 40];
const ir = randomIR({ layers: L, heads: H, ffn: F, kvHeads: 2 });
// The last layer's units all score far below every other layer's: global rankings want to empty it.
const scores: UnitScores = {
  criterion: 'magnitude',
  numLayers: L,
  numHeads: H,
  ffnSize: F,
  heads: Float64Array.from({ length: L * H }, (_, i) => (i >= (L - 1) * H ? 1e-6 * (i + 1) : 10 + (i % 5))),
  ffn: Float64Array.from({ length: L * F }, (_, i) => (i >= (L - 1) * F ? 1e-6 * (i + 1) : 10 + ((i * 7) % 11))),
  layers: Float64Array.from([4, 3, 2, 1]),
};

const kept = (plan: ReturnType<typeof allocate>, l: number) => ({
  heads: H - plan.layers[l]!.removedHeads.length,
  ffn: F - plan.layers[l]!.removedFfn.length,
});

describe('allocation floors', () => {
  it('floorCount: one kv group; max(1, ceil(share · n)) neurons', () => {
    expect(floorCount('head', 8)).toBe(1);
    expect(floorCount('ffn', 1024)).toBe(52);
    expect(floorCount('ffn', 8)).toBe(1);
    expect(floorCount('ffn', 40, 0.25)).toBe(10);
    expect(() => floorCount('ffn', 40, 1)).toThrow(/fraction/);
  });

  for (const allocation of ALLOCATIONS) {
    it(`${allocation}: every layer keeps a kv group and 5% of its neurons at 95% targets`, () => {
      const plan = allocate(ir, scores, scores, null, { allocation, heads: 0.95, ffn: 0.95, layers: 0 });
      for (let l = 0; l < L; l++) {
        expect(kept(plan, l).heads, `layer ${l} heads`).toBeGreaterThanOrEqual(2); // one kv group = 2 heads
        expect(kept(plan, l).ffn, `layer ${l} neurons`).toBeGreaterThanOrEqual(2);
      }
    });

    it(`${allocation}: the FFN floor is configurable`, () => {
      const plan = allocate(ir, scores, scores, null, { allocation, heads: 0.5, ffn: 0.9, layers: 0, minFfnShare: 0.25 });
      for (let l = 0; l < L; l++) expect(kept(plan, l).ffn, `layer ${l}`).toBeGreaterThanOrEqual(10);
    });
  }

  it('only the layer control removes a whole layer', () => {
    const plan = allocate(ir, scores, scores, scores, { allocation: 'global', heads: 0.9, ffn: 0.9, layers: 1 });
    expect(plan.layers.map((l) => l.removed)).toEqual([false, false, false, true]);
    for (let l = 0; l < L - 1; l++) expect(kept(plan, l).ffn).toBeGreaterThanOrEqual(2);
  });

  it('incremental ratios are capped and the rest is redistributed: the mean still meets the target', () => {
    const r = incrementalRatios(4, 0.7, 0.95);
    expect(Math.max(...r)).toBeLessThanOrEqual(0.95 + 1e-12);
    expect(r.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(0.7, 9);
    expect(r[3]).toBeCloseTo(0.95, 9);
    expect(r[0]).toBeLessThan(r[1]!);
  });

  it('SlimGPT incremental at 70% on the demo shape: no layer emptied, the target reached', () => {
    const demo = randomIR({ layers: 4, hidden: 16, heads: 8, ffn: 1024, vocab: 20 });
    const c = slimGptCounts(demo, { heads: 0.7, ffn: 0.7, allocation: 'incremental' });
    expect(Math.max(...c.ffn)).toBeLessThanOrEqual(1024 - 52);
    expect(Math.max(...c.groups)).toBeLessThanOrEqual(7);
    expect(Math.abs(c.ffn.reduce((a, b) => a + b, 0) - 0.7 * 4096)).toBeLessThanOrEqual(4);
    expect(Math.abs(c.groups.reduce((a, b) => a + b, 0) - 0.7 * 32)).toBeLessThanOrEqual(2);
  });
});
