/**
 * The teaching api on the demo model and a GQA Llama fixture: per-token losses average to the
 * perplexity evaluation of the same window; the pruned side from a plan's masks equals the applied
 * model; attention rows are causal distributions, one per query head (GQA included); knocking out a
 * head changes the next-token distribution; the dense top next token equals greedy generation's.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from './studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR } from '../test-util/golden';
import { klDivergence, topTokens } from './teach';
import type { AttentionResult } from './types';

const api = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
const text = readFileSync('public/data/evaluation.txt', 'utf8').slice(0, 400);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function expectCausalRows(r: AttentionResult): void {
  const n = r.ids.length;
  r.probs.forEach((p, l) => {
    expect(p.length).toBe(r.heads[l]! * n * n);
    for (let h = 0; h < r.heads[l]!; h++) {
      for (let q = 0; q < n; q++) {
        const row = p.subarray((h * n + q) * n, (h * n + q + 1) * n);
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
        for (let k = q + 1; k < n; k++) expect(row[k]).toBe(0);
      }
    }
  });
}

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  await api.computeImportance('magnitude');
}, 300_000);

describe('pure helpers', () => {
  it('topTokens: the k largest softmax probabilities in order; KL is 0 for equal rows and positive otherwise', () => {
    const row = [0.5, 3, -1, 2, 2.5];
    const z = row.reduce((a, v) => a + Math.exp(v), 0);
    const top = topTokens(row, 3, (id) => `t${id}`);
    expect(top.map((t) => t.id)).toEqual([1, 4, 3]);
    top.forEach((t) => expect(t.prob).toBeCloseTo(Math.exp(row[t.id]!) / z, 12));
    expect(klDivergence(row, row)).toBeCloseTo(0, 12);
    expect(klDivergence(row, [0, 0, 0, 0, 0])).toBeGreaterThan(0);
  });
});

describe('tokenLosses', () => {
  it('dense losses average to the perplexity evaluation of the same window; the pruned side from masks equals the applied model', async () => {
    const plan = await api.allocatePlan({ criterion: 'magnitude', heads: 0.5, ffn: 0.5, layers: 0, allocation: 'uniform' });
    const r = await api.tokenLosses({ text, maxTokens: 64, plan });
    expect(r.ids).toHaveLength(64);
    expect(r.pieces.join('')).toBe(api.state.loaded!.tokenizer.decode(r.ids));
    expect(Number.isNaN(r.dense[0])).toBe(true);
    const ppl = await api.evaluatePerplexity({ text, textName: 'short', contextLength: 128, stride: 64, maxTokens: 64 });
    expect(mean(r.dense.slice(1))).toBeCloseTo(ppl.meanNll, 5);
    expect(mean(r.pruned.slice(1))).toBeGreaterThan(mean(r.dense.slice(1)));
    await api.applyPlan({ plan, compensation: 'none' });
    const applied = await api.tokenLosses({ text, maxTokens: 64 });
    expect(applied.prunedFrom).toBe('applied');
    for (let t = 1; t < 64; t++) expect(applied.pruned[t]).toBeCloseTo(r.pruned[t]!, 3);
  }, 120_000);
});

describe('attentionPatterns and nextTokens', () => {
  it('demo (GPT-2): causal rows per head; a knocked-out head changes the next-token distribution', async () => {
    const r = await api.attentionPatterns({ text: 'The old man looked at the sea', knockout: [{ layer: 0, head: 1 }] });
    expectCausalRows(r);
    expect(r.heads).toEqual(api.state.loaded!.ir.layers.map((l) => l.numHeads));
    expect(r.next).toHaveLength(5);
    expect(r.knockedOut!.kl).toBeGreaterThan(0);
    expect(r.knockedOut!.denseTopNow.map((t) => t.id)).toEqual(r.next.map((t) => t.id));
    expect(r.knockedOut!.denseTopNow[0]!.prob).not.toBeCloseTo(r.next[0]!.prob, 6);
    await expect(api.attentionPatterns({ text: 'a b c', knockout: [{ layer: 99, head: 0 }] })).rejects.toThrow(/no head/);
  }, 120_000);

  it('the dense top next token is greedy generation’s first token; the pruned side uses the applied model', async () => {
    const prompt = 'The old man looked at the sea and';
    const gen = await api.generate({ prompt, maxNewTokens: 3, temperature: 0, topK: 0, seed: 0, target: 'dense' });
    expect(gen.ids).toHaveLength(3);
    const next = await api.nextTokens({ prompt, continuation: gen.ids!.slice(0, 1), targets: ['dense', 'pruned'] });
    expect(next.dense![0]!.id).toBe(gen.ids![1]);
    expect(next.pruned).toHaveLength(5);
  }, 120_000);

  it('Llama with grouped-query attention: one map per query head', async () => {
    const llama = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
    const summary = await llama.loadModel({ kind: 'dir', path: 'fixtures/hub/tiny/llama-gqa-bf16' });
    const shape = summary.layers[0]!;
    expect(shape.numKvHeads).toBeLessThan(shape.numHeads);
    const r = await llama.attentionPatterns({ text: 'hello world, hello there', knockout: [{ layer: 0, head: 0 }] });
    expect(r.heads.every((h) => h === shape.numHeads)).toBe(true);
    expectCausalRows(r);
  }, 120_000);
});
