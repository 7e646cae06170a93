/**
 * obsRefit (W_K += W_S H_SK H_KK⁻¹) against the other form of the same update, obs-update.ts's
 * removeColumns on the full damped inverse (W_K −= W_S [(H⁻¹)_SS]⁻¹ (H⁻¹)_SK), on random Hessians
 * with a dead input, at sizes that straddle the blocked kernels' 64 / 256 blocks.
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../eval/generate';
import { obsRefit } from './obs-refit';
import { obsState, removeColumns } from './obs-update';

function randomHessian(n: number, tokens: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const x = Float64Array.from({ length: tokens * n }, (_, i) => (r() * 2 - 1) * (i % 13 === 2 ? 5 : 1));
  for (let t = 0; t < tokens; t++) {
    x[t * n + 1] = 0; // a dead input
    x[t * n + n - 1] = 0.6 * x[t * n]! + 0.4 * x[t * n + 2]!; // correlated inputs
  }
  const h = new Float64Array(n * n);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < n; i++) {
      const xi = x[t * n + i]!;
      if (xi) for (let j = 0; j < n; j++) h[i * n + j] = h[i * n + j]! + (2 * xi * x[t * n + j]!) / tokens;
    }
  return h;
}

describe('obsRefit', () => {
  it.each([
    [7, 3, 2],
    [70, 9, 35],
    [300, 20, 150],
    [300, 5, 1],
  ])('equals the full-inverse OBS update (n %i, rows %i, %i removed)', (n, rows, removedCount) => {
    const h = randomHessian(n, n + 40, n);
    const r = mulberry32(7 * n + removedCount);
    const w = Float32Array.from({ length: rows * n }, () => r() * 2 - 1);
    const S = Array.from({ length: n }, (_, j) => j)
      .sort((a, b) => ((a * 7919) % 101) - ((b * 7919) % 101) || a - b)
      .slice(0, removedCount);
    const fast = obsRefit(w, rows, n, h, S);
    const st = obsState(w, rows, n, h);
    removeColumns(st, S, 'S', false);
    expect(fast.damping).toBe(st.damping);
    let scale = 0;
    for (const v of st.w) scale = Math.max(scale, Math.abs(v));
    for (let i = 0; i < rows * n; i++) expect(Math.abs(fast.w[i]! - st.w[i]!)).toBeLessThan(1e-9 * scale);
    for (const c of S) for (let q = 0; q < rows; q++) expect(fast.w[q * n + c]).toBe(0);
    // the Hessian made on demand and damped in place gives the same weights bit for bit, and leaves h as it was
    const before = h.slice();
    const inPlace = obsRefit(w, rows, n, () => h.slice(), S);
    expect(inPlace.damping).toBe(fast.damping);
    expect(Buffer.from(inPlace.w.buffer).equals(Buffer.from(fast.w.buffer))).toBe(true);
    expect(Buffer.from(h.buffer).equals(Buffer.from(before.buffer))).toBe(true);
  });
});
