/**
 * embedRows (the embedding in JS) is bitwise the graph's embedding: the hidden.0 tap of the whole
 * graph on a random GPT-2 (token + learned position rows) and on the same model without learned
 * positions (rotary: token rows alone, as Llama/Qwen), and block 0 fed it as hidden_in (layerRange
 * `embedded`) gives bitwise the stream block 0 computes from input_ids.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { float32Tensor, int64Tensor } from '../core/runner';
import { createNodeRunner } from '../runtime/ort-node';
import { floats, idsFeed, runGraph, SAMPLE_IDS } from '../test-util/graph-run';
import { randomIR } from '../test-util/random-ir';
import { embedRows } from './embed-rows';
import { openModelSession } from './model-session';

const runner = createNodeRunner({ threads: 1 });
const rows = SAMPLE_IDS.length;
const len = SAMPLE_IDS[0]!.length;
const ids = idsFeed(SAMPLE_IDS);

function withoutPositions(ir: ModelIR): ModelIR {
  const { positionEmbedding: _pe, ...weights } = ir.weights;
  return { ...ir, spec: { ...ir.spec, positions: 'rotary' }, weights };
}

describe('embedRows', () => {
  const gpt2 = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 });

  it('equals the hidden.0 tap bitwise, with and without learned positions', async () => {
    for (const ir of [gpt2, withoutPositions(gpt2)]) {
      const out = await runGraph(runner, ir, { taps: true }, ids);
      const embedded = embedRows(ir, ids.input_ids!, rows, len);
      // negative ids count from the end, as Gather's indices do
      const negative = idsFeed(SAMPLE_IDS.map((row) => row.map((id, t) => (t % 2 ? id - ir.spec.vocabSize : id))));
      expect(Array.from(embedRows(ir, negative.input_ids!, rows, len))).toEqual(Array.from(embedded));
      expect(embedded.length).toBe(rows * len * ir.spec.hiddenSize);
      expect(Array.from(embedded)).toEqual(Array.from(floats(out['hidden.0'])));
    }
  });

  it('block 0 fed the embedded stream gives the stream it computes from input_ids', async () => {
    const d = gpt2.spec.hiddenSize;
    const plain = await openModelSession(runner, gpt2, { tokenLoss: true, logits: false, layerRange: { from: 0, to: 1 } });
    const fed = await openModelSession(runner, gpt2, {
      tokenLoss: true,
      logits: false,
      layerRange: { from: 0, to: 1, embedded: true },
    });
    try {
      expect(plain.inputNames).not.toContain('hidden_in');
      expect(fed.inputNames).toContain('hidden_in');
      expect(fed.inputNames).not.toContain('weight.token_embedding');
      const a = await plain.run(ids, ['hidden.1']);
      const hidden = float32Tensor(embedRows(gpt2, ids.input_ids!, rows, len), [rows, len, d]);
      const b = await fed.run({ ...ids, hidden_in: hidden }, ['hidden.1']);
      expect(Array.from(floats(b['hidden.1']))).toEqual(Array.from(floats(a['hidden.1'])));
    } finally {
      await plain.release();
      await fed.release();
    }
  });

  it('names a token id outside the vocabulary', () => {
    expect(() => embedRows(gpt2, int64Tensor([1, 50], [1, 2]), 1, 2)).toThrow(InputError);
    expect(() => embedRows(gpt2, int64Tensor([1, -51], [1, 2]), 1, 2)).toThrow(InputError);
  });
});
