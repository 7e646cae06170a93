/**
 * Logits block by block with the head apart in vocabulary chunks (block-run.ts runByBlocks 'logits',
 * head-chunks.ts chunkedHeadLogits; export verification's reference of a large vocabulary): equal to
 * the whole graph's logits on a random GPT-2 and a random Llama, and with spilled, evicted weights the
 * vocabulary matrix is read a chunk at a time, never made resident.
 */
import { describe, expect, it } from 'vitest';
import { memoryGramStore } from '../core/gram-store';
import { asFloat32, int64Tensor } from '../core/runner';
import { isResident, spillWeights } from '../core/weight-residency';
import { createNodeRunner } from '../runtime/ort-node';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { runByBlocks } from './block-run';
import { openModelSession } from './model-session';
import type { ModelIR } from '../core/ir';

const runner = createNodeRunner();
const ids = [5, 1, 7, 3, 9, 2, 88, 96, 0, 41];

async function wholeLogits(ir: ModelIR): Promise<Float32Array> {
  const s = await openModelSession(runner, ir, { logits: true });
  try {
    return asFloat32((await s.run({ input_ids: int64Tensor(ids, [2, 5]) }, ['logits'])).logits, 'logits');
  } finally {
    await s.release();
  }
}

async function chunkedLogits(ir: ModelIR, headChunk: number): Promise<Float32Array> {
  const src = { runner, ir, graph: { logits: true }, headChunk };
  const [logits] = await runByBlocks(src, [{ feeds: { input_ids: int64Tensor(ids, [2, 5]) }, rows: 2, len: 5 }], {}, 'logits');
  return logits!;
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

describe('logits with the head in vocabulary chunks', () => {
  it.each([
    ['GPT-2', randomIR({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 97, seed: 11 })],
    ['Llama (tied, grouped-query)', randomLlamaIR({ layers: 2, hidden: 32, heads: 4, kvHeads: 2, ffn: 64, vocab: 97, seed: 12 })],
  ])('equal the whole graph (%s, chunks of 40 of 97 entries)', async (_name, ir) => {
    const whole = await wholeLogits(ir);
    const chunked = await chunkedLogits(ir, 40);
    expect(chunked.length).toBe(whole.length);
    expect(maxDiff(chunked, whole)).toBeLessThan(1e-5);
  });

  it('read a spilled vocabulary matrix a chunk at a time (never resident)', async () => {
    const ir = randomIR({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 97, seed: 13 });
    const whole = await wholeLogits(ir);
    const table = ir.weights.tokenEmbedding!;
    const r = spillWeights(ir, memoryGramStore(), { byRows: [table] });
    r.trim(0);
    const chunked = await chunkedLogits(ir, 40);
    expect(maxDiff(chunked, whole)).toBeLessThan(1e-5);
    expect(isResident(table)).toBe(false);
    await r.dispose();
  });
});
