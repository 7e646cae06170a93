import { describe, expect, it } from 'vitest';
import { biasCompensated, obsCompensated } from './compensate';
import { cholesky, inverseFromCholesky, prepareHessian } from '../core/linalg';
import { tensor } from '../core/tensor';
import { accumulateChannels, type ChannelStats } from '../saliency/stats';
import { gramMatrix } from '../core/stats';
import { packedGramLength } from '../core/packed-gram';
import { seededRandom } from '../test-util/random-ir';

describe('bias compensation (FLAP)', () => {
  it('moves the mean contribution of removed channels into the bias', () => {
    const lin = { weight: tensor([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6])), bias: tensor([2], Float32Array.from([0.5, -0.5])) };
    const out = biasCompensated(lin, [0, 2], Float64Array.from([10, 20, 30]));
    expect([...out.bias!.data]).toEqual([0.5 + 1 * 10 + 3 * 30, -0.5 + 4 * 10 + 6 * 30]);
  });
});

describe('OBS compensation', () => {
  it('equals the damped least-squares re-fit of the kept columns', () => {
    const rnd = seededRandom(3);
    const n = 6;
    const rows = 3;
    const tokens = 40;
    const x = Float32Array.from({ length: tokens * n }, () => rnd());
    for (let t = 0; t < tokens; t++) x[t * n + 5] = x[t * n + 0]! * 0.7 + x[t * n + 1]! * 0.2; // correlated input
    const stats: ChannelStats = {
      channels: n,
      count: 0,
      sum: new Float64Array(n),
      sumSq: new Float64Array(n),
      gram: new Float32Array(packedGramLength(n)),
    };
    accumulateChannels(stats, x, tokens);
    const w = tensor(
      [rows, n],
      Float32Array.from({ length: rows * n }, () => rnd()),
    );
    const removed = [0, 3];
    const out = obsCompensated({ weight: w }, removed, stats, 4);

    // Independent: W'_K = W H_{:,K} (H_KK)^-1 with the same damped H = 2 X^T X / 4
    const h = prepareHessian(
      gramMatrix(stats).map((v) => (2 * v) / 4),
      n,
      0.01,
    ).h;
    const keep = [1, 2, 4, 5];
    const k = keep.length;
    const hkk = new Float64Array(k * k);
    keep.forEach((a, i) => keep.forEach((b, j) => (hkk[i * k + j] = h[a * n + b]!)));
    const hkkInv = inverseFromCholesky(cholesky(hkk, k)!, k);
    for (let r = 0; r < rows; r++) {
      const whk = keep.map((_, j) =>
        Array.from({ length: n }, (_, c) => w.data[r * n + c]! * h[c * n + keep[j]!]!).reduce((a, b) => a + b, 0),
      );
      keep.forEach((col, i) => {
        const expected = whk.reduce((acc, v, j) => acc + v * hkkInv[j * k + i]!, 0);
        expect(out.weight.data[r * n + col]).toBeCloseTo(expected, 4);
      });
      for (const c of removed) expect(out.weight.data[r * n + c]).toBe(0);
    }
  });
});
