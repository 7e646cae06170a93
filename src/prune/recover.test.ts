/**
 * Recovery helpers: private weight copies, the gradient step and OBS recovery of one round (equal
 * to compensate() with the same removals).
 */
import { describe, expect, it } from 'vitest';
import { emptyPlan } from '../core/plan';
import { randomIR, seededRandom } from '../test-util/random-ir';
import { createStats, accumulateChannels } from '../saliency/stats';
import { compensate } from './compensate';
import { gradientNorm, gradientStep, obsRecover, withOwnProjections } from './recover';

describe('gradient step and copies', () => {
  it('withOwnProjections copies only the o / down weights', () => {
    const ir = randomIR();
    const own = withOwnProjections(ir);
    own.weights.layers[0]!.o.weight.data[0] = 42;
    expect(ir.weights.layers[0]!.o.weight.data[0]).not.toBe(42);
    expect(own.weights.layers[0]!.q).toBe(ir.weights.layers[0]!.q);
  });

  it('W <- W - lr g on the named weights, others untouched', () => {
    const ir = randomIR({ layers: 2 });
    const g = Float64Array.from(ir.weights.layers[1]!.down.weight.data, () => 2);
    const out = gradientStep(ir, new Map([['grad.down.1', g]]), 0.25);
    expect(out.weights.layers[1]!.down.weight.data[3]).toBeCloseTo(ir.weights.layers[1]!.down.weight.data[3]! - 0.5, 6);
    expect(out.weights.layers[0]!.down.weight).toBe(ir.weights.layers[0]!.down.weight);
    expect(gradientNorm(new Map([['a', Float64Array.from([3, 4])]]))).toBe(5);
  });
});

describe('OBS recovery of a round', () => {
  it('equals compensate() with the round’s removals', () => {
    const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32 });
    const stats = createStats(ir, true);
    const rnd = seededRandom(4);
    for (const l of stats.layers) {
      accumulateChannels(l.attnIn, Float32Array.from({ length: 40 * 16 }, rnd), 40);
      accumulateChannels(l.ffnIn, Float32Array.from({ length: 40 * 32 }, rnd), 40);
    }
    stats.numSequences = 2;
    const removed = [
      { removedHeads: [1], removedFfn: [0, 5] },
      { removedHeads: [], removedFfn: [7] },
    ];
    const plan = emptyPlan(ir);
    plan.layers = plan.layers.map((e, i) => ({ ...e, ...removed[i]! }));
    const a = obsRecover(ir, removed, stats);
    const b = compensate(ir, plan, stats, 'obs');
    expect(a.weights.layers[0]!.o.weight.data).toEqual(b.weights.layers[0]!.o.weight.data);
    expect(a.weights.layers[1]!.down.weight.data).toEqual(b.weights.layers[1]!.down.weight.data);
  });
});
