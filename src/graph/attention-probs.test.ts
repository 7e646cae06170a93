/**
 * The `attentionProbs` option: attn_probs.i of every layer against the float64 reference forward
 * pass (independent softmax per query head), for multi-head GPT-2 and grouped-query Llama; the
 * option adds outputs and changes no other output.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../core/ir';
import { createNodeRunner } from '../runtime/ort-node';
import { referenceForward } from '../test-util/forward';
import { floats, idsFeed, maskFeeds, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';

const runner = createNodeRunner({ threads: 1 });
const IDS = [
  [1, 7, 30, 2, 19],
  [38, 4, 4, 12, 0],
];

async function expectProbsMatch(ir: ModelIR): Promise<void> {
  const out = await runGraph(runner, ir, { attentionProbs: true, masks: true }, { ...idsFeed(IDS), ...maskFeeds(ir) });
  const S = IDS[0]!.length;
  const refs = IDS.map((row) => referenceForward(ir, row));
  ir.layers.forEach((shape, l) => {
    const t = out[`attn_probs.${l}`];
    expect(t?.dims).toEqual([IDS.length, shape.numHeads, S, S]);
    // Reference rows cover keys 0..t; future keys must be exactly 0 in the graph.
    const expected = refs.flatMap((r) =>
      r.probs[l]!.flatMap((head) => head.flatMap((row) => [...row, ...new Array<number>(S - row.length).fill(0)])),
    );
    expect(maxAbsDiff(floats(t), expected)).toBeLessThan(1e-5);
  });
  const plain = await runGraph(runner, ir, { masks: true }, { ...idsFeed(IDS), ...maskFeeds(ir) });
  expect(maxAbsDiff(floats(out.logits), floats(plain.logits))).toBe(0);
}

describe('attentionProbs', () => {
  it('GPT-2: every head of every layer equals the reference softmax', async () => {
    await expectProbsMatch(randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 }));
  });

  it('Llama with grouped-query attention (4 q heads, 2 kv heads): per query head', async () => {
    await expectProbsMatch(randomLlamaIR());
  });
});
