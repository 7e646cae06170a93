/**
 * The KV decoder's feeds (no onnxruntime): a context extending the cached one runs only the new
 * tokens, with positions and attention_mask counted from the cache and the previous presents as
 * past; anything else (first call, slid window, reset) prefills with empty pasts of the layer's width.
 */
import { describe, expect, it } from 'vitest';
import type { Feeds, RunnerSession, RunnerTensor } from '../core/runner';
import { createKvDecoder } from './kv-decoder';

const ints = (t: RunnerTensor | undefined) => Array.from(t?.data ?? [], Number);

/** A fake with-past session: present.l.* = [batch, K, past + seq, 2] filled with the run index; logits = run index. */
function fakeSession(kvHeads: number[], runs: Feeds[]): RunnerSession {
  return {
    inputNames: [],
    outputNames: [],
    backend: { name: 'fake', threads: 1, engine: 'fake' },
    async run(feeds) {
      runs.push(feeds);
      const n = feeds.input_ids!.dims[1]!;
      const total = feeds.attention_mask!.dims[1]!;
      const out: Record<string, RunnerTensor> = {
        logits: { type: 'float32', dims: [1, n, 3], data: new Float32Array(n * 3).fill(runs.length) },
      };
      kvHeads.forEach((K, l) => {
        const t = { type: 'float32', dims: [1, K, total, 2], data: new Float32Array(K * total * 2).fill(runs.length) } as const;
        out[`present.${l}.key`] = t;
        out[`present.${l}.value`] = t;
      });
      return out;
    },
    release: async () => {},
  };
}

describe('createKvDecoder', () => {
  it('prefills once, then steps one token with the previous presents; re-prefills when the context does not extend the cache', async () => {
    const runs: Feeds[] = [];
    const decoder = createKvDecoder(fakeSession([2, 0], runs), { kvHeads: [2, 0], headDim: 2, vocabSize: 3 });
    expect(Array.from(await decoder.lastLogits([5, 6, 7]))).toEqual([1, 1, 1]);
    expect(runs[0]!['past_key_values.0.key']?.dims).toEqual([1, 2, 0, 2]);
    expect(runs[0]!['past_key_values.1.value']?.dims).toEqual([1, 0, 0, 2]);
    expect(ints(runs[0]!.position_ids)).toEqual([0, 1, 2]);

    expect(Array.from(await decoder.lastLogits([5, 6, 7, 8]))).toEqual([2, 2, 2]);
    expect(ints(runs[1]!.input_ids)).toEqual([8]);
    expect(ints(runs[1]!.position_ids)).toEqual([3]);
    expect(ints(runs[1]!.attention_mask)).toEqual([1, 1, 1, 1]);
    expect(runs[1]!['past_key_values.0.key']?.dims).toEqual([1, 2, 3, 2]);
    expect(runs[1]!['past_key_values.0.key']?.data[0]).toBe(1);

    await decoder.lastLogits([6, 7, 8, 9]); // the window slid
    expect(ints(runs[2]!.input_ids)).toEqual([6, 7, 8, 9]);
    expect(ints(runs[2]!.position_ids)).toEqual([0, 1, 2, 3]);
    expect(runs[2]!['past_key_values.0.key']?.dims).toEqual([1, 2, 0, 2]);

    decoder.reset();
    await decoder.lastLogits([6, 7, 8, 9, 10]);
    expect(ints(runs[3]!.input_ids)).toHaveLength(5);
    expect(decoder.stats).toEqual({ prefills: 3, steps: 1 });
  });
});
