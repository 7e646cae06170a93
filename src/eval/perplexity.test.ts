import { describe, expect, it } from 'vitest';
import { NllAccumulator, accumulateScored, batchWindows, firstScoredPosition, planWindows, windowFeeds } from './perplexity';

describe('planWindows', () => {
  it.each([
    [1000, 128, 64],
    [1000, 128, 127],
    [129, 128, 64],
    [50, 128, 64],
    [2048, 64, 32],
    [777, 10, 3],
  ])('scores every token 1..N-1 exactly once (N=%i ctx=%i stride=%i)', (n, ctx, stride) => {
    const seen = new Array<number>(n).fill(0);
    for (const w of planWindows(n, ctx, stride)) {
      expect(w.end - w.begin).toBeLessThanOrEqual(ctx);
      expect(w.scoreFrom).toBeGreaterThanOrEqual(w.begin + 1);
      for (let t = w.scoreFrom; t < w.end; t++) seen[t] = (seen[t] ?? 0) + 1;
    }
    expect(seen[0]).toBe(0);
    expect(seen.slice(1).every((c) => c === 1)).toBe(true);
  });

  it('keeps ctx - stride tokens of context for tokens after the first window', () => {
    const w = planWindows(1000, 128, 64);
    expect(w[0]).toEqual({ begin: 0, end: 128, scoreFrom: 1 });
    expect(w[1]).toEqual({ begin: 64, end: 192, scoreFrom: 128 });
    expect(w.at(-1)?.end).toBe(1000);
  });

  it('rejects impossible protocols with a clear error', () => {
    expect(() => planWindows(100, 1, 1)).toThrow(/Context length/);
    expect(() => planWindows(100, 128, 0)).toThrow(/Stride/);
    expect(() => planWindows(100, 128, 128)).toThrow(/Stride/);
    expect(() => planWindows(1, 128, 64)).toThrow(/fewer than 2 tokens/);
  });
});

describe('batching and accumulation', () => {
  it('batches only windows of equal length and feeds shifted labels', () => {
    const ids = Array.from({ length: 300 }, (_, i) => i);
    const batches = batchWindows(planWindows(ids.length, 128, 64), 2);
    expect(batches.map((b) => b.map((w) => w.end - w.begin))).toEqual([[128, 128], [128], [108]]);
    const { inputIds, labels, len } = windowFeeds(ids, batches[0] ?? []);
    expect(len).toBe(128);
    expect(inputIds.slice(128, 131)).toEqual([64, 65, 66]);
    expect(labels.slice(0, 3)).toEqual([1, 2, 3]);
  });

  it('averages exactly the scored positions', () => {
    const w = planWindows(6, 4, 2); // [0,4) scores 1..3; [2,6) scores 4..5
    const acc = new NllAccumulator();
    // token_nll position p predicts token begin+p+1; encode the predicted token index as the value
    accumulateScored(acc, [w[0]!], Float32Array.from([1, 2, 3, 99]), 4);
    accumulateScored(acc, [w[1]!], Float32Array.from([99, 4, 5, 99]), 4);
    expect(acc.count).toBe(5);
    expect(acc.mean).toBeCloseTo(3, 12);
    expect(acc.stdError).toBeCloseTo(Math.sqrt(2.5 / 5), 12);
  });
});

describe('accumulateScored from the first scored position', () => {
  it('reads token_nll [batch, len - from] and scores each token 1..N-1 once, as the full rows do', () => {
    const windows = planWindows(40, 8, 3);
    const full = new NllAccumulator();
    const tail = new NllAccumulator();
    const seen: number[] = [];
    for (const batch of batchWindows(windows, 4)) {
      const len = batch[0]!.end - batch[0]!.begin;
      const from = firstScoredPosition(batch);
      // position p of a window predicts token begin + p + 1: store that token's index as its "NLL"
      const rows = (start: number) => batch.flatMap((w) => Array.from({ length: len - start }, (_, i) => w.begin + start + i + 1));
      accumulateScored(full, batch, Float32Array.from(rows(0)), len);
      accumulateScored(tail, batch, Float32Array.from(rows(from)), len, from);
      for (const w of batch) for (let t = w.scoreFrom; t < w.end; t++) seen.push(t);
    }
    expect(firstScoredPosition(windows.slice(1, 3))).toBe(4); // later windows score their last stride (3) positions
    expect(firstScoredPosition(windows.slice(0, 2))).toBe(0);
    expect(tail.count).toBe(39);
    expect(tail.mean).toBe(full.mean);
    expect(tail.mean).toBe(seen.reduce((a, b) => a + b, 0) / 39);
  });
});
