/** restoreScores: scores computed in one engine (e.g. cached across a reload) drive allocation in another. */
import { describe, expect, it } from 'vitest';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR } from '../test-util/golden';
import { NumericError, ShapeMismatchError, InputError } from '../core/errors';
import type { UnitScores } from '../saliency/types';
import { createStudioApi } from './studio';

const runner = createNodeRunner();
const open = async () => {
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
  const summary = await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  return { api, summary };
};
const request = { criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.25, layers: 0 } as const;

describe('restoreScores', () => {
  it('lets a fresh engine allocate from scores computed by another one, and refuses scores that do not fit', async () => {
    const first = await open();
    const scores = await first.api.computeImportance('magnitude');
    const expected = await first.api.allocatePlan(request);

    const { api, summary } = await open();
    expect(summary.fingerprint).toBe(first.summary.fingerprint);
    await expect(api.allocatePlan(request)).rejects.toThrow(/No magnitude scores yet/);
    // what IndexedDB gives back after a reload: plain typed arrays of the same values
    await api.restoreScores(structuredClone(scores));
    const plan = await api.allocatePlan(request);
    expect(plan.layers).toEqual(expected.layers);

    const short: UnitScores = { ...scores, heads: scores.heads!.slice(1) };
    await expect(api.restoreScores(short)).rejects.toThrow(ShapeMismatchError);
    await expect(api.restoreScores(short)).rejects.toThrow(
      /4 layers x 8 heads x 1024 FFN neurons, but the loaded model has 4 x 8 x 1024 \(wrong length: heads\)/,
    );
    await expect(api.restoreScores({ ...scores, numHeads: 12 })).rejects.toThrow(/12 heads/);
    const nan = scores.ffn!.slice();
    nan[5] = Number.NaN;
    await expect(api.restoreScores({ ...scores, ffn: nan })).rejects.toThrow(NumericError);
    await expect(api.restoreScores({ ...scores, criterion: 'nope' as never })).rejects.toThrow(InputError);
  }, 60_000);
});
