/**
 * Recovery helpers: private weight copies, the gradient step and OBS recovery of one round (equal
 * to compensate() with the same removals).
 */
import { describe, expect, it } from 'vitest';
import { emptyPlan } from '../core/plan';
import { randomIR, seededRandom } from '../test-util/random-ir';
import { createStats, accumulateChannels } from '../saliency/stats';
import { compensate } from './compensate';
import { compensateRound, gradientNorm, gradientStep, obsRecover, withOwnProjections } from './recover';

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

describe('redistribution through the registries', () => {
  function setup() {
    const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32 });
    const stats = createStats(ir, true);
    const rnd = seededRandom(9);
    for (const l of stats.layers) {
      const x = Float32Array.from({ length: 60 * 16 }, rnd);
      for (let t = 0; t < 60; t++) for (let j = 4; j < 8; j++) x[t * 16 + j] = x[t * 16 + j - 4]! * 0.8 + x[t * 16 + j]! * 0.2; // head 1 ≈ head 0
      accumulateChannels(l.attnIn, x, 60);
      accumulateChannels(l.ffnIn, Float32Array.from({ length: 60 * 32 }, rnd), 60);
    }
    stats.numSequences = 3;
    const removed = [
      { removedHeads: [1, 2], removedFfn: [0, 5] },
      { removedHeads: [3], removedFfn: [7] },
    ];
    const plan = emptyPlan(ir);
    plan.layers = plan.layers.map((e, i) => ({ ...e, ...removed[i]! }));
    return { ir, stats, removed, plan };
  }
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

  it("compensate('redistribute') at full rank equals OBS; the default rank (head_dim) differs", () => {
    const { ir, stats, plan } = setup();
    const obs = compensate(ir, plan, stats, 'obs');
    const full = compensate(ir, plan, stats, 'redistribute', undefined, { rank: 1e9 });
    const low = compensate(ir, plan, stats, 'redistribute');
    for (const l of [0, 1]) {
      expect(maxDiff(full.weights.layers[l]!.o.weight.data, obs.weights.layers[l]!.o.weight.data)).toBeLessThan(1e-5);
      expect(maxDiff(full.weights.layers[l]!.down.weight.data, obs.weights.layers[l]!.down.weight.data)).toBeLessThan(1e-5);
    }
    expect(maxDiff(low.weights.layers[0]!.o.weight.data, obs.weights.layers[0]!.o.weight.data)).toBeGreaterThan(1e-4);
    expect(low.weights.layers[0]!.down.weight.data).toEqual(full.weights.layers[0]!.down.weight.data);
  });

  it('the redistribute recovery of a round equals compensate() with its removals', () => {
    const { ir, stats, removed, plan } = setup();
    const a = compensateRound(ir, removed, stats, 'redistribute');
    const b = compensate(ir, plan, stats, 'redistribute');
    expect(a.weights.layers[0]!.o.weight.data).toEqual(b.weights.layers[0]!.o.weight.data);
  });
});
