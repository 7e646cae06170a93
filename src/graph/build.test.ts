/**
 * Graph builder on a tiny random GPT-2 (2 layers, hidden 16, 4 heads, FFN 32, vocab 50), run in
 * onnxruntime-node: logits against an independent float64 forward pass, the mask semantics
 * (each mask vs an IR edited by hand), token_nll, and the activation taps.
 */
import { describe, expect, it } from 'vitest';
import { tokenEmbeddingOf } from '../core/ir';
import type { ModelIR } from '../core/ir';
import { createNodeRunner } from '../runtime/ort-node';
import { logProb, referenceForward } from '../test-util/forward';
import { cloneIR, floats, idsFeed, maskFeeds, maxAbsDiff, nextTokenLabels, runGraph, SAMPLE_IDS } from '../test-util/graph-run';
import { randomIR } from '../test-util/random-ir';
import { packGram, packedGramLength } from '../core/packed-gram';

const runner = createNodeRunner({ threads: 1 });
const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 });
const V = 50;
const S = SAMPLE_IDS[0]!.length;
const ids = idsFeed(SAMPLE_IDS);

async function logitsOf(model: ModelIR, masks?: ReturnType<typeof maskFeeds>): Promise<Float32Array> {
  const out = await runGraph(runner, model, { masks: !!masks }, { ...ids, ...masks });
  return floats(out.logits);
}

describe('buildOnnx on a random GPT-2', () => {
  it('logits match a float64 reference forward pass', async () => {
    const out = await runGraph(runner, ir, {}, ids);
    expect(out.logits?.dims).toEqual([2, S, V]);
    const expected = SAMPLE_IDS.flatMap((row) => referenceForward(ir, row).logits.flat());
    expect(maxAbsDiff(floats(out.logits), expected)).toBeLessThan(1e-5);
  });

  it('mask inputs of all ones give the no-mask logits', async () => {
    expect(maxAbsDiff(await logitsOf(ir, maskFeeds(ir)), await logitsOf(ir))).toBeLessThan(1e-6);
  });

  it('a head masked to 0 equals zeroing that head’s o-projection input columns', async () => {
    const [layer, head, dh] = [1, 2, ir.spec.headDim];
    const edited = cloneIR(ir);
    const o = edited.weights.layers[layer]!.o.weight;
    const inDim = o.shape[1]!;
    for (let r = 0; r < o.shape[0]!; r++) for (let c = head * dh; c < (head + 1) * dh; c++) o.data[r * inDim + c] = 0;
    const masked = await logitsOf(ir, maskFeeds(ir, { head: (m) => (m[layer * 4 + head] = 0) }));
    expect(maxAbsDiff(masked, await logitsOf(edited))).toBeLessThan(1e-6);
    expect(maxAbsDiff(masked, await logitsOf(ir))).toBeGreaterThan(1e-3);
  });

  it('FFN neurons masked to 0 equal zeroing their down-projection columns', async () => {
    const [layer, neurons] = [0, [0, 5, 31]];
    const edited = cloneIR(ir);
    const down = edited.weights.layers[layer]!.down.weight;
    for (let r = 0; r < down.shape[0]!; r++) for (const j of neurons) down.data[r * 32 + j] = 0;
    const masked = await logitsOf(ir, maskFeeds(ir, { ffn: (m) => neurons.forEach((j) => (m[layer * 32 + j] = 0)) }));
    expect(maxAbsDiff(masked, await logitsOf(edited))).toBeLessThan(1e-6);
  });

  it('layer_mask 0 equals a block whose branches (weights and biases) are zero', async () => {
    const edited = cloneIR(ir);
    const w = edited.weights.layers[0]!;
    for (const t of [w.o.weight, w.o.bias!, w.down.weight, w.down.bias!]) t.data.fill(0);
    const masked = await logitsOf(ir, maskFeeds(ir, { layer: (m) => (m[0] = 0) }));
    expect(maxAbsDiff(masked, await logitsOf(edited))).toBeLessThan(1e-6);
  });

  it('layer_mask scales both branches: 0.5 matches the reference with halved branches', async () => {
    const masked = await logitsOf(ir, maskFeeds(ir, { layer: (m) => (m[1] = 0.5) }));
    const expected = SAMPLE_IDS.flatMap((row) => referenceForward(ir, row, { layer: [1, 0.5] }).logits.flat());
    expect(maxAbsDiff(masked, expected)).toBeLessThan(1e-5);
  });

  it('token_nll equals -log_softmax(logits)[label], also for very large logits', async () => {
    const big = cloneIR(ir);
    big.weights.finalNorm.weight.data.forEach((v, i, a) => (a[i] = v * 400)); // logits in the hundreds: exp() overflows float32
    for (const model of [ir, big]) {
      const out = await runGraph(runner, model, { tokenLoss: true }, { ...ids, ...nextTokenLabels(SAMPLE_IDS) });
      const logits = floats(out.logits);
      const nll = floats(out.token_nll);
      expect(out.token_nll?.dims).toEqual([2, S]);
      const labels = SAMPLE_IDS.flatMap((row) => [...row.slice(1), 0]);
      const expected = labels.map((label, p) => -logProb(logits.subarray(p * V, (p + 1) * V), label));
      expect(Math.max(...logits.map(Math.abs))).toBeGreaterThan(model === big ? 100 : 0);
      expect(nll.every(Number.isFinite)).toBe(true);
      expect(maxAbsDiff(nll, expected)).toBeLessThan(model === big ? 1e-3 : 1e-5);
    }
  });

  it('tokenLoss without logits outputs only token_nll', async () => {
    const out = await runGraph(runner, ir, { tokenLoss: true, logits: false }, { ...ids, ...nextTokenLabels(SAMPLE_IDS) });
    expect(Object.keys(out)).toEqual(['token_nll']);
  });

  it('taps have the contract shapes and values; hidden.0 is the embedding sum', async () => {
    const out = await runGraph(runner, ir, { taps: true, masks: true }, { ...ids, ...maskFeeds(ir) });
    const d = ir.spec.hiddenSize;
    for (let l = 0; l < 2; l++) {
      expect(out[`attn_in.${l}`]?.dims).toEqual([2, S, 16]);
      expect(out[`ffn_in.${l}`]?.dims).toEqual([2, S, 32]);
      expect(out[`hidden.${l}`]?.dims).toEqual([2, S, d]);
    }
    expect(out['hidden.2']?.dims).toEqual([2, S, d]);
    const { positionEmbedding: pe } = ir.weights;
    const te = tokenEmbeddingOf(ir);
    const embeddings = SAMPLE_IDS.flatMap((row) =>
      row.flatMap((id, t) => Array.from({ length: d }, (_, i) => te.data[id * d + i]! + pe!.data[t * d + i]!)),
    );
    expect(maxAbsDiff(floats(out['hidden.0']), embeddings)).toBeLessThan(1e-7);
    const refs = SAMPLE_IDS.map((row) => referenceForward(ir, row));
    for (let l = 0; l < 2; l++) {
      expect(
        maxAbsDiff(
          floats(out[`attn_in.${l}`]),
          refs.flatMap((r) => r.attnIn[l]!.flat()),
        ),
      ).toBeLessThan(1e-5);
      expect(
        maxAbsDiff(
          floats(out[`ffn_in.${l}`]),
          refs.flatMap((r) => r.ffnIn[l]!.flat()),
        ),
      ).toBeLessThan(1e-5);
      expect(
        maxAbsDiff(
          floats(out[`hidden.${l + 1}`]),
          refs.flatMap((r) => r.hidden[l + 1]!.flat()),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it('grams are the Σ x xᵀ of the reference forward pass taps, over every batch row and position', async () => {
    const out = await runGraph(runner, ir, { taps: true, grams: true, masks: true }, { ...ids, ...maskFeeds(ir) });
    const refs = SAMPLE_IDS.map((row) => referenceForward(ir, row));
    for (let l = 0; l < 2; l++) {
      for (const [name, rows, width] of [
        [`attn_in.${l}`, refs.flatMap((r) => r.attnIn[l]!), 16],
        [`ffn_in.${l}`, refs.flatMap((r) => r.ffnIn[l]!), 32],
      ] as const) {
        expect(out[`gram.${name}`]?.dims).toEqual([width, width]);
        const expected = Array.from({ length: width * width }, (_, k) =>
          rows.reduce((acc, x) => acc + x[Math.floor(k / width)]! * x[k % width]!, 0),
        );
        expect(maxAbsDiff(floats(out[`gram.${name}`]), expected)).toBeLessThan(1e-4);
      }
    }
    expect(Object.keys(out).filter((k) => k.startsWith('gram.hidden'))).toEqual([]);
  });

  it("packed grams are the full grams' upper block trapezoids, bitwise (FFN of 600: three row blocks)", async () => {
    const wide = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 600, vocab: 50 });
    const feeds = { ...ids, ...maskFeeds(wide) };
    const full = await runGraph(runner, wide, { taps: true, grams: true, masks: true }, feeds);
    const packed = await runGraph(runner, wide, { taps: true, grams: 'packed', masks: true }, feeds);
    for (let l = 0; l < 2; l++) {
      for (const [name, width] of [
        [`attn_in.${l}`, 16],
        [`ffn_in.${l}`, 600],
      ] as const) {
        expect(packed[`gram.${name}`]?.dims).toEqual([packedGramLength(width)]);
        expect(floats(packed[`gram.${name}`])).toEqual(packGram(floats(full[`gram.${name}`]), width));
      }
    }
  });

  it('gramsOf keeps only that kind of Gram, bitwise equal to the both-kinds graph', async () => {
    const feeds = { ...ids, ...maskFeeds(ir) };
    const both = await runGraph(runner, ir, { taps: true, grams: 'packed', masks: true }, feeds);
    for (const [kind, other] of [
      ['attn_in', 'ffn_in'],
      ['ffn_in', 'attn_in'],
    ] as const) {
      const one = await runGraph(runner, ir, { taps: true, grams: 'packed', gramsOf: kind, masks: true }, feeds);
      for (let l = 0; l < 2; l++) {
        expect(floats(one[`gram.${kind}.${l}`])).toEqual(floats(both[`gram.${kind}.${l}`]));
        expect(one[`gram.${other}.${l}`]).toBeUndefined();
        expect(floats(one[`hidden.${l + 1}`])).toEqual(floats(both[`hidden.${l + 1}`]));
      }
    }
  });

  it('batch rows are independent and positions restart at 0 for every sequence length', async () => {
    const short = await runGraph(runner, ir, {}, idsFeed([SAMPLE_IDS[1]!.slice(0, 3)]));
    const full = await logitsOf(ir);
    expect(maxAbsDiff(floats(short.logits), full.subarray(S * V, (S + 3) * V))).toBeLessThan(1e-6);
  });
});
