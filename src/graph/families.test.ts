/**
 * Graph builder beyond the dense GPT-2: pruned models (heads / FFN width per layer, absent
 * sublayers with their bias kept), the Llama family (RMSNorm, rotary, SwiGLU, GQA, untied head),
 * the other activations, and the errors for IRs or options that cannot be built.
 */
import { describe, expect, it } from 'vitest';
import { InputError, ShapeMismatchError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { tensor } from '../core/tensor';
import { createNodeRunner } from '../runtime/ort-node';
import { referenceForward } from '../test-util/forward';
import { cloneIR, floats, idsFeed, maskFeeds, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { keepFfn, keepHeads, prunedGpt2 } from '../test-util/pruned-ir';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { buildOnnx } from './build';

const runner = createNodeRunner({ threads: 1 });
const IDS = [
  [1, 7, 30, 2, 19],
  [38, 4, 4, 12, 0],
];

async function expectMatchesReference(ir: ModelIR, tolerance = 2e-5): Promise<void> {
  const out = await runGraph(runner, ir, {}, idsFeed(IDS));
  expect(out.logits?.dims).toEqual([2, 5, ir.spec.vocabSize]);
  const expected = IDS.flatMap((row) => referenceForward(ir, row).logits.flat());
  expect(maxAbsDiff(floats(out.logits), expected)).toBeLessThan(tolerance);
}

describe('pruned models', () => {
  it('different heads / FFN widths per layer, a 0-head layer and a 0-FFN layer build, run and match the reference', async () => {
    const ir = prunedGpt2();
    expect(ir.layers.map((l) => [l.numHeads, l.ffnSize])).toEqual([
      [3, 32],
      [0, 16],
      [4, 0],
    ]);
    await expectMatchesReference(ir);
  });

  it('an absent sublayer still adds its output bias (FLAP compensation), and nothing else', async () => {
    const ir = prunedGpt2();
    const noBias = cloneIR(ir);
    delete noBias.weights.layers[1]!.o.bias;
    delete noBias.weights.layers[2]!.down.bias;
    const a = floats((await runGraph(runner, ir, {}, idsFeed(IDS))).logits);
    const b = floats((await runGraph(runner, noBias, {}, idsFeed(IDS))).logits);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-3);
    await expectMatchesReference(noBias);
  });

  it('taps of a pruned model follow each layer’s width, [batch, seq, 0] for an absent sublayer', async () => {
    const out = await runGraph(runner, prunedGpt2(), { taps: true }, idsFeed(IDS));
    expect(out['attn_in.0']?.dims).toEqual([2, 5, 12]); // 3 heads x headDim 4
    expect(out['attn_in.1']?.dims).toEqual([2, 5, 0]);
    expect(out['ffn_in.1']?.dims).toEqual([2, 5, 16]);
    expect(out['ffn_in.2']?.dims).toEqual([2, 5, 0]);
    expect(out['hidden.3']?.dims).toEqual([2, 5, 16]);
  });

  it('a model with fewer layers (layer removed) builds and runs', async () => {
    const ir = randomIR({ layers: 3, seed: 9 });
    ir.layers.splice(1, 1);
    ir.weights.layers.splice(1, 1);
    ir.originalLayerIndex = [0, 2];
    ir.spec = { ...ir.spec, numLayers: 2 };
    await expectMatchesReference(ir);
  });
});

describe('llama family', () => {
  it('RMSNorm + rotary + SwiGLU + grouped-query attention (4 q heads, 2 kv heads) + untied head', async () => {
    await expectMatchesReference(randomLlamaIR());
  });

  it('multi-head (kv = q heads) with q/k/v biases (Qwen2 style)', async () => {
    await expectMatchesReference(randomLlamaIR({ heads: 2, kvHeads: 2, qkvBias: true, seed: 4 }));
  });

  it('a pruned Llama (uneven heads, SwiGLU widths, a 0-FFN layer) matches the reference', async () => {
    const ir = randomLlamaIR({ layers: 3, heads: 4, kvHeads: 4, seed: 8 });
    keepHeads(ir, 0, [1, 2]);
    keepFfn(ir, 1, [0, 3, 4, 10, 23]);
    keepFfn(ir, 2, []);
    await expectMatchesReference(ir);
  });

  it('masks on a GQA model: head mask multiplies single query heads', async () => {
    const ir = randomLlamaIR();
    const out = await runGraph(
      runner,
      ir,
      { masks: true },
      { ...idsFeed(IDS), ...maskFeeds(ir, { head: (m) => (m[1] = 0), layer: (m) => (m[1] = 0.25) }) },
    );
    const head = new Float32Array(8).fill(1);
    head[1] = 0;
    const expected = IDS.flatMap((row) => referenceForward(ir, row, { head, layer: [1, 0.25] }).logits.flat());
    expect(maxAbsDiff(floats(out.logits), expected)).toBeLessThan(2e-5);
  });
});

describe('activations', () => {
  it.each(['gelu', 'relu', 'silu'] as const)('%s matches the reference', async (activation) => {
    const ir = randomIR({ seed: 11 });
    ir.spec = { ...ir.spec, activation };
    await expectMatchesReference(ir);
  });
});

describe('opsets', () => {
  it('opset 18 (reduce axes as inputs) gives the same token_nll as 17', async () => {
    const ir = randomLlamaIR();
    const feeds = { ...idsFeed(IDS), ...idsFeed(IDS, 'labels') };
    const a = await runGraph(runner, ir, { tokenLoss: true }, feeds);
    const b = await runGraph(runner, ir, { tokenLoss: true, opset: 18 }, feeds);
    expect(maxAbsDiff(floats(a.token_nll), floats(b.token_nll))).toBeLessThan(1e-6);
    expect(() => buildOnnx(ir, { opset: 16 })).toThrow(/opset 16 is not supported/);
  });

  it.each([17, 18])("logitsMax (opset %i) adds each row's largest logit beside the same logits", async (opset) => {
    const ir = randomLlamaIR();
    const plain = await runGraph(runner, ir, { opset }, idsFeed(IDS));
    const out = await runGraph(runner, ir, { opset, logitsMax: true }, idsFeed(IDS));
    const logits = floats(out.logits);
    expect(logits).toEqual(floats(plain.logits));
    const vocab = ir.spec.vocabSize;
    const rows = logits.length / vocab;
    const want = Float32Array.from({ length: rows }, (_, r) => Math.max(...logits.subarray(r * vocab, (r + 1) * vocab)));
    expect(out.logits_max!.dims).toEqual([...out.logits!.dims.slice(0, -1), 1]);
    expect(floats(out.logits_max)).toEqual(want);
  });
});

describe('errors', () => {
  it('masks on a model with non-uniform layers are refused with a clear message', () => {
    expect(() => buildOnnx(prunedGpt2(), { masks: true })).toThrow(InputError);
  });

  it('a weight of the wrong shape names the tensor', () => {
    const ir = randomIR();
    ir.weights.layers[1]!.up.weight = tensor([31, 16]);
    expect(() => buildOnnx(ir)).toThrow(ShapeMismatchError);
    expect(() => buildOnnx(ir)).toThrow(/layer 1 up\.weight has shape \[31, 16\]; expected \[32, 16\]/);
  });

  it('a graph without outputs is refused', () => {
    expect(() => buildOnnx(randomIR(), { logits: false })).toThrow(/no outputs/);
  });
});
