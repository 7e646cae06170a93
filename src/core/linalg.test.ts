import { describe, expect, it } from 'vitest';
import { block, cholesky, dampedCholesky, dampedCholeskyOf, dampedInverse, inverseFromCholesky } from './linalg';

function randomSpd(n: number, seed: number): Float64Array {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  const x = Array.from({ length: n * 3 * n }, rnd);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) for (let k = 0; k < 3 * n; k++) a[i * n + j] = a[i * n + j]! + x[k * n + i]! * x[k * n + j]!;
  return a;
}

describe('linalg', () => {
  it('cholesky of a known 3x3 matrix', () => {
    // A = [[4,12,-16],[12,37,-43],[-16,-43,98]] has L = [[2,0,0],[6,1,0],[-8,5,3]]
    const l = cholesky(Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]), 3)!;
    expect([...l]).toEqual([2, 0, 0, 6, 1, 0, -8, 5, 3]);
    expect(cholesky(Float64Array.from([1, 2, 2, 1]), 2)).toBeNull();
  });

  it('inverse times matrix is the identity', () => {
    const n = 12;
    const a = randomSpd(n, 7);
    const inv = inverseFromCholesky(cholesky(a, n)!, n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[k * n + j]!;
        expect(s).toBeCloseTo(i === j ? 1 : 0, 9);
      }
    }
    expect([...block(a, n, 2, 2)]).toEqual([a[2 * n + 2], a[2 * n + 3], a[3 * n + 2], a[3 * n + 3]]);
  });

  it('damps a singular Hessian and gives dead inputs a unit diagonal', () => {
    const h = Float64Array.from([1, 1, 0, 1, 1, 0, 0, 0, 0]); // rank 1, third input dead
    const { inv, dead, damping } = dampedInverse(h, 3, 0.01);
    expect(dead).toEqual([false, false, true]);
    expect(damping).toBe(0.01);
    // H' = [[1+d,1,0],[1,1+d,0],[0,0,1+d]] with d = 0.01 * mean(diag [1,1,1]) = 0.01
    expect(inv[8]).toBeCloseTo(1 / 1.01, 12);
    expect(inv[0]).toBeCloseTo(1.01 / (1.01 * 1.01 - 1), 9);
  });
});

describe('dampedCholeskyOf (in place)', () => {
  it('gives the factor, damping and dead inputs of dampedCholesky bit for bit, also for a non-symmetric input with a dead channel', () => {
    const n = 70;
    const h = randomSpd(n, 5);
    h[3 * n + 10] = h[3 * n + 10]! + 0.25; // not symmetric: both symmetrise it
    for (let j = 0; j < n; j++) h[7 * n + j] = h[j * n + 7] = 0; // a dead input (zero row and column)
    const want = dampedCholesky(h, n);
    let calls = 0;
    const got = dampedCholeskyOf(() => (calls++, h.slice()), n);
    expect(calls).toBe(1);
    expect(got.damping).toBe(want.damping);
    expect(got.lambda).toBe(want.lambda);
    expect(got.dead).toEqual(want.dead);
    expect(got.dead[7]).toBe(true);
    expect(Buffer.from(got.l.buffer).equals(Buffer.from(want.l.buffer))).toBe(true);
  });

  it('asks for a fresh Hessian on each retry with 10x the damping, as dampedCholesky retries', () => {
    // indefinite: eigenvalues 1 and -0.05; damping 1% (+0.00475) and 10% (+0.0475) fail, 100% (+0.475) passes
    const h = Float64Array.from([0.475, 0.525, 0.525, 0.475]);
    const want = dampedCholesky(h, 2);
    let calls = 0;
    const got = dampedCholeskyOf(() => (calls++, h.slice()), 2);
    expect(want.damping).toBeCloseTo(1, 12);
    expect(calls).toBe(3);
    expect(got.damping).toBe(want.damping);
    expect([...got.l]).toEqual([...want.l]);
  });
});
