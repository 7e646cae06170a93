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
});
