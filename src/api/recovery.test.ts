/**
 * Recovery training through the api on the demo model (small budgets): api.recover after a
 * one-shot apply trains and re-installs the applied model (the verified export compares the sliced
 * model with the masked full-size trained one, so every trained weight reached the sliced graph), and
 * iterative pruning with 'distill' recovery, whose masked per-round perplexity must equal the
 * installed sliced model's (every graph of the loop is fed the trained q/k/v/up weights).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from './studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { loadDemoCalibrated } from '../test-util/golden';

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
  await api.computeImportance('taylor');
}, 300_000);

describe('recover', () => {
  it('trains the applied model and re-installs it (export verified, progress per step)', async () => {
    const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
    await api.applyPlan({ plan, compensation: 'obs' });
    const before = await api.evaluatePerplexity({ ...perplexity, target: 'pruned' });
    const steps: number[] = [];
    const res = await api.recover(
      { steps: 3, learningRate: 1e-4, batchSize: 2, perplexity },
      { onProgress: (p) => p.stage === 'recovery' && p.done > 0 && steps.push(p.done) },
    );
    expect(steps).toEqual([1, 2, 3]);
    expect(res.curve.map((p) => p.step)).toEqual([1, 2, 3]);
    expect(res.curve.every((p) => Number.isFinite(p.loss) && p.kl >= -1e-3)).toBe(true);
    expect(res.applied.training).toMatchObject({ steps: 3, learningRate: 1e-4, textName: 'calibration.txt', samples: 4, seq: 64 });
    expect(res.applied.compensation).toBe('obs');
    expect(res.perplexity?.perplexity).not.toBe(before.perplexity);
    const bundle = await api.exportModel();
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
    const readme = new TextDecoder().decode(bundle.files.find((f) => f.name === 'README.md')!.bytes);
    expect(readme).toMatch(/recovery training: 3 Adam steps/);
  }, 300_000);

  it('is cancellable', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(api.recover({ steps: 2, perplexity }, { signal: ac.signal })).rejects.toThrow(/cancel|abort/i);
  }, 300_000);

  it('apply with redistribution records its rank and ridge (summary and model card)', async () => {
    const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads: 0.5, ffn: 0, layers: 0 });
    const applied = await api.applyPlan({ plan, compensation: 'redistribute', compensationOptions: { rank: 8 } });
    expect(applied.compensationOptions).toEqual({ rank: 8, ridge: 0.01, intercept: false });
    const bundle = await api.exportModel();
    const readme = new TextDecoder().decode(bundle.files.find((f) => f.name === 'README.md')!.bytes);
    expect(readme).toMatch(/compensation: redistribute \(rank 8, ridge 0\.01\)/);
  }, 300_000);

  it("iterative 'distill' recovery: per-round curves, final phase, masked rounds equal the installed sliced model", async () => {
    const res = await api.iterativePrune({
      criterion: 'taylor',
      heads: 0.25,
      ffn: 0.25,
      rounds: 2,
      recovery: 'distill',
      training: { steps: 2, learningRate: 1e-4, batchSize: 2 },
      finalSteps: 1,
      perplexity,
    });
    expect(res.rounds.slice(1).map((r) => r.curve?.length)).toEqual([2, 2, 1]);
    expect(res.rounds[3]!.final).toBe(true);
    expect(res.applied.training).toMatchObject({ steps: 5, learningRate: 1e-4 });
    expect(Math.abs(res.perplexity.perplexity / res.rounds[3]!.perplexity - 1)).toBeLessThan(1e-3);
    const bundle = await api.exportModel();
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
  }, 300_000);
});
