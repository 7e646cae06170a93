/**
 * The chunked token loss (graph/head.ts `chunkedTokenNll`: vocabularies above LOSS_VOCAB_CHUNK,
 * no logits output, weights as inputs) against the full-logits loss of the same model and against
 * a float64 log-sum-exp of its logits, with labels on the chunk edges; the head's chunks are graph
 * inputs fed as views of the IR's array, or embedded as initializers (openModelSessionEmbedded). The lossFrom option (only positions from loss_from on) against
 * the float64 log-sum-exp of the full logits at the same positions, chunked and not.
 */
import { int64Tensor } from '../core/runner';
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../core/ir';
import type { Feeds } from '../core/runner';
import { decodeModel } from '../io/onnx';
import { createNodeRunner } from '../runtime/ort-node';
import { floats, idsFeed } from '../test-util/graph-run';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { buildOnnx } from './build';
import { LOSS_VOCAB_CHUNK } from './head';
import { openModelSessionEmbedded } from './model-session';
import type { GraphOptions } from './options';
import { weightFeeds } from './weight-inputs';

const runner = createNodeRunner({ threads: 1 });

async function run(ir: ModelIR, options: GraphOptions, feeds: Feeds) {
  const session = await runner.open(buildOnnx(ir, { ...options, weights: 'inputs' }));
  try {
    return await session.run({ ...weightFeeds(ir, session.inputNames), ...feeds });
  } finally {
    await session.release();
  }
}

/** -log softmax(logits row)[label] in float64. */
function nll64(logits: Float32Array, row: number, V: number, label: number): number {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, logits[row * V + v]!);
  let sum = 0;
  for (let v = 0; v < V; v++) sum += Math.exp(logits[row * V + v]! - max);
  return Math.log(sum) + max - logits[row * V + label]!;
}

const MODELS: [string, () => ModelIR][] = [
  ['random GPT-2 (tied head, vocab 20,000)', () => randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 20_000 })],
  ['random Llama (untied head, vocab 8,200)', () => randomLlamaIR({ vocab: 8200 })],
];

describe.each(MODELS)('chunked token loss: %s', (_, make) => {
  const ir = make();
  const V = ir.spec.vocabSize;
  const edges = [0, LOSS_VOCAB_CHUNK - 1, LOSS_VOCAB_CHUNK, V - 1, 5, V - 2, 4097];
  const ids = [
    [3, 17, 42, 8, 0, 29, 11],
    [49, 1, 1, 36, 20, 5, 44],
  ];
  const feeds = { ...idsFeed(ids), ...idsFeed([edges, [...edges].reverse()], 'labels') };

  it('builds the chunked loss: one Gemm per vocabulary chunk, token_nll the only output', () => {
    const graph = decodeModel(buildOnnx(ir, { tokenLoss: true, logits: false, weights: 'inputs' })).graph!;
    const gemms = (graph.node ?? []).filter((n) => n.op_type === 'Gemm' && n.name?.startsWith('loss/chunk'));
    expect(gemms.length).toBe(Math.ceil(V / LOSS_VOCAB_CHUNK));
    expect((graph.output ?? []).map((o) => o.name)).toEqual(['token_nll']);
    // each chunk of the head is its own input (a view of the IR's array), not a Slice of the head,
    // which onnxruntime would materialise for all chunks at once (a second copy of the head)
    expect((graph.node ?? []).filter((n) => n.op_type === 'Slice' && n.name?.startsWith('loss/chunk'))).toEqual([]);
    const head = ir.weights.lmHead ? 'weight.lm_head' : 'weight.token_embedding';
    const chunks = (graph.input ?? []).map((i) => i.name!).filter((n) => n.startsWith(`${head}.rows`));
    expect(chunks).toEqual(gemms.map((_, c) => `${head}.rows${c * LOSS_VOCAB_CHUNK}_${Math.min(V, (c + 1) * LOSS_VOCAB_CHUNK)}`));
    const fed = weightFeeds(ir, chunks);
    const data = (ir.weights.lmHead ?? ir.weights.tokenEmbedding)!.data;
    for (const name of chunks) expect(fed[name]!.data.buffer).toBe(data.buffer);
    expect(fed[chunks.at(-1)!]!.dims).toEqual([V - (gemms.length - 1) * LOSS_VOCAB_CHUNK, ir.spec.hiddenSize]);
  });

  it('with the weights embedded (head chunks as initializers, as on WebGPU): no weight input left, the float64 NLL', async () => {
    const session = await openModelSessionEmbedded(runner, ir, { tokenLoss: true, logits: false });
    try {
      expect(session.inputNames.filter((n) => n.startsWith('weight.') || n.startsWith('bias.'))).toEqual([]);
      const embedded = floats((await session.run(feeds, ['token_nll'])).token_nll);
      const logits = floats((await run(ir, { tokenLoss: true, logits: true }, feeds)).logits);
      const labels = [...edges, ...[...edges].reverse()];
      embedded.forEach((v, i) => expect(Math.abs(v - nll64(logits, i, V, labels[i]!)), `token ${i} vs float64`).toBeLessThan(1e-5));
    } finally {
      await session.release();
    }
  });

  it('equals the full-logits token_nll within 1e-6 relative, and a float64 log-sum-exp of the logits', async () => {
    const chunked = floats((await run(ir, { tokenLoss: true, logits: false }, feeds)).token_nll);
    const full = await run(ir, { tokenLoss: true, logits: true }, feeds);
    const current = floats(full.token_nll);
    const logits = floats(full.logits);
    expect(chunked.length).toBe(current.length);
    const labels = [...edges, ...[...edges].reverse()];
    chunked.forEach((v, i) => {
      expect(Math.abs(v - current[i]!) / Math.abs(current[i]!), `token ${i}`).toBeLessThan(1e-6);
      expect(Math.abs(v - nll64(logits, i, V, labels[i]!)), `token ${i} vs float64`).toBeLessThan(1e-5);
    });
  });
});

const SCORED: [string, () => ModelIR][] = [
  ...MODELS,
  ['random GPT-2 (vocab 64: one head Gemm, no chunks)', () => randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 64 })],
];

describe.each(SCORED)('token loss from loss_from on: %s', (_, make) => {
  const ir = make();
  const V = ir.spec.vocabSize;
  const ids = [
    [3, 17, 42, 8, 0, 29, 11],
    [49, 1, 1, 36, 20, 5, 44],
  ];
  const labels = [
    [5, 0, V - 1, 7, 3, V - 2, 1],
    [2, 9, 4, V - 1, 0, 6, 8],
  ];
  const feeds = { ...idsFeed(ids), ...idsFeed(labels, 'labels') };

  it.each([0, 3, 6])('loss_from %i: token_nll [2, 7 - from], each the float64 NLL of the full logits at its position', async (from) => {
    const tail = floats(
      (await run(ir, { tokenLoss: true, logits: false, lossFrom: true }, { ...feeds, loss_from: int64Tensor([from], [1]) })).token_nll,
    );
    const logits = floats((await run(ir, { logits: true }, idsFeed(ids))).logits);
    const width = 7 - from;
    expect(tail.length).toBe(2 * width);
    for (let b = 0; b < 2; b++)
      for (let p = from; p < 7; p++) {
        const want = nll64(logits, b * 7 + p, V, labels[b]![p]!);
        expect(Math.abs(tail[b * width + p - from]! - want), `row ${b} position ${p}`).toBeLessThan(1e-5);
      }
  });
});

describe('lossFrom option', () => {
  it('is refused with logits, where the head would not cover every position', () => {
    const ir = randomIR({ layers: 1, hidden: 8, heads: 2, ffn: 16, vocab: 32 });
    expect(() => buildOnnx(ir, { tokenLoss: true, lossFrom: true })).toThrow(/loss_from needs a language-model token loss/);
  });
});
