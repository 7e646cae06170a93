/**
 * ViT family: the tiny random ViT fixture (fixtures/hub/tiny/vit-tiny) loads through the real
 * loader and its graph reproduces the independent PyTorch reference (tools/reference/vit_reference.py,
 * written from the Hugging Face ViT definition; fixtures/golden/vit.json) in onnxruntime-node: dense,
 * head mask, FFN mask, both, mean pooling, per-image loss and uint8 images through the preprocessor, with weights embedded or fed as inputs;
 * mask gradients agree with finite differences of the same graph; names and config round-trip.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import type { ModelIR } from '../core/ir';
import { float32Tensor, int64Tensor, type Feeds } from '../core/runner';
import { weightFeeds } from '../graph/weight-inputs';
import type { GraphOptions } from '../graph/options';
import { imageBatch } from '../eval/image-dataset';
import { preprocessImages, readPreprocessor } from '../io/image-preprocess';
import { createNodeRunner } from '../runtime/ort-node';
import { floats, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { fixtureDir } from '../test-util/model-fixtures';
import { normalizeConfig } from './config';
import { loadModelIR } from './load';
import { vitAdapter } from './vit';

interface VitGolden {
  pixel_values: number[][][][];
  labels: number[];
  head_mask: number[][];
  ffn_mask: number[][];
  logits: Record<'dense' | 'head_mask' | 'ffn_mask' | 'both_masks' | 'mean_pooling', number[][]>;
  nll: number[];
  uint8: { images_hwc: number[][][][]; pixel_values: number[][][][]; logits: number[][] };
}

const runner = createNodeRunner({ threads: 1 });
const golden = JSON.parse(readFileSync('fixtures/golden/vit.json', 'utf8')) as VitGolden;
const TOL = 1e-4;
const load = async () => (await loadModelIR(dirSource(fixtureDir('tiny/vit-tiny')))).ir;

function pixelFeed(): Feeds {
  const p = golden.pixel_values;
  return { pixel_values: float32Tensor(Float32Array.from(p.flat(3)), [p.length, p[0]!.length, p[0]![0]!.length, p[0]![0]![0]!.length]) };
}

function maskFeed(ir: ModelIR, head?: number[][], ffn?: number[][]): Feeds {
  const L = ir.layers.length;
  const ones = (n: number) => new Float32Array(n).fill(1);
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  return {
    head_mask: float32Tensor(head ? Float32Array.from(head.flat()) : ones(L * H), [L, H]),
    ffn_mask: float32Tensor(ffn ? Float32Array.from(ffn.flat()) : ones(L * F), [L, F]),
    layer_mask: float32Tensor(ones(L), [L]),
  };
}

async function logits(ir: ModelIR, options: GraphOptions = {}, extra: Feeds = {}): Promise<Float32Array> {
  const feeds = { ...pixelFeed(), ...extra, ...(options.weights === 'inputs' ? weightFeeds(ir) : {}) };
  return floats((await runGraph(runner, ir, options, feeds)).logits);
}

describe('tiny ViT fixture vs the PyTorch reference', () => {
  it('reads the config: geometry, labels, structure', async () => {
    const ir = await load();
    expect(ir.spec).toMatchObject({ family: 'vit', modelType: 'vit', input: 'patches', head: 'classifier', attention: 'bidirectional' });
    expect(ir.spec).toMatchObject({ hiddenSize: 16, headDim: 8, vocabSize: 3, maxPositions: 5, activation: 'gelu', normEps: 1e-12 });
    expect(ir.spec.vision).toEqual({ imageSize: 8, patchSize: 4, numChannels: 2, labels: ['circle', 'square', 'stripe'] });
    expect(ir.layers).toEqual([
      { numHeads: 2, numKvHeads: 2, ffnSize: 32 },
      { numHeads: 2, numKvHeads: 2, ffnSize: 32 },
    ]);
    expect(ir.weights.tokenEmbedding).toBeUndefined();
  });

  it('dense logits [batch, labels], weights embedded and as inputs', async () => {
    const ir = await load();
    const want = golden.logits.dense.flat();
    expect(maxAbsDiff(await logits(ir), want)).toBeLessThan(TOL);
    expect(maxAbsDiff(await logits(ir, { weights: 'inputs' }), want)).toBeLessThan(TOL);
  });

  it.each([
    ['head_mask', true, false],
    ['ffn_mask', false, true],
    ['both_masks', true, true],
  ] as const)('masked logits: %s', async (key, head, ffn) => {
    const ir = await load();
    const feeds = maskFeed(ir, head ? golden.head_mask : undefined, ffn ? golden.ffn_mask : undefined);
    const want = golden.logits[key].flat();
    const dense = golden.logits.dense.flat();
    expect(maxAbsDiff(want, dense)).toBeGreaterThan(1e-2);
    expect(maxAbsDiff(await logits(ir, { masks: true }, feeds), want)).toBeLessThan(TOL);
    expect(maxAbsDiff(await logits(ir, { masks: true, weights: 'inputs' }, feeds), want)).toBeLessThan(TOL);
  });

  it('mean pooling over the patch tokens', async () => {
    const ir = await load();
    const mean = { ...ir, spec: { ...ir.spec, pooling: 'mean' as const } };
    expect(maxAbsDiff(await logits(mean), golden.logits.mean_pooling.flat())).toBeLessThan(TOL);
  });

  it('per-image cross-entropy (token_nll [batch]) and taps over 1 + patches positions', async () => {
    const ir = await load();
    const out = await runGraph(runner, ir, { tokenLoss: true, taps: true }, { ...pixelFeed(), labels: int64Tensor(golden.labels, [3]) });
    expect(out.token_nll?.dims).toEqual([3]);
    expect(maxAbsDiff(floats(out.token_nll), golden.nll)).toBeLessThan(TOL);
    expect(out['hidden.0']?.dims).toEqual([3, 5, 16]);
    expect(out['ffn_in.1']?.dims).toEqual([3, 5, 32]);
  });

  it('mask gradients of the per-image loss match central differences', async () => {
    const ir = await load();
    const labels = int64Tensor(golden.labels, [3]);
    const w = float32Tensor(Float32Array.from([1, 0.5, 2]), [3]);
    const base = maskFeed(ir, golden.head_mask);
    const out = await runGraph(
      runner,
      ir,
      { masks: true, gradients: { masks: true } },
      { ...pixelFeed(), ...base, labels, loss_weights: w },
    );
    const grad = floats(out['grad.head_mask']);
    const headMask = floats(base.head_mask);
    const lossAt = async (i: number, delta: number) => {
      const m = Float32Array.from(headMask);
      m[i] = m[i]! + delta;
      const feeds = { ...pixelFeed(), ...base, head_mask: float32Tensor(m, [2, 2]), labels, loss_weights: w };
      return floats((await runGraph(runner, ir, { masks: true, gradients: { masks: true } }, feeds)).loss)[0]!;
    };
    const eps = 1e-2;
    for (const i of [0, 1, 3]) {
      const fd = ((await lossAt(i, eps)) - (await lossAt(i, -eps))) / (2 * eps);
      expect(Math.abs(fd - grad[i]!)).toBeLessThan(2e-3 * Math.max(1, Math.abs(fd)));
    }
    expect(Math.abs(grad[0]!)).toBeGreaterThan(1e-3);
  });
});

describe('uint8 images through preprocessor_config.json', () => {
  it('give the reference pixel_values and logits', async () => {
    const ir = await load();
    const prep = readPreprocessor(
      JSON.parse(readFileSync(`${fixtureDir('tiny/vit-tiny')}/preprocessor_config.json`, 'utf8')),
      ir.spec.vision!,
    );
    const u8 = golden.uint8;
    const ds = preprocessImages(
      {
        pixels: Uint8Array.from(u8.images_hwc.flat(3)),
        count: u8.images_hwc.length,
        height: 8,
        width: 8,
        sourceChannels: 2,
        labels: [0, 1],
      },
      prep,
    );
    expect(maxAbsDiff(ds.images, u8.pixel_values.flat(3))).toBeLessThan(1e-5);
    const batch = imageBatch(ds, 0, ds.count);
    const out = await runGraph(runner, ir, {}, { pixel_values: float32Tensor(batch.data, batch.dims) });
    expect(maxAbsDiff(floats(out.logits), u8.logits.flat())).toBeLessThan(TOL);
  });
});

describe('vit adapter mapping', () => {
  it('round-trips HF names and config.json', async () => {
    const ir = await load();
    const tensors = vitAdapter.toTensors(ir);
    expect(tensors['vit.embeddings.cls_token']?.shape).toEqual([1, 1, 16]);
    expect(tensors['vit.embeddings.position_embeddings']?.shape).toEqual([1, 5, 16]);
    expect(tensors['vit.encoder.layer.1.attention.attention.value.bias']?.shape).toEqual([16]);
    const back = vitAdapter.fromTensors(ir.spec, ir.layers, (n) => tensors[n], ir.name);
    expect(back.weights).toEqual(ir.weights);
    const again = normalizeConfig(vitAdapter.writeConfig(ir));
    expect(again.spec).toEqual(ir.spec);
    expect(again.layers).toEqual(ir.layers);
  });

  it('refuses what it cannot build, by name', () => {
    const base = JSON.parse(readFileSync(`${fixtureDir('tiny/vit-tiny')}/config.json`, 'utf8')) as Record<string, unknown>;
    expect(() => normalizeConfig({ ...base, patch_size: 3 })).toThrow(/not a multiple of patch_size/);
    expect(() => normalizeConfig({ ...base, use_mask_token: true })).toThrow(/mask token/);
    expect(() => normalizeConfig({ ...base, num_labels: 5 })).toThrow(/disagrees with id2label/);
    const { id2label: _unused, label2id: _alsoUnused, ...noLabels } = base;
    expect(normalizeConfig({ ...noLabels, num_labels: 4 }).spec.vision?.labels).toEqual(['LABEL_0', 'LABEL_1', 'LABEL_2', 'LABEL_3']);
  });
});
