import { describe, expect, it } from 'vitest';
import { allocate, incrementalRatios } from './allocate';
import { randomIR } from '../test-util/random-ir';
import type { UnitScores } from '../saliency/types';

const ir = randomIR({ layers: 3, heads: 4, ffn: 8 });
// Layer 0 has strong heads, layer 2 weak ones; within a layer head scores increase with index.
const scores: UnitScores = {
  criterion: 'magnitude',
  numLayers: 3,
  numHeads: 4,
  ffnSize: 8,
  heads: Float64Array.from([10, 11, 12, 13, 5, 6, 7, 8, 1, 2, 3, 40]),
  ffn: Float64Array.from({ length: 24 }, (_, i) => (i * 7) % 24),
  layers: Float64Array.from([3, 1, 2]),
};

describe('allocate', () => {
  it('uniform removes the same share of each layer, lowest scores first', () => {
    const plan = allocate(ir, scores, scores, null, { allocation: 'uniform', heads: 0.5, ffn: 0.25, layers: 0 });
    expect(plan.layers.map((l) => l.removedHeads)).toEqual([
      [0, 1],
      [0, 1],
      [0, 1],
    ]);
    // layer 1 ffn scores: (8..15)*7 % 24 = [8,15,22,5,12,19,2,9] -> two lowest are neurons 6 and 3
    expect(plan.layers[1]!.removedFfn).toEqual([3, 6]);
  });

  it('sensitivity ranks raw scores across layers and keeps one head per layer', () => {
    const plan = allocate(ir, scores, null, null, { allocation: 'sensitivity', heads: 0.5, ffn: 0, layers: 0 });
    // six lowest raw: 1,2,3 (layer 2, but only 3 of its 4 can go), 5,6,7 (layer 1)
    expect(plan.layers.map((l) => l.removedHeads)).toEqual([[], [0, 1, 2], [0, 1, 2]]);
  });

  it('removes the lowest-scoring whole layers and never touches locked ones', () => {
    const plan = allocate(ir, scores, null, scores, { allocation: 'uniform', heads: 0.25, ffn: 0, layers: 1, locked: [2] });
    expect(plan.layers.map((l) => l.removed)).toEqual([false, true, false]);
    expect(plan.layers[2]!.removedHeads).toEqual([]);
    expect(plan.layers[0]!.removedHeads).toEqual([0]);
  });

  it('incremental ratios grow with depth like ln(1+i) and average to the target', () => {
    const r = incrementalRatios(4, 0.4);
    expect(r.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(0.4, 9);
    expect(r[0]! * 4).toBeCloseTo(r[3]!, 9); // r_min = r_max / 4 at layer 0, r_max at the last layer
    expect((r[1]! - r[0]!) / (r[3]! - r[0]!)).toBeCloseTo(Math.log(2) / Math.log(4), 9);
  });

  it('latency allocation removes units until the removed share of the given unit costs reaches the target', () => {
    // measured costs: a head group costs 1, a neuron 3 (any unit): 12 heads + 24 neurons = 84 in all
    const unitCost = { kvGroup: 1, neuron: 3 };
    const plan = allocate(ir, scores, scores, null, { allocation: 'latency', heads: 0.5, ffn: 0.5, layers: 0, unitCost });
    const heads = plan.layers.reduce((a, l) => a + l.removedHeads.length, 0);
    const ffn = plan.layers.reduce((a, l) => a + l.removedFfn.length, 0);
    const removed = heads * unitCost.kvGroup + ffn * unitCost.neuron;
    expect(removed).toBeGreaterThanOrEqual(0.5 * 84);
    expect(removed - 0.5 * 84).toBeLessThan(unitCost.neuron); // stops at the first unit past the target
    // with FLOP costs a head group (2·d·d_h·4 + 2·128·d_h) costs far more than a neuron (2·d·2): another plan
    const byFlops = allocate(ir, scores, scores, null, { allocation: 'latency', heads: 0.5, ffn: 0.5, layers: 0 });
    expect(byFlops.layers).not.toEqual(plan.layers);
  });
});
