import { describe, expect, it } from 'vitest';
import { symmetricEigen } from './eigen';

describe('symmetricEigen (Jacobi)', () => {
  it('a known 2x2: [[2,1],[1,2]] has eigenvalues 3, 1', () => {
    const { values, vectors } = symmetricEigen([2, 1, 1, 2], 2);
    expect(values[0]).toBeCloseTo(3, 12);
    expect(values[1]).toBeCloseTo(1, 12);
    expect(Math.abs(vectors[0]!)).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('A V = V Λ with orthonormal V and descending Λ on a random symmetric matrix', () => {
    const n = 9;
    let seed = 5;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
    const b = Array.from({ length: n * n }, rnd);
    const a = Array.from({ length: n * n }, (_, i) => b[i]! + b[(i % n) * n + Math.floor(i / n)]!);
    const { values, vectors: v } = symmetricEigen(a, n);
    for (let k = 1; k < n; k++) expect(values[k]!).toBeLessThanOrEqual(values[k - 1]!);
    for (let i = 0; i < n; i++) {
      for (let k = 0; k < n; k++) {
        let av = 0;
        for (let j = 0; j < n; j++) av += a[i * n + j]! * v[j * n + k]!;
        expect(av).toBeCloseTo(values[k]! * v[i * n + k]!, 10);
        let dot = 0;
        for (let j = 0; j < n; j++) dot += v[j * n + i]! * v[j * n + k]!;
        expect(dot).toBeCloseTo(i === k ? 1 : 0, 10);
      }
    }
  });
});
