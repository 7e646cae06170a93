/**
 * The distillation gradient graph (weightInputs 'all', distill loss) of random GPT-2 and Llama
 * models in onnxruntime-node, against the float64 reference forward pass (src/test-util/forward.ts,
 * independent of the graph builder): the loss and its parts, and the gradients w.r.t. every linear
 * kind (q, k, v, o, gate, up, down) against central finite differences of the reference loss
 * lm · NLL + kl · (logsumexp(z) − Σ p z) under masks. Then Adam on the same graph (the recovery
 * trainer with a real engine) lowers the training loss.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../core/ir';
import type { Feeds } from '../../core/runner';
import { distillEngine } from '../../api/recovery';
import { distill, layerKinds } from '../../prune/distill';
import { createNodeRunner } from '../../runtime/ort-node';
import { logProb, referenceForward, type ForwardMasks } from '../../test-util/forward';
import { floats, idsFeed, nextTokenLabels, SAMPLE_IDS } from '../../test-util/graph-run';
import { randomIR, seededRandom } from '../../test-util/random-ir';
import { randomLlamaIR } from '../../test-util/random-llama';
import { buildOnnx } from '../build';
import { allWeightFeeds, linearWeight } from './loss';

const runner = createNodeRunner({ threads: 1 });
const B = SAMPLE_IDS.length;
const S = SAMPLE_IDS[0]!.length;
const W = Float32Array.from({ length: B * S }, (_, i) => (i % S === S - 1 ? 0 : 1));
const MIX = { lm: 0.4, kl: 1.3 };

/** Random teacher distributions [B*S, V] (softmax of random logits, scale 2). */
function teacherOf(V: number): Float32Array {
  const rnd = seededRandom(7);
  const p = new Float32Array(B * S * V);
  for (let r = 0; r < B * S; r++) {
    const z = Array.from({ length: V }, () => 2 * (rnd() * 2 - 1));
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    e.forEach((v, i) => (p[r * V + i] = v / s));
  }
  return p;
}

function masksOf(ir: ModelIR) {
  const L = ir.layers.length;
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  return {
    head: Float32Array.from({ length: L * H }, (_, i) => (i === 1 ? 0 : 1)),
    ffn: Float32Array.from({ length: L * F }, (_, i) => (i % 5 === 0 ? 0 : 1)),
    layer: new Float32Array(L).fill(1),
  };
}

/** The reference: weighted means of NLL and cross-entropy, and the mixed loss, in float64. */
function reference(ir: ModelIR, teacher: Float32Array, m: ForwardMasks) {
  const V = ir.spec.vocabSize;
  let [nll, cross, den] = [0, 0, 0];
  SAMPLE_IDS.forEach((row, b) => {
    const { logits } = referenceForward(ir, row, m);
    for (let t = 0; t < S; t++) {
      const w = W[b * S + t]!;
      if (w === 0) continue;
      const z = logits[t]!;
      nll += w * -logProb(z, row[t + 1] ?? 0);
      let c = 0;
      for (let v = 0; v < V; v++) c -= teacher[(b * S + t) * V + v]! * logProb(z, v);
      cross += w * c;
      den += w;
    }
  });
  return { lm: nll / den, cross: cross / den, loss: (MIX.lm * nll + MIX.kl * cross) / den };
}

function feedsOf(ir: ModelIR, teacher: Float32Array, m: ReturnType<typeof masksOf>): Feeds {
  const L = ir.layers.length;
  return {
    ...idsFeed(SAMPLE_IDS),
    ...nextTokenLabels(SAMPLE_IDS),
    ...allWeightFeeds(ir),
    loss_weights: { type: 'float32', dims: [B, S], data: W },
    teacher_probs: { type: 'float32', dims: [B, S, ir.spec.vocabSize], data: teacher },
    head_mask: { type: 'float32', dims: [L, ir.layers[0]!.numHeads], data: m.head },
    ffn_mask: { type: 'float32', dims: [L, ir.layers[0]!.ffnSize], data: m.ffn },
    layer_mask: { type: 'float32', dims: [L], data: m.layer },
  };
}

function normRelError(actual: readonly number[], expected: readonly number[]): number {
  let worst = 0;
  let scale = 0;
  expected.forEach((e, i) => {
    worst = Math.max(worst, Math.abs(actual[i]! - e));
    scale = Math.max(scale, Math.abs(e));
  });
  return worst / scale;
}

async function check(ir: ModelIR) {
  const teacher = teacherOf(ir.spec.vocabSize);
  const m = masksOf(ir);
  const fm: ForwardMasks = m;
  const session = await runner.open(
    buildOnnx(ir, { masks: true, logits: false, weightInputs: 'all', gradients: { weights: true }, distill: MIX }),
  );
  const out = await session.run(feedsOf(ir, teacher, m));
  await session.release();
  const ref = reference(ir, teacher, fm);
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
        const up = reference(ir, teacher, fm).loss;
        data[i] = orig - 1e-3;
        const lo = data[i]!;
        const down = reference(ir, teacher, fm).loss;
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

describe('distillation gradient graph vs float64 finite differences', () => {
  it('GPT-2 (fused q/k/v with the folded scale, up, masks)', () =>
    check(randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 })));

  it('Llama (GQA, RoPE, gated MLP)', () =>
    check(randomLlamaIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 2, headDim: 8, ffn: 24, vocab: 50 })));

  it('weight inputs of every kind only with weightInputs all; distillation only with gradients', async () => {
    const ir = randomIR();
    const o = await runner.open(buildOnnx(ir, { masks: true, logits: false, weightInputs: true, gradients: { weights: true } }));
    const all = await runner.open(buildOnnx(ir, { masks: true, logits: false, weightInputs: 'all', gradients: { weights: true } }));
    expect(o.inputNames.filter((n) => n.startsWith('weight.'))).toEqual(['weight.o.0', 'weight.down.0', 'weight.o.1', 'weight.down.1']);
    expect(all.outputNames).toContain('grad.q.1');
    expect(all.outputNames).toContain('grad.up.0');
    await o.release();
    await all.release();
    expect(() => buildOnnx(ir, { distill: MIX, tokenLoss: true })).toThrow(/gradients/);
  });
});

describe('recovery training (Adam) on the distillation graph', () => {
  it('lowers the training loss, and masked units never move', async () => {
    const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50, seed: 3 });
    const teacher = teacherOf(ir.spec.vocabSize);
    const m = masksOf(ir);
    const V = ir.spec.vocabSize;
    const session = await runner.open(
      buildOnnx(ir, { masks: true, logits: false, weightInputs: 'all', gradients: { weights: true }, distill: MIX }),
    );
    const set = { textName: 't', samples: B, seq: S, sequences: SAMPLE_IDS.map((r) => [...r]) };
    const probs = SAMPLE_IDS.map((_, b) => teacher.slice(b * S * V, (b + 1) * S * V));
    const engine = distillEngine(session, set, { probs, entropy: new Float64Array(B) }, B);
    const masks = { heads: m.head, ffn: m.ffn, layers: m.layer };
    const before = (await engine.step(ir, masks, 0)).loss;
    const { ir: trained, curve } = await distill(ir, masks, engine, { steps: 25, learningRate: 1e-2, schedule: 'constant' });
    const after = (await engine.step(trained, masks, 0)).loss;
    await session.release();
    expect(curve).toHaveLength(25);
    expect(curve[0]!.loss).toBeCloseTo(before, 5);
    expect(after).toBeLessThan(before * 0.97);
    // ffn neuron 0 of layer 0 is masked: its up row and down column are unchanged; head 1's o columns too.
    const F = ir.layers[0]!.ffnSize;
    const d = ir.spec.hiddenSize;
    const dh = ir.spec.headDim;
    for (let i = 0; i < d; i++) {
      expect(trained.weights.layers[0]!.up.weight.data[i]).toBe(ir.weights.layers[0]!.up.weight.data[i]);
      expect(trained.weights.layers[0]!.down.weight.data[i * F]).toBe(ir.weights.layers[0]!.down.weight.data[i * F]);
      for (let j = dh; j < 2 * dh; j++)
        expect(trained.weights.layers[0]!.o.weight.data[i * 4 * dh + j]).toBe(ir.weights.layers[0]!.o.weight.data[i * 4 * dh + j]);
    }
    expect(trained.weights.layers[0]!.up.weight.data[d]).not.toBe(ir.weights.layers[0]!.up.weight.data[d]);
  });
});
