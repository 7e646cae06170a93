/**
 * Recovery training of an image classifier (tiny random ViT fixture) in onnxruntime-node. The float64
 * reference ViT forward (test-util/forward.ts, independent of the graph builder) is first checked
 * against the PyTorch golden logits; then the image distillation graph's loss, its parts and its
 * gradients w.r.t. every linear kind, on the full-size model with masks and on a sliced model,
 * against the reference and central finite differences of lm · CE + kl · (logsumexp(z) − Σ p z).
 * Then api.recover: the training loss falls, and the result's masked full-size model equals the
 * applied (sliced) one, removed units untouched (also with removed hidden channels).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import type { ModelIR } from '../core/ir';
import { emptyPlan, type PruningPlan } from '../core/plan';
import type { Feeds } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { allWeightFeeds, linearWeight } from '../graph/grad/loss';
import { layerKinds } from '../prune/distill';
import { planMasks } from '../prune/masks';
import { sliceModel } from '../prune/slice';
import { createNodeRunner } from '../runtime/ort-node';
import { logProb, referenceVitForward, type ForwardMasks } from '../test-util/forward';
import { floats } from '../test-util/graph-run';
import { seededRandom } from '../test-util/random-ir';
import { createStudioApi } from './studio';
import type { ImageDataset } from './types';

interface Golden {
  pixel_values: number[][][][];
  labels: number[];
  logits: Record<string, number[][]>;
}
const golden = JSON.parse(readFileSync('fixtures/golden/vit.json', 'utf8')) as Golden;
const runner = createNodeRunner({ threads: 1 });
const MIX = { lm: 0.6, kl: 1.4 };
const PER = 2 * 8 * 8;

function images(n: number, seed: number): ImageDataset {
  const rnd = seededRandom(seed);
  return {
    images: Float32Array.from({ length: n * PER }, () => rnd() * 2 - 1),
    count: n,
    channels: 2,
    height: 8,
    width: 8,
    labels: Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % 3),
    description: `random images ${seed}`,
  };
}

async function loadTiny() {
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
  await api.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/vit-tiny' });
  return api;
}

/** Teacher distributions [n, 3] (softmax of random logits). */
function teacherOf(n: number): Float32Array {
  const rnd = seededRandom(11);
  const p = new Float32Array(n * 3);
  for (let r = 0; r < n; r++) {
    const e = [0, 1, 2].map(() => Math.exp(3 * (rnd() * 2 - 1)));
    const s = e[0]! + e[1]! + e[2]!;
    e.forEach((v, i) => (p[r * 3 + i] = v / s));
  }
  return p;
}

/** Float64 reference of the weighted means of CE and cross-entropy to the teacher, and the mixed loss. */
function reference(ir: ModelIR, ds: ImageDataset, teacher: Float32Array, m: ForwardMasks) {
  let [nll, cross] = [0, 0];
  for (let i = 0; i < ds.count; i++) {
    const z = referenceVitForward(ir, ds.images.subarray(i * PER, (i + 1) * PER), m);
    nll -= logProb(z, ds.labels[i]!);
    for (let k = 0; k < 3; k++) cross -= teacher[i * 3 + k]! * logProb(z, k);
  }
  const n = ds.count;
  return { lm: nll / n, cross: cross / n, loss: (MIX.lm * nll + MIX.kl * cross) / n };
}

function maskFeedsOf(ir: ModelIR, m: { heads: Float32Array; ffn: Float32Array; layers: Float32Array }): Feeds {
  const L = ir.layers.length;
  return {
    head_mask: { type: 'float32', dims: [L, ir.layers[0]!.numHeads], data: m.heads },
    ffn_mask: { type: 'float32', dims: [L, ir.layers[0]!.ffnSize], data: m.ffn },
    layer_mask: { type: 'float32', dims: [L], data: m.layers },
  };
}

function normRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let [worst, scale] = [0, 0];
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return worst / scale;
}

function plan(ir: ModelIR, hidden: number[] = []): PruningPlan {
  const p = emptyPlan(ir, 'test plan');
  p.layers[0] = { ...p.layers[0]!, removedHeads: [1], removedFfn: [0, 2, 5, 9, 13] };
  p.layers[1] = { ...p.layers[1]!, removedHeads: [], removedFfn: [1, 3, 4] };
  if (hidden.length) p.removedHidden = hidden;
  return p;
}

/** The distillation graph's loss and gradients vs the float64 reference (masked full-size, or sliced without masks). */
async function checkGradients(ir: ModelIR, masks?: ReturnType<typeof planMasks>) {
  const ds = images(3, 5);
  const teacher = teacherOf(ds.count);
  const session = await runner.open(
    buildOnnx(ir, { masks: !!masks, logits: false, weightInputs: 'all', gradients: { weights: true }, distill: MIX }),
  );
  const out = await session.run({
    ...(masks ? maskFeedsOf(ir, masks) : {}),
    ...allWeightFeeds(ir),
    pixel_values: { type: 'float32', dims: [ds.count, 2, 8, 8], data: ds.images },
    labels: { type: 'int64', dims: [ds.count], data: BigInt64Array.from(Array.from(ds.labels, BigInt)) },
    loss_weights: { type: 'float32', dims: [ds.count], data: new Float32Array(ds.count).fill(1) },
    teacher_probs: { type: 'float32', dims: [ds.count, 3], data: teacher },
  });
  await session.release();
  const fm: ForwardMasks = masks ? { head: masks.heads, ffn: masks.ffn, layer: masks.layers } : {};
  const ref = reference(ir, ds, teacher, fm);
  expect(floats(out.loss)[0]).toBeCloseTo(ref.loss, 4);
  expect(floats(out['loss.lm'])[0]).toBeCloseTo(ref.lm, 4);
  expect(floats(out['loss.cross'])[0]).toBeCloseTo(ref.cross, 4);
  for (let l = 0; l < ir.layers.length; l++) {
    for (const kind of layerKinds(ir, l)) {
      const data = linearWeight(ir, kind, l).data;
      const g = floats(out[`grad.${kind}.${l}`]);
      expect(g.length, `grad.${kind}.${l}`).toBe(data.length);
      const picks = [0, 3, 11, Math.floor(data.length / 2), data.length - 1];
      const fd = picks.map((i) => {
        const orig = data[i]!;
        data[i] = orig + 1e-3;
        const hi = data[i]!;
        const up = reference(ir, ds, teacher, fm).loss;
        data[i] = orig - 1e-3;
        const lo = data[i]!;
        const down = reference(ir, ds, teacher, fm).loss;
        data[i] = orig;
        return (up - down) / (hi - lo);
      });
      expect(
        normRelError(
          picks.map((i) => g[i]!),
          fd,
        ),
        `grad.${kind}.${l}`,
      ).toBeLessThan(1e-3);
    }
  }
}

describe('image distillation graph vs float64 finite differences', () => {
  it('the float64 reference ViT reproduces the PyTorch golden logits', async () => {
    const ir = (await loadTiny()).state.loaded!.ir;
    golden.pixel_values.forEach((img, i) => {
      const z = referenceVitForward(ir, img.flat(2));
      z.forEach((v, k) => expect(v).toBeCloseTo(golden.logits.dense![i]![k]!, 4));
    });
  });

  it('full-size model with masks: loss, parts and gradients of every linear kind', async () => {
    const ir = (await loadTiny()).state.loaded!.ir;
    await checkGradients(ir, planMasks(plan(ir)));
  });

  it('sliced model (one head and some neurons removed, no masks): what recovery trains', async () => {
    const ir = (await loadTiny()).state.loaded!.ir;
    await checkGradients(sliceModel(ir, plan(ir, [2, 9])));
  });
});

describe('api.recover on an image classifier', () => {
  it.each([
    ['heads and neurons', []],
    ['heads, neurons and hidden channels', [2, 9]],
  ])('trains the applied model (%s): loss falls, masked full-size = sliced, removed units untouched', async (_, hidden) => {
    const api = await loadTiny();
    const m = api.state.loaded!;
    const train = images(48, 3);
    const evalSet = images(16, 4);
    const p = plan(m.ir, hidden as number[]);
    await api.applyPlan({ plan: p, compensation: 'none' });
    const before = m.pruned!.compensatedIr!;
    const steps: number[] = [];
    const res = await api.recover(
      {
        steps: 30,
        learningRate: 1e-2,
        batchSize: 16,
        images: { training: train, validation: evalSet, validateEvery: 10, evaluation: evalSet },
      },
      { onProgress: (e) => e.stage === 'recovery' && e.done > 0 && steps.push(e.done) },
    );
    expect(steps).toHaveLength(30);
    expect(res.perplexity).toBeUndefined();
    expect(res.validation!.map((v) => v.step)).toEqual([0, 10, 20, 30]);
    expect(res.accuracy!.images).toBe(16);
    // each of the 3 minibatches is seen 10 times: compare the same minibatch's loss across epochs
    expect(res.curve[27]!.loss).toBeLessThan(res.curve[0]!.loss * 0.9);
    expect(res.applied.training).toMatchObject({ steps: 30, learningRate: 1e-2, samples: 48 });
    // the installed applied model is the trained one: its loss on the evaluation images = the last validation point (same images)
    expect(res.accuracy!.meanLoss).toBeCloseTo(res.validation!.at(-1)!.meanLoss, 5);
    expect(res.accuracy!.meanLoss).not.toBeCloseTo(res.validation![0]!.meanLoss, 3);
    const pr = m.pruned!;
    // re-slicing the trained full-size model gives exactly the applied model's linear weights
    const resliced = sliceModel(pr.compensatedIr!, p);
    pr.ir.layers.forEach((_, l) => {
      for (const kind of layerKinds(pr.ir, l)) expect(linearWeight(resliced, kind, l).data).toEqual(linearWeight(pr.ir, kind, l).data);
    });
    // removed units kept their values: layer 0 head 1 (q rows 8..15 with head_dim 8) and FFN neuron 0 (up row 0)
    const dh = m.ir.spec.headDim;
    const d = m.ir.spec.hiddenSize;
    const q0 = (ir: ModelIR) => linearWeight(ir, 'q', 0).data.subarray(dh * d, 2 * dh * d);
    expect(q0(pr.compensatedIr!)).toEqual(q0(before));
    expect(linearWeight(pr.compensatedIr!, 'up', 0).data.subarray(0, d)).toEqual(linearWeight(before, 'up', 0).data.subarray(0, d));
    expect(linearWeight(pr.compensatedIr!, 'up', 0).data.subarray(d, 2 * d)).not.toEqual(
      linearWeight(before, 'up', 0).data.subarray(d, 2 * d),
    );
    // the masked full-size model computes what the sliced one does (masks cannot express hidden channels)
    if (!hidden.length) {
      const feeds = { pixel_values: { type: 'float32' as const, dims: [evalSet.count, 2, 8, 8], data: evalSet.images } };
      const masked = await runner.open(buildOnnx(pr.compensatedIr!, { masks: true }));
      const sliced = await runner.open(buildOnnx(pr.ir, {}));
      const a = floats((await masked.run({ ...feeds, ...maskFeedsOf(pr.compensatedIr!, planMasks(p)) })).logits);
      const b = floats((await sliced.run(feeds)).logits);
      await masked.release();
      await sliced.release();
      expect(normRelError(a, b)).toBeLessThan(1e-5);
    }
  });

  it('needs training images and honours cancel', async () => {
    const api = await loadTiny();
    const m = api.state.loaded!;
    await api.applyPlan({ plan: plan(m.ir), compensation: 'none' });
    await expect(api.recover({ steps: 2 })).rejects.toThrow(/training images/);
    const ac = new AbortController();
    ac.abort();
    await expect(api.recover({ steps: 2, images: { training: images(8, 1) } }, { signal: ac.signal })).rejects.toThrow(/cancel|abort/i);
  });
});
