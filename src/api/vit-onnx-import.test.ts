/**
 * ONNX import of a ViT graph the studio did not write: torch.onnx.export of the tiny ViT fixture
 * (tools/reference/vit_onnx_export.py: Conv patch embedding, Expand + Concat of the CLS token,
 * unscaled scores divided by sqrt(head_dim), LayerNormalization, CLS Gather, Gemm classifier)
 * loads with the fixture's geometry and class names, and its logits equal the independent PyTorch
 * reference's (fixtures/golden/vit.json) within 1e-4; pruning and exporting it works as for the
 * safetensors fixture.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { asFloat32, float32Tensor } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { createNodeRunner } from '../runtime/ort-node';
import { createStudioApi } from './studio';

const golden = JSON.parse(readFileSync('fixtures/golden/vit.json', 'utf8')) as {
  pixel_values: number[][][][];
  labels: number[];
  logits: Record<string, number[][]>;
};
const runner = createNodeRunner({ threads: 1 });
const pixels = Float32Array.from(golden.pixel_values.flat(3));

describe('ONNX import of a torch-exported ViT', () => {
  it('gives the reference logits, geometry and class names', async () => {
    const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    const summary = await api.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/vit-tiny-onnx' });
    const ir = api.state.loaded!.ir;
    expect(summary.spec.family).toBe('vit');
    expect(ir.spec.vision).toEqual({ imageSize: 8, patchSize: 4, numChannels: 2, labels: ['circle', 'square', 'stripe'] });
    expect(ir.layers).toEqual([
      { numHeads: 2, numKvHeads: 2, ffnSize: 32 },
      { numHeads: 2, numKvHeads: 2, ffnSize: 32 },
    ]);
    const s = await runner.open(buildOnnx(ir, { logits: true }));
    const got = asFloat32((await s.run({ pixel_values: float32Tensor(pixels, [3, 2, 8, 8]) }, ['logits'])).logits, 'logits');
    await s.release();
    const want = golden.logits.dense!.flat();
    let max = 0;
    want.forEach((w, i) => (max = Math.max(max, Math.abs(w - got[i]!))));
    expect(max).toBeLessThan(1e-4);

    const dataset = { images: pixels, count: 3, channels: 2, height: 8, width: 8, labels: Int32Array.from(golden.labels) };
    await api.calibrate({ text: '', textName: 'unused', samples: 3, seq: 0, withHessians: true, images: dataset });
    await api.computeImportance('wanda');
    const plan = await api.allocatePlan({ criterion: 'wanda', allocation: 'global', heads: 0.5, ffn: 0.5, layers: 0 });
    await api.applyPlan({ plan, compensation: 'obs' });
    const bundle = await api.exportModel({ format: 'onnx', dtype: 'fp32' });
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-4);
  });

  it('without config.json: geometry from the graph, classes named LABEL_i, the reference predictions', async () => {
    const api = createStudioApi({ runner, demoUrl: '' });
    const files = ['model.onnx', 'preprocessor_config.json'].map((f) => ({
      path: `vit/${f}`,
      file: new Blob([readFileSync(`fixtures/hub/tiny/vit-tiny-onnx/${f}`)]),
    }));
    await api.loadModel({ kind: 'files', files });
    const ir = api.state.loaded!.ir;
    expect(ir.spec.vision).toEqual({ imageSize: 8, patchSize: 4, numChannels: 2, labels: ['LABEL_0', 'LABEL_1', 'LABEL_2'] });
    const dataset = { images: pixels, count: 3, channels: 2, height: 8, width: 8, labels: Int32Array.from(golden.labels) };
    const r = await api.evaluateAccuracy({ dataset });
    const want = golden.logits.dense!.map((row) => row.indexOf(Math.max(...row)));
    expect(r.predictions).toEqual(want);
  });

  it("Prune Studio's own mean-pooled ViT graph imports with mean pooling and the reference's mean-pooling logits", async () => {
    const base = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    await base.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/vit-tiny' });
    const dense = base.state.loaded!.ir;
    const onnx = buildOnnx({ ...dense, spec: { ...dense.spec, pooling: 'mean' } }, { logits: true });
    const config = {
      ...JSON.parse(readFileSync('fixtures/hub/tiny/vit-tiny/config.json', 'utf8')),
      prune_studio: { attention_scale_folded: true },
    };
    const api = createStudioApi({ runner, demoUrl: '' });
    await api.loadModel({
      kind: 'files',
      files: [
        { path: 'vit/model.onnx', file: new Blob([onnx as BlobPart]) },
        { path: 'vit/config.json', file: new Blob([JSON.stringify(config)]) },
      ],
    });
    const ir = api.state.loaded!.ir;
    expect(ir.spec.pooling).toBe('mean');
    const s = await runner.open(buildOnnx(ir, { logits: true }));
    const got = asFloat32((await s.run({ pixel_values: float32Tensor(pixels, [3, 2, 8, 8]) }, ['logits'])).logits, 'logits');
    await s.release();
    let max = 0;
    golden.logits.mean_pooling!.flat().forEach((w, i) => (max = Math.max(max, Math.abs(w - got[i]!))));
    expect(max).toBeLessThan(1e-4);
  });
});
