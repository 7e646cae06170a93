/**
 * Sequential calibration (collectStatsByLayer: one block's session at a time, the residual stream
 * carried over) gives the statistics of the whole-model tap graph (collectStats): channel sums,
 * packed Grams, block influence and the base loss, with masks, on a random GPT-2 and a random Llama
 * (GQA, untied head), batches of uneven size, block 0 embedding input_ids or fed the embedding
 * computed in JS; and each block's graph declares only its own weights.
 */
import { describe, expect, it } from 'vitest';
import type { RunnerSession } from '../core/runner';
import { chunkedHeadNll, type HeadInput } from '../graph/head-chunks';
import { openModelSession } from '../graph/model-session';
import type { GraphOptions } from '../graph/options';
import { createNodeRunner } from '../runtime/ort-node';
import { randomCalibrationSet, randomGpt2AndLlama } from '../test-util/random-models';
import { collectStats } from './calibrate';
import { collectStatsByLayer } from './calibrate-by-layer';
import { blockRowFlops } from '../core/run-size';
import { onesMasks } from './criteria/ablation';

const runner = createNodeRunner({ threads: 1 });
const graph: GraphOptions = { masks: true, taps: true, grams: 'packed', tokenLoss: true, logits: false };

const MODELS = randomGpt2AndLlama(300);

describe.each(MODELS)('collectStatsByLayer: %s', (_, make) => {
  const ir = make();
  const L = ir.layers.length;
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  const set = randomCalibrationSet(ir.spec.vocabSize, 5, 9, 11);
  const masks = onesMasks(L, H, F);
  masks.heads[1] = 0;
  masks.ffn[F + 2] = 0.5;

  it.each<[string, () => number | undefined, boolean, boolean?]>([
    ['batches of 2, 2 and 1', () => undefined, false],
    // a FLOPs budget of two rows of block 0: the last block (with the head) runs one row at a time
    ['the last block one row per run (FLOPs budget)', () => 2 * blockRowFlops(ir, 0, set.seq, true), false],
    // as api.calibrate: block 0 reads the embedding computed in JS (graph/embed-rows.ts) as hidden_in
    ['block 0 fed the embedding as hidden_in', () => undefined, true],
    // as api.calibrate on a large vocabulary: the last block stops before the head, whose loss runs in chunks (16 + 16 + 16 + 2 of 50)
    ['the head apart, in vocabulary chunks', () => undefined, true, true],
  ])('equals the whole-model statistics (masks, %s)', async (_, budget, embedded, headApart) => {
    const flopsBudget = budget();
    if (flopsBudget !== undefined) expect(blockRowFlops(ir, L - 1, set.seq, true)).toBeGreaterThan(flopsBudget / 2);
    const opts = { withGram: true, batchSize: 2, masks };
    const whole = await (async () => {
      const s = await openModelSession(runner, ir, graph);
      try {
        return await collectStats(ir, s, set, opts);
      } finally {
        await s.release();
      }
    })();
    const opened: RunnerSession[] = [];
    const byLayer = await collectStatsByLayer(
      ir,
      async (l) => {
        const head = headApart && l === L - 1 ? { head: false } : {};
        const s = await openModelSession(runner, ir, { ...graph, layerRange: { from: l, to: l + 1, embedded, ...head } });
        expect(s.inputNames.includes('hidden_in')).toBe(l > 0 || embedded);
        expect(s.outputNames.includes('token_nll')).toBe(l === L - 1 && !headApart);
        opened.push(s);
        return s;
      },
      set,
      {
        ...opts,
        ...(flopsBudget !== undefined ? { flopsBudget } : {}),
        ...(headApart ? { separateHead: async (x: HeadInput) => (await chunkedHeadNll(runner, ir, [x], 16))[0]! } : {}),
      },
    );
    expect(opened.length).toBe(L);
    expect(byLayer.numSequences).toBe(whole.numSequences);
    expect(byLayer.numTokens).toBe(whole.numTokens);
    expect(Math.abs(byLayer.baseLoss - whole.baseLoss)).toBeLessThan(1e-6 * Math.abs(whole.baseLoss));
    byLayer.layers.forEach((st, l) => {
      const ref = whole.layers[l]!;
      expect(Math.abs(st.influenceSum - ref.influenceSum), `influence ${l}`).toBeLessThan(1e-6 * Math.max(1, Math.abs(ref.influenceSum)));
      for (const k of ['attnIn', 'ffnIn'] as const) {
        expect(st[k].count).toBe(ref[k].count);
        const close = (a: ArrayLike<number>, b: ArrayLike<number>, what: string) => {
          const scale = Math.max(1e-6, ...Array.from(b, Math.abs));
          for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!) / scale, `${what} ${l} ${k}[${i}]`).toBeLessThan(1e-6);
        };
        close(st[k].sum, ref[k].sum, 'sum');
        close(st[k].sumSq, ref[k].sumSq, 'sumSq');
        close(st[k].gram!, ref[k].gram!, 'gram');
      }
    });
  });

  it("a middle block's graph reads hidden_in and only its own weights", async () => {
    const s = await openModelSession(runner, ir, { ...graph, layerRange: { from: 1, to: 2 } });
    try {
      expect(s.inputNames).toContain('hidden_in');
      const weights = s.inputNames.filter((n) => !['input_ids', 'labels', 'hidden_in', 'head_mask', 'ffn_mask', 'layer_mask'].includes(n));
      expect(weights.length).toBeGreaterThan(0);
      const head = ['weight.token_embedding', 'weight.lm_head', 'weight.final_norm', 'bias.final_norm'];
      for (const n of weights) expect(n.endsWith('.1') || (L === 2 && head.includes(n)), n).toBe(true);
      expect(weights.includes('weight.token_embedding')).toBe(L === 2 && ir.spec.tiedEmbeddings);
      expect(s.inputNames.includes('labels')).toBe(L === 2);
    } finally {
      await s.release();
    }
  });
});
