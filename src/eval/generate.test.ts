import { describe, expect, it } from 'vitest';
import { generateIds, mulberry32, sampleToken } from './generate';

describe('sampling', () => {
  it('is greedy at temperature 0 and restricted to the top-k', () => {
    const logits = [0.1, 3, 2.9, -1];
    expect(sampleToken(logits, 0, 0, () => 0.99)).toBe(1);
    // top-2 at T=1: p(1) = 1/(1+e^-0.1) = 0.52498; u below that picks 1, above picks 2, never 0 or 3
    expect(sampleToken(logits, 1, 2, () => 0.5)).toBe(1);
    expect(sampleToken(logits, 1, 2, () => 0.53)).toBe(2);
    expect(sampleToken(logits, 1, 2, () => 0.9999)).toBe(2);
  });

  it('is reproducible for a seed and stops at the stop id', async () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
    const ids = await generateIds([1], 4, async (ctx) => (ctx.length >= 3 ? [0, 0, 9] : [0, 9, 0]), {
      maxNewTokens: 10,
      temperature: 0,
      topK: 0,
      seed: 1,
      stopId: 2,
    });
    expect(ids).toEqual([1, 1]);
  });

  it('samples in the order logits descending, ties by index, on every top-k path (insertion, keyed sort, comparator)', () => {
    // reference: the comparator sort over all indices
    const reference = (logits: ArrayLike<number>, temperature: number, topK: number, u: number) => {
      const n = logits.length;
      const k = Math.max(1, Math.min(topK > 0 ? topK : n, n));
      const idx = Array.from({ length: n }, (_, i) => i)
        .sort((a, b) => logits[b]! - logits[a]! || a - b)
        .slice(0, k);
      const weights = idx.map((i) => Math.exp((logits[i]! - logits[idx[0]!]!) / temperature));
      let left = u * weights.reduce((a, b) => a + b, 0);
      for (let j = 0; j < k; j++) if ((left -= weights[j]!) <= 0) return idx[j]!;
      return idx[k - 1]!;
    };
    const rnd = mulberry32(5);
    // few distinct values (many ties), both signs, and -0 beside +0
    const f32 = Float32Array.from({ length: 3000 }, () => Math.round((rnd() - 0.5) * 16) / 4);
    f32[7] = -0;
    f32[9] = 0;
    const f64 = Array.from({ length: 500 }, () => (rnd() - 0.5) * 3.3); // not float32 values: comparator path
    for (const logits of [f32, f64]) {
      for (const topK of [1, 3, 40, 256, 257, 1000, 0]) {
        for (const u of [0, 0.001, 0.3, 0.77, 0.999999]) {
          expect(sampleToken(logits, 0.7, topK, () => u)).toBe(reference(logits, 0.7, topK, u));
        }
      }
    }
  });
});
