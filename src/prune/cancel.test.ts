/**
 * Cancellation latency in units of work (no clocks): a job aborted during one unit (an OBS layer
 * half, a compensated layer, a SlimGPT removal group) stops before starting the next one.
 */
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../core/errors';
import type { Progress } from '../core/job';
import { emptyPlan } from '../core/plan';
import { accumulateChannels, createStats } from '../saliency/stats';
import { hessian } from '../core/stats';
import { obs } from '../saliency/criteria/obs';
import { randomIR, seededRandom } from '../test-util/random-ir';
import { compensate } from './compensate';
import { obsState } from './obs-update';
import { removeChannelsDynamic, removeGroupsGreedy } from './slimgpt-obs';

function calibrated(layers: number) {
  const ir = randomIR({ layers, hidden: 16, heads: 4, ffn: 32 });
  const stats = createStats(ir, true);
  const rnd = seededRandom(7);
  for (const l of stats.layers) {
    accumulateChannels(l.attnIn, Float32Array.from({ length: 40 * 16 }, rnd), 40);
    accumulateChannels(l.ffnIn, Float32Array.from({ length: 40 * 32 }, rnd), 40);
  }
  stats.numSequences = 2;
  return { ir, stats };
}

describe('cancellation within one unit of work', () => {
  it('OBS criterion: aborted at its first report, it runs no further unit (one per layer)', async () => {
    const { ir, stats } = calibrated(6);
    const controller = new AbortController();
    const reports: Progress[] = [];
    const run = obs.compute({
      ir,
      stats,
      signal: controller.signal,
      onProgress: (p) => {
        reports.push(p);
        controller.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    expect(reports.map((p) => p.done)).toEqual([0]);
    // Not cancelled: one report per unit (one per layer: heads and FFN of a layer in one blocked pass) and a final one.
    const all: Progress[] = [];
    await obs.compute({ ir, stats, signal: new AbortController().signal, onProgress: (p) => all.push(p) });
    expect(all.length).toBe(6 + 1);
  });

  it('OBS compensation: a check that throws at layer 2 stops the layer loop there', () => {
    const { ir, stats } = calibrated(5);
    const plan = emptyPlan(ir);
    plan.layers = plan.layers.map((e) => ({ ...e, removedHeads: [1], removedFfn: [0, 3] }));
    const seen: number[] = [];
    const check = (layer: number) => {
      seen.push(layer);
      if (layer === 2) throw new CancelledError('Applying the plan');
    };
    expect(() => compensate(ir, plan, stats, 'obs', check)).toThrow(CancelledError);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('SlimGPT removals: the check runs before every head group and FFN group', () => {
    const { ir, stats } = calibrated(1);
    const lw = ir.weights.layers[0]!;
    const heads = obsState(lw.o.weight.data, 16, 16, hessian(stats.layers[0]!.attnIn, stats.numSequences));
    let calls = 0;
    const stopAt = (n: number) => () => {
      if (++calls === n) throw new CancelledError('SlimGPT');
    };
    expect(() => removeGroupsGreedy(heads, 4, 3, stopAt(2))).toThrow(CancelledError);
    expect(heads.removed.filter(Boolean).length).toBe(4); // one group of 4 columns, then stopped
    calls = 0;
    const ffn = obsState(lw.down.weight.data, 16, 32, hessian(stats.layers[0]!.ffnIn, stats.numSequences));
    expect(() => removeChannelsDynamic(ffn, 8, stopAt(1))).toThrow(CancelledError);
    expect(ffn.removed.some(Boolean)).toBe(false);
  });
});
