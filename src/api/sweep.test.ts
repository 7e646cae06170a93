/**
 * api.sweep on the demo model: fraction 0 is the dense perplexity on the same tokens; a point equals
 * the masked preview of the same plan built through allocatePlan, and the applied model without
 * compensation (so "estimate" means only fewer tokens); curves rise with the fraction; random series
 * are seeded; points stream in order; a cancelled sweep stops; with bias compensation a point is the
 * applied (compensated, sliced) model on the same tokens.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from './studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { CancelledError } from '../core/errors';
import { DEMO_DIR } from '../test-util/golden';
import { randomScores, sweepPlan } from './sweep';
import type { SweepPoint } from './types';

const api = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
const perplexity = {
  text: readFileSync('public/data/evaluation.txt', 'utf8'),
  textName: 'evaluation.txt',
  contextLength: 128,
  stride: 64,
  maxTokens: 512,
};

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  await api.computeImportance('magnitude');
}, 300_000);

describe('sweep', () => {
  it('fraction 0 is the dense perplexity on the same tokens; perplexity rises with the fraction', async () => {
    const dense = await api.evaluatePerplexity(perplexity);
    const res = await api.sweep({ series: [{ criterion: 'magnitude' }], fractions: [0, 0.3, 0.6, 0.9], perplexity });
    const ppl = res.points.map((p) => p.perplexity);
    expect(ppl[0]).toBeCloseTo(dense.perplexity, 6);
    expect(res.points[0]!.tokens).toBe(dense.protocol.tokensScored);
    for (let i = 1; i < ppl.length; i++) expect(ppl[i]!).toBeGreaterThan(ppl[i - 1]!);
    expect(res.points.every((p) => p.kind === 'estimate')).toBe(true);
  }, 120_000);

  it('a point equals the masked preview of the plan allocatePlan builds and the applied model without compensation', async () => {
    const [point] = (await api.sweep({ series: [{ criterion: 'magnitude' }], fractions: [0.5], perplexity })).points;
    const plan = await api.allocatePlan({ criterion: 'magnitude', heads: 0.5, ffn: 0.5, layers: 0, allocation: 'uniform' });
    const preview = await api.previewPlan({ plan, perplexity });
    expect(point!.perplexity).toBeCloseTo(preview.perplexity, 6);
    await api.applyPlan({ plan, compensation: 'none' });
    const applied = await api.evaluatePerplexity({ ...perplexity, target: 'pruned' });
    expect(Math.abs(applied.perplexity / point!.perplexity - 1)).toBeLessThan(1e-3);
  }, 120_000);

  it('random series: the same seed gives the same plan, another seed another; points stream in order', async () => {
    const ir = api.state.loaded!.ir;
    const a = sweepPlan(ir, randomScores(ir, 1), 0.5, 'both', 'uniform');
    expect(sweepPlan(ir, randomScores(ir, 1), 0.5, 'both', 'uniform').layers).toEqual(a.layers);
    expect(sweepPlan(ir, randomScores(ir, 2), 0.5, 'both', 'uniform').layers).not.toEqual(a.layers);
    const streamed: SweepPoint[] = [];
    const res = await api.sweep(
      { series: [{ random: 1 }, { random: 2 }], fractions: [0, 0.5], perplexity: { ...perplexity, maxTokens: 256 } },
      { onPoint: (p) => streamed.push(p) },
    );
    expect(streamed).toEqual(res.points);
    expect(streamed.map((p) => `${p.series}@${p.fraction}`)).toEqual(['random:1@0', 'random:1@0.5', 'random:2@0', 'random:2@0.5']);
    expect(res.points[0]!.perplexity).toBeCloseTo(res.points[2]!.perplexity, 6);
    expect(res.points[1]!.perplexity).not.toBeCloseTo(res.points[3]!.perplexity, 3);
  }, 120_000);

  it('stops when cancelled and refuses fractions outside [0, 1) and criteria not computed', async () => {
    const controller = new AbortController();
    const run = api.sweep(
      { series: [{ criterion: 'magnitude' }], fractions: [0, 0.1, 0.2, 0.3], perplexity },
      { onPoint: () => controller.abort(), signal: controller.signal },
    );
    await expect(run).rejects.toBeInstanceOf(CancelledError);
    await expect(api.sweep({ series: [{ criterion: 'magnitude' }], fractions: [1], perplexity })).rejects.toThrow(/\[0, 1\)/);
    await expect(api.sweep({ series: [{ criterion: 'wanda' }], fractions: [0], perplexity })).rejects.toThrow(/No wanda scores/);
  }, 120_000);

  it('with bias compensation every point is exact: the applied model with bias on the same tokens; refused before calibration', async () => {
    const req = { series: [{ criterion: 'magnitude' }], fractions: [0, 0.5], perplexity, compensation: 'bias' as const };
    await expect(api.sweep(req)).rejects.toThrow(/calibrat/i);
    const text = readFileSync('public/data/calibration.txt', 'utf8');
    await api.calibrate({ text, textName: 'calibration.txt', samples: 4, seq: 128, withHessians: false });
    await api.computeImportance('magnitude');
    const res = await api.sweep(req);
    expect(res.compensation).toBe('bias');
    expect(res.points.every((p) => p.kind === 'exact')).toBe(true);
    const dense = await api.evaluatePerplexity(perplexity);
    expect(Math.abs(res.points[0]!.perplexity / dense.perplexity - 1)).toBeLessThan(1e-4);
    const plan = await api.allocatePlan({ criterion: 'magnitude', heads: 0.5, ffn: 0.5, layers: 0, allocation: 'uniform' });
    await api.applyPlan({ plan, compensation: 'bias' });
    const applied = await api.evaluatePerplexity({ ...perplexity, target: 'pruned' });
    expect(Math.abs(applied.perplexity / res.points[1]!.perplexity - 1)).toBeLessThan(1e-4);
    const masked = (await api.sweep({ ...req, fractions: [0.5], compensation: 'none' })).points[0]!;
    expect(Math.abs(masked.perplexity / res.points[1]!.perplexity - 1)).toBeGreaterThan(1e-3);
  }, 300_000);
});
