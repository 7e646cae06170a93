/**
 * Gradient graphs of whole models (random GPT-2 and Llama with GQA, RoPE, SwiGLU, RMSNorm) run in
 * onnxruntime-node, against central finite differences of the float64 reference forward pass
 * (src/test-util/forward.ts, written independently of the graph builder). Also the graph contract
 * (inputs, outputs, shapes) and the errors for invalid option combinations.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../../core/ir';
import type { Feeds } from '../../core/runner';
import { createNodeRunner } from '../../runtime/ort-node';
import { logProb, referenceForward, type ForwardMasks } from '../../test-util/forward';
import { floats, idsFeed, nextTokenLabels, SAMPLE_IDS } from '../../test-util/graph-run';
import { randomIR } from '../../test-util/random-ir';
import { randomLlamaIR } from '../../test-util/random-llama';
import { buildOnnx } from '../build';

const runner = createNodeRunner({ threads: 1 });
const B = SAMPLE_IDS.length;
const S = SAMPLE_IDS[0]!.length;
/** Position weights: skip the last position of each row and one more in row 1. */
const W = Float32Array.from({ length: B * S }, (_, i) => (i % S === S - 1 || i === S + 2 ? 0 : 1 + (i % 3) * 0.5));

interface Masks {
  head: Float32Array;
  ffn: Float32Array;
  layer: Float32Array;
}

function masksOf(ir: ModelIR): Masks {
  const L = ir.layers.length;
  const head = Float32Array.from({ length: L * ir.layers[0]!.numHeads }, (_, i) => (i === 1 ? 0 : 1 - 0.1 * (i % 3)));
  const ffn = Float32Array.from({ length: L * ir.layers[0]!.ffnSize }, (_, i) => (i % 7 === 0 ? 0 : 1 - 0.05 * (i % 4)));
  return { head, ffn, layer: Float32Array.from({ length: L }, (_, i) => 1 - 0.2 * i) };
}

/** Weighted mean NLL in float64 (the loss the gradient graph defines). */
function referenceLoss(ir: ModelIR, m: ForwardMasks): number {
  let num = 0;
  let den = 0;
  SAMPLE_IDS.forEach((row, b) => {
    const { logits } = referenceForward(ir, row, m);
    for (let t = 0; t < S; t++) {
      const w = W[b * S + t]!;
      if (w === 0) continue;
      num += w * -logProb(logits[t]!, row[t + 1] ?? 0);
      den += w;
    }
  });
  return num / den;
}

function feedsOf(ir: ModelIR, m: Masks): Feeds {
  const L = ir.layers.length;
  const feeds: Feeds = {
    ...idsFeed(SAMPLE_IDS),
    ...nextTokenLabels(SAMPLE_IDS),
    loss_weights: { type: 'float32', dims: [B, S], data: W },
    head_mask: { type: 'float32', dims: [L, ir.layers[0]!.numHeads], data: m.head },
    ffn_mask: { type: 'float32', dims: [L, ir.layers[0]!.ffnSize], data: m.ffn },
    layer_mask: { type: 'float32', dims: [L], data: m.layer },
  };
  ir.weights.layers.forEach((lw, l) => {
    feeds[`weight.o.${l}`] = { type: 'float32', dims: lw.o.weight.shape, data: lw.o.weight.data };
    feeds[`weight.down.${l}`] = { type: 'float32', dims: lw.down.weight.shape, data: lw.down.weight.data };
  });
  return feeds;
}

/** Central difference of the reference loss in one float32 entry (the step actually taken is used). */
function centralDiff(ir: ModelIR, data: Float32Array, i: number, m: ForwardMasks, eps = 1e-3): number {
  const orig = data[i]!;
  data[i] = orig + eps;
  const hi = data[i]!;
  const up = referenceLoss(ir, m);
  data[i] = orig - eps;
  const lo = data[i]!;
  const down = referenceLoss(ir, m);
  data[i] = orig;
  return (up - down) / (hi - lo);
}

/** Worst |a - e| relative to the largest |e| of the set. */
function normRelError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  return worst / scale;
}

async function check(ir: ModelIR, opset = 17) {
  const m = masksOf(ir);
  const fm: ForwardMasks = { head: m.head, ffn: m.ffn, layer: m.layer };
  const session = await runner.open(
    buildOnnx(ir, { masks: true, logits: false, weightInputs: true, gradients: { masks: true, weights: true }, opset }),
  );
  const out = await session.run(feedsOf(ir, m));
  await session.release();
  expect(floats(out.loss)[0]).toBeCloseTo(referenceLoss(ir, fm), 5);
  for (const [name, data] of [
    ['grad.head_mask', m.head],
    ['grad.ffn_mask', m.ffn],
    ['grad.layer_mask', m.layer],
  ] as const) {
    const fd = Array.from(data, (_, i) => centralDiff(ir, data, i, fm));
    expect(out[name]?.dims).toEqual(name === 'grad.layer_mask' ? [ir.layers.length] : [ir.layers.length, data.length / ir.layers.length]);
    expect(normRelError(floats(out[name]), fd), name).toBeLessThan(1e-3);
  }
  for (const [l, kind] of [
    [0, 'o'],
    [1, 'down'],
  ] as const) {
    const w = ir.weights.layers[l]![kind].weight;
    const g = floats(out[`grad.${kind}.${l}`]);
    expect(g.length).toBe(w.data.length);
    const picks = [0, 5, 17, w.data.length - 1];
    const fd = picks.map((i) => centralDiff(ir, w.data, i, fm));
    expect(
      normRelError(
        picks.map((i) => g[i]!),
        fd,
      ),
      `grad.${kind}.${l}`,
    ).toBeLessThan(1e-3);
  }
}

describe('gradient graph of a whole model vs float64 finite differences', () => {
  it('GPT-2 (LayerNorm, learned positions, gelu_new, tied head)', () =>
    check(randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 })));

  it('Llama (RMSNorm, RoPE, grouped-query attention, SwiGLU, untied head)', () =>
    check(randomLlamaIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 2, headDim: 8, ffn: 24, vocab: 50 })));

  it('opset 18 (reduction axes as inputs)', async () => {
    await check(randomLlamaIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 4, headDim: 4, ffn: 16, vocab: 50 }), 18);
    await check(randomIR({ layers: 2, hidden: 16, heads: 2, ffn: 16, vocab: 50 }), 18);
  });

  it('GPT-2 with exact gelu and relu activations', async () => {
    for (const activation of ['gelu', 'relu'] as const) {
      const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50, seed: 5 });
      await check({ ...ir, spec: { ...ir.spec, activation } });
    }
  });
});

describe('gradient graph contract', () => {
  it('declares loss_weights and the gradient outputs', async () => {
    const ir = randomIR();
    const session = await runner.open(buildOnnx(ir, { masks: true, logits: false, gradients: { masks: true } }));
    expect(session.inputNames).toContain('loss_weights');
    expect(session.outputNames).toEqual(['loss', 'grad.head_mask', 'grad.ffn_mask', 'grad.layer_mask']);
    await session.release();
  });

  it('rejects mask gradients without masks and weight gradients without weight inputs', () => {
    const ir = randomIR();
    expect(() => buildOnnx(ir, { gradients: { masks: true } })).toThrow(/mask inputs/);
    expect(() => buildOnnx(ir, { masks: true, gradients: { weights: true } })).toThrow(/weights as inputs/);
  });
});
