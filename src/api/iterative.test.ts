/**
 * StudioApi.iterativePrune on the demo model (small settings): round events with perplexity,
 * the final plan's counts, the result installed as the applied model (its perplexity equals the
 * last round's masked one, and the verified export works), gradient-descent recovery lowering the
 * calibration loss, and the Taylor / Fisher criteria through computeImportance.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from './studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { planCounts } from '../core/plan';
import { loadDemoCalibrated } from '../test-util/golden';
import type { IterativeRound } from './types';

const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
const perplexity = {
  text: readFileSync('public/data/evaluation.txt', 'utf8'),
  textName: 'evaluation.txt',
  contextLength: 128,
  stride: 64,
  maxTokens: 1024,
};

beforeAll(async () => {
  await loadDemoCalibrated(api, { samples: 4, seq: 64 }, true);
}, 300_000);

describe('iterativePrune', () => {
  it('runs rounds and installs the pruned model (export verified)', async () => {
    const events: IterativeRound[] = [];
    const stages = new Set<string>();
    const res = await api.iterativePrune(
      { criterion: 'taylor', heads: 0.5, ffn: 0.5, rounds: 2, recovery: 'none', perplexity },
      { onRound: (r) => events.push(r), onProgress: (p) => stages.add(p.stage) },
    );
    expect(events.map((e) => e.round)).toEqual([0, 1, 2]);
    expect(events.map((e) => e.headsRemoved)).toEqual([0, 8, 16]);
    expect(events.map((e) => e.ffnRemoved)).toEqual([0, 1200, 2048]);
    expect(events.every((e) => Number.isFinite(e.perplexity))).toBe(true);
    expect(stages).toContain('iterative');
    const counts = planCounts(res.plan);
    expect([counts.headsRemoved, counts.ffnRemoved]).toEqual([16, 2048]);
    expect(res.applied.compensation).toBe('none');
    expect(res.applied.recovery).toEqual({ method: 'none', rounds: 2 });
    expect(res.applied.layers.map((l) => [l.numHeads, l.ffnSize])).toEqual(Array.from({ length: 4 }, () => [4, 512]));
    expect(Math.abs(res.perplexity.perplexity / events[2]!.perplexity - 1)).toBeLessThan(1e-3);
    const bundle = await api.exportModel();
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
    expect(JSON.parse(new TextDecoder().decode(bundle.files.find((f) => f.name === 'plan.json')!.bytes)).derivation.allocation).toMatch(
      /^iterative/,
    );
  }, 300_000);

  it('one round with OBS recovery equals one-shot pruning with OBS compensation (heads)', async () => {
    const res = await api.iterativePrune({ criterion: 'taylor', heads: 0.5, ffn: 0, rounds: 1, recovery: 'obs', perplexity });
    expect(res.applied.compensation).toBe('obs');
    await api.computeImportance('taylor');
    const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads: 0.5, ffn: 0, layers: 0 });
    expect(plan.layers.map((l) => [l.removedHeads, l.removedFfn])).toEqual(res.plan.layers.map((l) => [l.removedHeads, l.removedFfn]));
    await api.applyPlan({ plan, compensation: 'obs' });
    const oneShot = await api.evaluatePerplexity({ ...perplexity, target: 'pruned' });
    expect(Math.abs(oneShot.perplexity / res.perplexity.perplexity - 1)).toBeLessThan(1e-4);
  }, 300_000);

  it('gradient-descent recovery lowers the calibration loss each round', async () => {
    const res = await api.iterativePrune({
      criterion: 'wanda',
      heads: 0.25,
      ffn: 0.25,
      rounds: 2,
      recovery: 'sgd',
      sgdSteps: 2,
      sgdLearningRate: 0.05,
      perplexity,
    });
    for (const r of res.rounds.slice(1)) expect(r.lossAfterRecovery).toBeLessThan(r.lossBeforeRecovery);
    expect(res.applied.recovery).toEqual({ method: 'sgd', rounds: 2, sgdSteps: 2, sgdLearningRate: 0.05 });
    expect(res.plan.derivation?.compensation).toBeUndefined();
  }, 300_000);

  it('needs calibration and a criterion that scores the pruned units', async () => {
    await expect(
      api.iterativePrune({ criterion: 'block-influence', heads: 0.25, ffn: 0, rounds: 1, recovery: 'none', perplexity }),
    ).rejects.toThrow(/does not score heads/);
  }, 300_000);
});

describe('gradient criteria through the api', () => {
  it('taylor and fisher score heads, neurons and layers from the same backward passes', async () => {
    const t = await api.computeImportance('taylor');
    const f = await api.computeImportance('fisher');
    expect(t.heads!.length).toBe(32);
    expect(f.ffn!.length).toBe(4096);
    expect(t.layers!.every((v) => v > 0)).toBe(true);
    // Fisher ≥ Taylor² (Jensen: mean g² ≥ (mean |g|)²)
    t.heads!.forEach((v, i) => expect(f.heads![i]! + 1e-12).toBeGreaterThanOrEqual(v * v * (1 - 1e-6)));
    const info = (await api.criteria()).find((c) => c.name === 'taylor')!;
    expect(info.needs.gradients).toBe(true);
  });
});
