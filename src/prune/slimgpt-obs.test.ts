/**
 * SlimGPT's OBS removal against identities that hold independently of how it is computed:
 * the joint update equals the damped least-squares refit of the kept columns, the downdated
 * inverse equals a fresh inverse of H with the removed rows/columns replaced by the identity,
 * removing S1 then S2 equals removing S1 ∪ S2 at once, and the dynamic group sizes follow the
 * schedule METHODS-BRIEF §4 spells out (T = 2202 → 845, 166, 64, ...).
 */
import { describe, expect, it } from 'vitest';
import { cholesky, inverseFromCholesky, prepareHessian } from '../core/linalg';
import { mulberry32 } from '../eval/generate';
import { obsState, removeColumns } from './obs-update';
import { dynamicGroupSizes, groupError, removeChannelsDynamic, removeGroupsGreedy } from './slimgpt-obs';

function problem(rows: number, n: number, tokens: number, seed: number) {
  const r = mulberry32(seed);
  const x = Array.from({ length: tokens * n }, () => r() * 2 - 1 + (r() < 0.1 ? 3 : 0));
  const h = new Float64Array(n * n);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j]! += (2 * x[t * n + i]! * x[t * n + j]!) / 4;
  const w = Float64Array.from({ length: rows * n }, () => r() * 2 - 1);
  return { h, w };
}

/** Solves A x = b for SPD A (n x n) column by column. */
function solve(a: Float64Array, n: number, b: Float64Array, cols: number): Float64Array {
  const inv = inverseFromCholesky(cholesky(a, n)!, n);
  const out = new Float64Array(n * cols);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < cols; c++) for (let k = 0; k < n; k++) out[i * cols + c]! += inv[i * n + k]! * b[k * cols + c]!;
  return out;
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describe('removeColumns', () => {
  const rows = 5;
  const n = 12;
  const { h, w } = problem(rows, n, 40, 7);
  const S = [2, 3, 9];
  const K = Array.from({ length: n }, (_, i) => i).filter((i) => !S.includes(i));

  it('equals the damped least-squares refit W_K = W H[:,K] H[K,K]^-1', () => {
    const st = obsState(w, rows, n, h);
    removeColumns(st, S);
    const hd = prepareHessian(h, n, 0.01).h;
    const k = K.length;
    // (W H[:,K])^T = H[K,:] W^T, solve H[K,K] Y = H[K,:] W^T, W_K' = Y^T
    const hkk = Float64Array.from({ length: k * k }, (_, idx) => hd[K[Math.floor(idx / k)]! * n + K[idx % k]!]!);
    const rhs = new Float64Array(k * rows);
    K.forEach((ki, a) => {
      for (let r = 0; r < rows; r++) for (let j = 0; j < n; j++) rhs[a * rows + r]! += hd[ki * n + j]! * w[r * n + j]!;
    });
    const y = solve(hkk, k, rhs, rows);
    let worst = 0;
    K.forEach((ki, a) => {
      for (let r = 0; r < rows; r++) worst = Math.max(worst, Math.abs(st.w[r * n + ki]! - y[a * rows + r]!));
    });
    expect(worst).toBeLessThan(1e-10);
    for (const c of S) for (let r = 0; r < rows; r++) expect(st.w[r * n + c]).toBe(0);
  });

  it('downdates H^-1 to the inverse of H with the removed rows and columns set to the identity', () => {
    const st = obsState(w, rows, n, h);
    removeColumns(st, S);
    const hd = prepareHessian(h, n, 0.01).h;
    for (const c of S) {
      for (let j = 0; j < n; j++) hd[c * n + j] = hd[j * n + c] = 0;
      hd[c * n + c] = 1;
    }
    expect(maxDiff(st.hinv, inverseFromCholesky(cholesky(hd, n)!, n))).toBeLessThan(1e-10);
  });

  it('removing S1 then S2 equals removing S1 and S2 together', () => {
    const a = obsState(w, rows, n, h);
    removeColumns(a, [2, 9]);
    removeColumns(a, [3]);
    const b = obsState(w, rows, n, h);
    removeColumns(b, S);
    expect(maxDiff(a.w, b.w)).toBeLessThan(1e-10);
    expect(maxDiff(a.hinv, b.hinv)).toBeLessThan(1e-10);
  });
});

describe('greedy groups and dynamic channel groups', () => {
  it('a group of one column has the OBS error W_j^2 / H^-1_jj', () => {
    const { h, w } = problem(3, 6, 30, 3);
    const st = obsState(w, 3, 6, h);
    const colSq = new Float64Array(6);
    for (let r = 0; r < 3; r++) for (let j = 0; j < 6; j++) colSq[j]! += w[r * 6 + j]! ** 2;
    for (let j = 0; j < 6; j++) expect(groupError(st, colSq, j, 1)).toBeCloseTo(colSq[j]! / st.hinv[j * 6 + j]!, 12);
  });

  it('greedy removal picks the least-error group first and never picks a group twice', () => {
    const { h, w } = problem(4, 16, 50, 11);
    const st = obsState(w, 4, 16, h);
    const colSq = new Float64Array(16);
    for (let r = 0; r < 4; r++) for (let j = 0; j < 16; j++) colSq[j]! += w[r * 16 + j]! ** 2;
    const errors = [0, 1, 2, 3].map((g) => groupError(st, colSq, g, 4));
    const { order, errors: picked } = removeGroupsGreedy(st, 4, 3);
    expect(order[0]).toBe(errors.indexOf(Math.min(...errors)));
    expect(picked[0]).toBeCloseTo(Math.min(...errors), 12);
    expect(new Set(order).size).toBe(3);
  });

  it('dynamic group sizes follow b = floor((T - 512) / 2), then b = floor((b - 512) / 2), clamped to [64, 1024]', () => {
    expect(dynamicGroupSizes(2202).slice(0, 3)).toEqual([845, 166, 64]);
    expect(dynamicGroupSizes(2202).reduce((a, b) => a + b, 0)).toBe(2202);
    expect(dynamicGroupSizes(512)).toEqual(new Array(8).fill(64));
    expect(dynamicGroupSizes(768)).toEqual([128, ...new Array(10).fill(64)]);
    // T = 5000: b = 2244 (capped to 1024), 866, 177, then 64s and the remainder
    expect(dynamicGroupSizes(5000)).toEqual([1024, 866, 177, ...new Array(45).fill(64), 53]);
    expect(dynamicGroupSizes(30)).toEqual([30]);
  });

  it('removes exactly the requested number of distinct channels', () => {
    const { h, w } = problem(3, 80, 100, 5);
    const st = obsState(w, 3, 80, h);
    const { removed, groups } = removeChannelsDynamic(st, 70);
    expect(groups).toEqual([64, 6]);
    expect(new Set(removed).size).toBe(70);
  });
});
