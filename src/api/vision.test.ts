/**
 * The api with an image classifier (tiny random ViT fixture): load from a folder, the (fake) Hub and
 * picked files, preprocess uint8
 * images, accuracy of the dense model, of a plan's masks (live preview) and of the applied (sliced)
 * model, each against the metrics of the independent PyTorch reference's logits
 * (fixtures/golden/vit.json); text steps are refused by name.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { parameterCount } from '../core/ir';
import { emptyPlan, type PruningPlan } from '../core/plan';
import { classifierAccuracy } from '../eval/accuracy';
import { createNodeRunner } from '../runtime/ort-node';
import { createStudioApi } from './studio';
import { startFakeHub, type FakeHub } from '../test-util/fake-hub';
import type { ImageDataset, ModelSource } from './types';

interface Golden {
  nll: number[];
  pixel_values: number[][][][];
  labels: number[];
  logits: Record<string, number[][]>;
  uint8: { images_hwc: number[][][][]; logits: number[][] };
}

const golden = JSON.parse(readFileSync('fixtures/golden/vit.json', 'utf8')) as Golden;
const api = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
const dataset: ImageDataset = {
  images: Float32Array.from(golden.pixel_values.flat(3)),
  count: 3,
  channels: 2,
  height: 8,
  width: 8,
  labels: Int32Array.from(golden.labels),
  description: 'reference images',
};

function expectMetricsOf(r: Awaited<ReturnType<typeof api.evaluateAccuracy>>, logits: number[][], labels: number[]): void {
  const want = classifierAccuracy(logits.flat(), labels, 3);
  expect(r.predictions).toEqual(want.predictions);
  expect(r.correct).toBe(want.correct);
  expect(r.confusion).toEqual(want.confusion);
  expect(r.meanLoss).toBeCloseTo(want.meanLoss, 4);
}

/** The golden masks as a plan: heads (0, 1) and (1, 0), layer 0 neurons 0..9, layer 1 neurons 0, 3, 6, ... */
function goldenPlan(): PruningPlan {
  const summary = api.state.loaded!.ir;
  const plan = emptyPlan(summary, 'golden masks');
  plan.layers[0] = { ...plan.layers[0]!, removedHeads: [1], removedFfn: Array.from({ length: 10 }, (_, i) => i) };
  plan.layers[1] = { ...plan.layers[1]!, removedHeads: [0], removedFfn: Array.from({ length: 11 }, (_, i) => 3 * i) };
  return plan;
}

describe('the tiny ViT from every source', () => {
  const files = ['config.json', 'preprocessor_config.json', 'model.safetensors'];
  let hub: FakeHub;
  beforeAll(async () => {
    hub = await startFakeHub();
  });
  afterAll(async () => hub.close());

  it.each(['hub', 'files'] as const)('loads from %s (with a memory budget) and gives the reference metrics', async (kind) => {
    const a = createStudioApi({
      runner: createNodeRunner({ threads: 1 }),
      demoUrl: '',
      hubEndpoint: hub.url,
      memoryBudget: () => ({ bytes: 2 ** 30, source: 'test' }),
    });
    const source: ModelSource =
      kind === 'hub'
        ? { kind: 'hub', repo: 'tiny/vit-tiny' }
        : {
            kind: 'files',
            files: files.map((f) => ({ path: `vit-tiny/${f}`, file: new Blob([readFileSync(`fixtures/hub/tiny/vit-tiny/${f}`)]) })),
          };
    expect((await a.loadModel(source)).spec.vision?.labels).toEqual(['circle', 'square', 'stripe']);
    expectMetricsOf(await a.evaluateAccuracy({ dataset }), golden.logits.dense!, golden.labels);
  });
});

describe('api with the tiny ViT', () => {
  it('loads it and reports the accuracy of the dense model as its baseline metric', async () => {
    const summary = await api.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/vit-tiny' });
    expect(summary.spec.family).toBe('vit');
    expect(await api.baselineMetric()).toBeUndefined();
    const r = await api.evaluateAccuracy({ dataset, batchSize: 2 });
    expectMetricsOf(r, golden.logits.dense!, golden.labels);
    expect(r.images).toBe(3);
    expect(r.labels).toEqual(['circle', 'square', 'stripe']);
    expect(r.protocol).toMatchObject({ dataset: 'reference images', images: 3, batchSize: 2, target: 'dense', masked: false });
    expect(r.protocol.preprocessing).toMatch(/mean \[0\.5, 0\.25\], std \[0\.5, 0\.2\], 8 x 8 x 2/);
    expect(await api.baselineMetric()).toEqual({ kind: 'accuracy', result: r });
  });

  it('preprocesses uint8 images as preprocessor_config.json says', async () => {
    const images = golden.uint8.images_hwc;
    const ds = await api.prepareImages({
      pixels: Uint8Array.from(images.flat(3)),
      count: 2,
      height: 8,
      width: 8,
      sourceChannels: 2,
      labels: [2, 1],
    });
    const r = await api.evaluateAccuracy({ dataset: ds });
    expectMetricsOf(r, golden.uint8.logits, [2, 1]);
  });

  it('previews a plan with masks and evaluates the applied model', async () => {
    const plan = goldenPlan();
    const masked = await api.evaluateAccuracy({ dataset, plan });
    expectMetricsOf(masked, golden.logits.both_masks!, golden.labels);
    expect(masked.protocol.masked).toBe(true);
    await api.applyPlan({ plan, compensation: 'none' });
    const applied = await api.evaluateAccuracy({ dataset, target: 'pruned' });
    expectMetricsOf(applied, golden.logits.both_masks!, golden.labels);
    expect(api.state.loaded!.pruned!.ir.layers[1]).toEqual({ numHeads: 1, numKvHeads: 1, ffnSize: 21 });
    expect((await api.baselineMetric())?.kind).toBe('accuracy');
  });

  it('calibrates on images: the base loss is the reference mean cross-entropy, and every criterion scores', async () => {
    await api.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/vit-tiny' });
    const summary = await api.calibrate({ text: '', textName: 'unused', samples: 3, seq: 0, withHessians: true, images: dataset });
    const meanNll = golden.nll.reduce((a, b) => a + b, 0) / 3;
    expect(summary).toMatchObject({ textName: 'reference images', samples: 3, seq: 5, tokens: 15 });
    expect(Math.abs(summary.baseLoss - meanNll)).toBeLessThan(1e-4);
    for (const c of await api.criteria()) {
      const scores = await api.computeImportance(c.name);
      expect(scores.heads?.length ?? 4, c.name).toBe(4);
      for (const v of [...(scores.heads ?? []), ...(scores.ffn ?? [])]) expect(Number.isFinite(v), c.name).toBe(true);
    }
  });

  it.each(['none', 'bias', 'obs'] as const)(
    'allocates, applies with compensation %s and the sliced model matches its compensated masks',
    async (compensation) => {
      const plan = await api.allocatePlan({ criterion: 'wanda', allocation: 'global', heads: 0.5, ffn: 0.5, layers: 0 });
      expect(plan.layers.flatMap((l) => l.removedHeads)).toHaveLength(2);
      const applied = await api.applyPlan({ plan, compensation });
      expect(applied.parameters).toBeLessThan(parameterCount(api.state.loaded!.ir));
      const r = await api.evaluateAccuracy({ dataset, target: 'pruned' });
      expect(Number.isFinite(r.meanLoss)).toBe(true);
      if (compensation === 'none') {
        const masked = await api.evaluateAccuracy({ dataset, plan });
        expect(r.meanLoss).toBeCloseTo(masked.meanLoss, 5);
      }
    },
  );

  it('times the dense model on images (pixel_values of its own size)', async () => {
    const r = await api.measureLatency({ batch: 2, seq: 5, runs: 2, warmup: 1 });
    expect(r.samplesMs).toHaveLength(2);
    expect(r.samplesMs.every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
  });

  it('refuses text steps and mismatched images by name', async () => {
    await expect(api.evaluatePerplexity({ text: 'hello', textName: 't', contextLength: 8, stride: 4 })).rejects.toThrow(/image classifier/);
    await expect(api.evaluateAccuracy({ dataset: { ...dataset, channels: 1, images: dataset.images.subarray(0, 192) } })).rejects.toThrow(
      /model reads 2 x 8 x 8/,
    );
  });
});
