/**
 * The api's memory checks before a step allocates (api/memory.ts checkStep, core/memory-model.ts),
 * each on a fresh engine with the demo model and a test budget: export counts the calibration
 * statistics still held, apply checks the pruning phase (expanded Hessian, the pruned copy and the
 * applied model it replaces), generation names a number of tokens that fits. The budget is set from
 * the estimate the api itself reports for the step next, so each refusal is at the exact boundary.
 */
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { ModelTooLargeError } from '../core/errors';
import type { MemoryBudget } from '../io/memory-budget';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import { createStudioApi } from './studio';

const runner = createNodeRunner({ threads: 1 });
let budget: MemoryBudget | undefined;
let api: ReturnType<typeof createStudioApi>;

beforeEach(() => {
  budget = undefined;
  api = createStudioApi({ runner, demoUrl: '', openDir: dirSource, memoryBudget: () => budget });
});

async function loadDemo(): Promise<void> {
  const demo = await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  expect([demo.layers.length, demo.spec.hiddenSize, demo.spec.vocabSize]).toEqual([4, 256, 4096]);
}

/** The demo calibrated 8 x 64 with Hessians, scored by `criterion` and pruned 50% (heads + FFN) with `compensation`. */
async function calibratedAndApplied(criterion: 'magnitude' | 'obs', compensation: 'none' | 'obs') {
  await loadDemo();
  const text = readFileSync('public/data/calibration.txt', 'utf8');
  const calibration = { samples: 8, seq: 64, withHessians: true };
  await api.calibrate({ text, textName: 'calibration.txt', ...calibration });
  await api.computeImportance(criterion);
  const plan = await api.allocatePlan({ criterion, allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
  const applied = await api.applyPlan({ plan, compensation });
  return { calibration, plan, applied, prunedFraction: 1 - applied.parameters / applied.denseCost.parameters };
}

describe('memory checks before a step', () => {
  it('export counts the calibration statistics still held: refused when only they push it over the budget', async () => {
    const { calibration, prunedFraction } = await calibratedAndApplied('magnitude', 'none');
    const exportBytes = async (req: Parameters<typeof api.estimateMemory>[0]) =>
      (await api.estimateMemory(req)).estimate.phases.find((p) => p.phase === 'export')!.bytes;
    // what the export step itself needs next (nextStep: as its own check counts it)
    const without = await exportBytes({ prunedFraction, nextStep: true });
    const withStats = await exportBytes({ prunedFraction, calibration, nextStep: true });
    expect(withStats).toBeGreaterThan(without);
    budget = { bytes: Math.round((without + withStats) / 2), source: 'test' };
    try {
      const e = await api.exportModel().then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ModelTooLargeError);
      expect((e as Error).message).toMatch(/export needs about .+, but only about .+ is available \(test\)/);
      expect((e as ModelTooLargeError).neededBytes).toBe(withStats);
    } finally {
      budget = undefined;
    }
  });

  it('apply is refused before it prunes when the pruning phase (expanded Hessian + pruned copy) does not fit', async () => {
    const { calibration, plan, applied, prunedFraction } = await calibratedAndApplied('obs', 'obs');
    // the applied model just made is held until the next apply replaces it
    const report = await api.estimateMemory({ prunedFraction, calibration, nextStep: true, heldPrunedFraction: prunedFraction });
    expect(report.estimate.parts.find((p) => p.name === 'heldPrunedIr')?.bytes).toBe(applied.parameters * 4);
    const needed = report.estimate.phases.find((p) => p.phase === 'pruning')!.bytes;
    expect(report.estimate.parts.find((p) => p.name === 'hessianExpansion')?.phases).toEqual(['pruning']);
    budget = { bytes: needed - 1, source: 'test' };
    try {
      const e = await api.applyPlan({ plan, compensation: 'obs' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ModelTooLargeError);
      expect((e as Error).message).toMatch(/pruning needs about .+, but only about .+ is available \(test\)/);
      expect((e as ModelTooLargeError).neededBytes).toBe(needed);
      budget = { bytes: needed, source: 'test' };
      await expect(api.applyPlan({ plan, compensation: 'obs' })).resolves.toMatchObject({ parameters: applied.parameters });
    } finally {
      budget = undefined;
    }
  });

  it('generation that would not fit is refused before it runs, with the numbers and a number of tokens that fits', async () => {
    // a fresh engine (each test's): no wasm heap left by earlier steps (which fewer tokens could not shrink)
    await loadDemo();
    const prompt = 'The old man';
    const tokens = 200;
    const planned = await api.estimateMemory({ generation: { tokens }, nextStep: true });
    const bytes = planned.estimate.phases.find((p) => p.phase === 'generation')!.bytes;
    budget = { bytes: bytes - 1, source: 'test' };
    try {
      const e = await api.generate({ target: 'dense', prompt, maxNewTokens: tokens, temperature: 0, topK: 0, seed: 1 }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ModelTooLargeError);
      expect((e as Error).message).toMatch(/^\S+ does not fit: generation needs about .+, but only about .+ is available \(test\)/);
      // the plan counts the prompt's tokens as well: at least the estimate of the new tokens alone
      expect((e as ModelTooLargeError).neededBytes).toBeGreaterThanOrEqual(bytes);
      expect((e as ModelTooLargeError).availableBytes).toBe(bytes - 1);
      expect((e as ModelTooLargeError).hint).toMatch(/^Generation of at most \d+ tokens would fit/);
    } finally {
      budget = undefined;
    }
  });
});
