/** Model-map data: percentile ranks with ties, FFN bins sorted by score gather a plan's cuts, widths under GQA. */
import { describe, expect, it } from 'vitest';
import { ffnBins, layerCut, layerWidths, percentiles } from './map-model';
import { firstDivergence } from './teach-actions';

describe('model map data', () => {
  it('percentiles: 0 for the lowest, 1 for the highest, ties share the lower rank', () => {
    expect([...percentiles([3, 1, 2, 2])]).toEqual([1, 0, 1 / 3, 1 / 3]);
  });

  it('FFN bins sorted by score put the lowest-scored (cut) neurons in the first bins', () => {
    const scores = [5, 0, 7, 1, 6, 2, 4, 3];
    const cut = { removed: false, heads: new Set<number>(), ffn: new Set([1, 3, 5, 7]) }; // the four lowest
    const bins = ffnBins(percentiles(scores), 8, 0, cut, 4);
    expect(bins.map((b) => b.cut)).toEqual([1, 1, 0, 0]);
    expect(bins[0]!.mean).toBeLessThan(bins[3]!.mean);
    expect(ffnBins(null, 8, 0, cut, 4).map((b) => b.cut)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('before / after widths count kv groups under grouped-query attention; a removed layer keeps nothing', () => {
    const shape = { numHeads: 8, numKvHeads: 2, ffnSize: 16 };
    const plan = {
      layers: [
        { index: 0, removed: false, removedHeads: [0, 1, 2, 3], removedFfn: [0, 1] },
        { index: 1, removed: true, removedHeads: [], removedFfn: [] },
      ],
    } as unknown as Parameters<typeof layerCut>[0];
    expect(layerWidths(shape, layerCut(plan, 0))).toEqual({ heads: [8, 4], kvGroups: [2, 1], ffn: [16, 14] });
    expect(layerWidths(shape, layerCut(plan, 1))).toEqual({ heads: [8, 0], kvGroups: [2, 0], ffn: [16, 0] });
  });

  it('first divergence of two generations', () => {
    expect(firstDivergence([1, 2, 3], [1, 2, 4])).toBe(2);
    expect(firstDivergence([1, 2], [1, 2])).toBe(-1);
    expect(firstDivergence([1, 2], [1, 2, 5])).toBe(2);
  });
});
