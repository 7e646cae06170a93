/**
 * The shipped demo ViT (public/models/demo-vit, Fashion-MNIST) through the api from its local folder,
 * on the shipped 500 test images (public/data/fashion-mnist-test-500.*), against the independent
 * float64 reference (tools/vit/make_demo_vit_golden.py -> fixtures/golden/demo-vit-reference.json):
 * logits of the first 16 images, the prediction of every image, accuracy, interval, confusion, loss;
 * and the FLOPs target and latency comparison on a ViT (image feeds).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { asFloat32, float32Tensor, int64Tensor } from '../core/runner';
import { imageBatch } from '../eval/image-dataset';
import { rawImagesFromImageSet } from '../io/image-set';
import { createNodeRunner } from '../runtime/ort-node';
import { denseFeeds } from './evaluation';
import { createStudioApi } from './studio';
import type { ImageDataset } from './types';

interface Metrics {
  count: number;
  correct: number;
  top1: number;
  top1_ci95_wilson: [number, number];
  mean_loss: number;
  confusion: number[][];
}
interface Reference {
  labels: number[];
  logits: number[][];
  subset_predictions: number[];
  subset: Metrics;
}

const reference = JSON.parse(readFileSync('fixtures/golden/demo-vit-reference.json', 'utf8')) as Reference;
const api = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
let dataset: ImageDataset;

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: 'public/models/demo-vit' });
  const manifest = JSON.parse(readFileSync('public/data/fashion-mnist-test-500.json', 'utf8')) as unknown;
  const bin = new Uint8Array(readFileSync('public/data/fashion-mnist-test-500.bin'));
  dataset = await api.prepareImages(rawImagesFromImageSet(manifest, bin, 'fashion-mnist-test-500'));
});

describe('the demo ViT on the shipped Fashion-MNIST test images', () => {
  it('gives the reference logits for the first 16 images (within 1e-4)', async () => {
    const m = api.state.loaded!;
    const batch = imageBatch(dataset, 0, 16);
    expect(Array.from(batch.labels)).toEqual(reference.labels);
    const feeds = { ...denseFeeds(m.ir), pixel_values: float32Tensor(batch.data, batch.dims) };
    if (m.evalSession.inputNames.includes('labels')) Object.assign(feeds, { labels: int64Tensor(batch.labels, [16]) });
    const logits = asFloat32((await m.evalSession.run(feeds, ['logits'])).logits, 'logits');
    expect(logits.length).toBe(16 * 10);
    let worst = 0;
    reference.logits.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(logits[i * 10 + j]! - v)))));
    expect(worst).toBeLessThan(1e-4);
  });

  it('predicts every one of the 500 images as the reference does, with its accuracy, interval and loss', async () => {
    const r = await api.evaluateAccuracy({ dataset, batchSize: 100 });
    const want = reference.subset;
    expect(r.images).toBe(want.count);
    expect(r.predictions).toEqual(reference.subset_predictions);
    expect(r.correct).toBe(want.correct);
    expect(r.accuracy).toBe(want.top1);
    expect(r.interval95[0]).toBeCloseTo(want.top1_ci95_wilson[0], 10);
    expect(r.interval95[1]).toBeCloseTo(want.top1_ci95_wilson[1], 10);
    expect(r.confusion).toEqual(want.confusion);
    expect(Math.abs(r.meanLoss - want.mean_loss)).toBeLessThan(1e-5);
    expect(r.labels[9]).toBe('Ankle boot');
  });

  it('takes the FLOPs target and times the dense and pruned classifiers (pixel_values feeds)', async () => {
    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({
      criterion: 'magnitude',
      allocation: 'uniform',
      heads: 0,
      ffn: 0,
      layers: 0,
      target: { metric: 'flops', fraction: 0.5 },
    });
    const applied = await api.applyPlan({ plan, compensation: 'none' });
    expect(Math.abs(1 - applied.cost.flops / applied.denseCost.flops - 0.5)).toBeLessThan(0.02);
    const c = await api.compareLatency({ batch: 2, seq: 1, warmup: 0, runs: 1 });
    expect(c.dense.samplesMs).toHaveLength(1);
    expect(c.pruned.samplesMs).toHaveLength(1);
    expect(Number.isFinite(c.speedup)).toBe(true);
  });
});
