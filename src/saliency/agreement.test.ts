import { describe, expect, it } from 'vitest';
import { agreementMatrix, ranks, spearman } from './agreement';

describe('spearman', () => {
  it('matches the textbook example with ties (average ranks)', () => {
    expect([...ranks([10, 20, 20, 5])]).toEqual([2, 3.5, 3.5, 1]);
    // scipy.stats.spearmanr([1,2,3,4,5],[5,6,7,8,7]) = 0.8207826816681233
    expect(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7])).toBeCloseTo(0.8207826816681233, 12);
    expect(spearman([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
  });

  it('builds a symmetric matrix over the criteria that score the unit', () => {
    const m = agreementMatrix('layers', [
      { criterion: 'a', heads: null, ffn: null, layers: Float64Array.from([1, 2, 3]) },
      { criterion: 'b', heads: null, ffn: null, layers: null },
      { criterion: 'c', heads: null, ffn: null, layers: Float64Array.from([3, 1, 2]) },
    ]);
    expect(m.criteria).toEqual(['a', 'c']);
    expect(m.values[1]).toBeCloseTo(-0.5, 12);
    expect(m.values[2]).toBeCloseTo(-0.5, 12);
  });
});
