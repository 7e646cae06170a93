/**
 * StudioApi.slimGptPrune beyond the demo-model golden (src/prune/slimgpt.golden.test.ts): on the
 * tiny Llama with grouped-query attention, heads leave in whole kv groups and the incremental
 * schedule removes more in later layers; the result is the applied model and its export verifies;
 * progress and per-layer events stream; bad requests and a missing calibration are typed errors;
 * a cancelled run leaves the loaded model usable.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from './studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { fixtureDir } from '../test-util/model-fixtures';
import { DEMO_DIR } from '../test-util/golden';
import type { SlimGptLayerRecord } from '../prune/slimgpt';

const text = readFileSync('public/data/evaluation.txt', 'utf8');
const perplexity = { text, textName: 'evaluation.txt', contextLength: 64, stride: 32, maxTokens: 512 };
const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: fixtureDir('tiny/llama-gqa-bf16') });
}, 120_000);

describe('slimGptPrune', () => {
  it('needs calibration first', async () => {
    await expect(api.slimGptPrune({ heads: 0.5, ffn: 0.5, allocation: 'uniform', perplexity })).rejects.toMatchObject({
      name: 'InputError',
      hint: expect.stringMatching(/calibration/i),
    });
  });

  it('removes whole kv groups, more in later layers (incremental), and installs a verified model', async () => {
    await api.calibrate({ text, textName: 'evaluation.txt', samples: 4, seq: 32, withHessians: false });
    const layers: SlimGptLayerRecord[] = [];
    const stages = new Set<string>();
    const res = await api.slimGptPrune(
      { heads: 0.25, ffn: 0.5, allocation: 'incremental', perplexity },
      { onLayer: (l) => layers.push(l), onProgress: (p) => stages.add(p.stage) },
    );
    expect(layers.map((l) => l.layer)).toEqual([0, 1]);
    expect(stages).toContain('slimgpt');
    // 2 layers, 2 kv groups of 2 query heads: incremental 25% = ratios 0.1 / 0.4 -> 0 then 1 group
    expect(res.layers.map((l) => l.removedHeads.length)).toEqual([0, 2]);
    const removed = res.layers[1]!.removedHeads;
    expect([
      [0, 1],
      [2, 3],
    ]).toContainEqual(removed);
    // FFN 64 wide: incremental 50% = ratios 0.2 / 0.8 -> round(12.8) = 13 and round(51.2) = 51 channels
    expect(res.layers.map((l) => l.removedFfn.length)).toEqual([13, 51]);
    expect(res.applied.layers.map((l) => [l.numHeads, l.numKvHeads])).toEqual([
      [4, 2],
      [2, 1],
    ]);
    expect(res.applied.compensation).toBe('obs');
    expect(res.plan.derivation?.criterion).toBe('slimgpt');
    expect(Number.isFinite(res.perplexity.perplexity)).toBe(true);
    const bundle = await api.exportModel();
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
  }, 300_000);

  it('refuses targets outside [0, 1) and unknown allocations with typed errors', async () => {
    await expect(api.slimGptPrune({ heads: 1, ffn: 0.5, allocation: 'uniform', perplexity })).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/fractions in \[0, 1\)/),
    });
    await expect(api.slimGptPrune({ heads: 0.5, ffn: 0.5, allocation: 'global' as never, perplexity })).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringMatching(/uniform or incremental/),
    });
  });

  it('can be cancelled; the model stays usable', async () => {
    const controller = new AbortController();
    const run = api.slimGptPrune(
      { heads: 0.5, ffn: 0.5, allocation: 'uniform', perplexity },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    await expect(run).rejects.toMatchObject({ name: 'CancelledError' });
    const after = await api.evaluatePerplexity({ ...perplexity, target: 'dense' });
    expect(Number.isFinite(after.perplexity)).toBe(true);
  }, 120_000);
});

describe('slimGptPrune on the demo model', () => {
  it('keeps the exact per-layer counts of a uniform target', async () => {
    const demo = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
    await demo.loadModel({ kind: 'dir', path: DEMO_DIR });
    await demo.calibrate({ text, textName: 'evaluation.txt', samples: 2, seq: 64, withHessians: false });
    const res = await demo.slimGptPrune({ heads: 0.25, ffn: 0.25, allocation: 'uniform', perplexity, locked: [0] });
    expect(res.layers.map((l) => [l.removedHeads.length, l.removedFfn.length])).toEqual([
      [0, 0],
      [2, 256],
      [2, 256],
      [2, 256],
    ]);
    expect(res.applied.layers.map((l) => l.numHeads)).toEqual([8, 6, 6, 6]);
  }, 300_000);
});
