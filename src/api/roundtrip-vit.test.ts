/**
 * Round trip of an image classifier's bundle (issue 16, item 7): the tiny ViT fixture, dense and
 * with 50% of heads and FFN neurons pruned (OBS, bias, none), exported as ONNX (pixel_values ->
 * logits) and safetensors, loads back into a fresh studio from the bundle's files with logits
 * within 1e-4 of the exporting session's applied model, the same predictions and mean loss, and
 * the bundle's README reports the accuracy the re-loaded model measures.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { emptyPlan } from '../core/plan';
import { asFloat32, float32Tensor } from '../core/runner';
import type { ModelIR } from '../core/ir';
import { buildOnnx } from '../graph/build';
import { dirSource } from '../cli/dir-source';
import { createNodeRunner } from '../runtime/ort-node';
import { createStudioApi } from './studio';
import type { Compensation, ExportBundle, ImageDataset } from './index';

const runner = createNodeRunner({ threads: 1 });
const golden = JSON.parse(readFileSync('fixtures/golden/vit.json', 'utf8')) as { pixel_values: number[][][][]; labels: number[] };

/** The 3 reference images and 13 more made from them (shifted, negated), with labels. */
function images(): ImageDataset {
  const base = Float32Array.from(golden.pixel_values.flat(3));
  const per = 128;
  const count = 16;
  const data = new Float32Array(count * per);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const src = n % 3;
    for (let i = 0; i < per; i++) data[n * per + i] = base[src * per + ((i + 7 * Math.floor(n / 3)) % per)]! * (n % 2 ? -1 : 1);
    labels[n] = n < 3 ? golden.labels[n]! : (n * 7) % 3;
  }
  return { images: data, count, channels: 2, height: 8, width: 8, labels, description: 'reference images, shifted' };
}

const dataset = images();

async function logitsOf(ir: ModelIR): Promise<Float32Array> {
  const s = await runner.open(buildOnnx(ir, { logits: true }));
  try {
    const out = await s.run({ pixel_values: float32Tensor(dataset.images, [dataset.count, 2, 8, 8]) }, ['logits']);
    return asFloat32(out.logits, 'logits');
  } finally {
    await s.release();
  }
}

function text(bundle: ExportBundle, name: string): string {
  const f = bundle.files.find((x) => x.name === name);
  expect(f, name).toBeDefined();
  return new TextDecoder().decode(f!.bytes);
}

async function prepared(compensation: Compensation | 'dense'): Promise<ReturnType<typeof createStudioApi>> {
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
  await api.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/vit-tiny' });
  await api.evaluateAccuracy({ dataset });
  if (compensation === 'dense') {
    await api.applyPlan({ plan: emptyPlan(api.state.loaded!.ir, 'dense'), compensation: 'none' });
  } else {
    await api.calibrate({ text: '', textName: 'unused', samples: 8, seq: 0, withHessians: true, images: dataset });
    await api.computeImportance('wanda');
    const plan = await api.allocatePlan({ criterion: 'wanda', allocation: 'global', heads: 0.5, ffn: 0.5, layers: 0 });
    await api.applyPlan({ plan, compensation });
  }
  return api;
}

describe('ViT bundle round trip', () => {
  it.each([
    ['dense', 'onnx'],
    ['obs', 'onnx'],
    ['bias', 'onnx'],
    ['none', 'onnx'],
    ['dense', 'safetensors'],
    ['obs', 'safetensors'],
  ] as const)('%s as %s loads back with the same logits, predictions and README accuracy', async (compensation, format) => {
    const api = await prepared(compensation);
    const session = await api.evaluateAccuracy({ dataset, target: 'pruned' });
    const bundle = await api.exportModel({ format, dtype: 'fp32' });
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-4);
    const names = bundle.files.map((f) => f.name);
    expect(names).toEqual(expect.arrayContaining(['config.json', 'preprocessor_config.json', 'plan.json', 'README.md']));
    expect(names).not.toContain('tokenizer.json');
    const config = JSON.parse(text(bundle, 'config.json')) as { model_type: string; prune_studio: { layers: unknown[] } };
    expect(config.model_type).toBe('vit');
    expect(config.prune_studio.layers).toHaveLength(2);
    if (format === 'onnx') expect(names[0]).toBe('onnx/model.onnx');

    const fresh = createStudioApi({ runner, demoUrl: '' });
    const files = bundle.files.map((f) => ({ path: `bundle/${f.name}`, file: new Blob([f.bytes as BlobPart]) }));
    await fresh.loadModel({ kind: 'files', files });
    const reloaded = await fresh.evaluateAccuracy({ dataset });
    expect(fresh.state.loaded!.ir.spec.vision?.labels).toEqual(['circle', 'square', 'stripe']);
    expect(fresh.state.loaded!.ir.layers).toEqual(api.state.loaded!.pruned!.ir.layers);
    if (compensation !== 'dense') expect(fresh.state.loaded!.ir.layers.reduce((n, l) => n + l.numHeads, 0)).toBe(2);
    expect(reloaded.predictions).toEqual(session.predictions);
    expect(reloaded.correct).toBe(session.correct);
    expect(Math.abs(reloaded.meanLoss - session.meanLoss)).toBeLessThan(1e-4);

    const a = await logitsOf(api.state.loaded!.pruned!.ir);
    const b = await logitsOf(fresh.state.loaded!.ir);
    expect(b.length).toBe(a.length);
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
    expect(max).toBeLessThan(1e-4);

    const readme = text(bundle, 'README.md');
    const pct = `${(100 * reloaded.accuracy).toFixed(2)}%`;
    expect(readme).toContain(`- pruned: **${pct}**`);
    if (format === 'onnx')
      expect(readme).toMatch(
        new RegExp(
          `itself, measured after writing on the same images: \\*\\*${pct.replace('.', '\\.')}\\*\\*.*mean loss ${reloaded.meanLoss.toFixed(4)}`,
        ),
      );
  });
});
