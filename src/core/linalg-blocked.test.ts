/**
 * The blocked kernels against references computed differently here: a textbook column Cholesky
 * (Cholesky–Banachiewicz), L Lᵀ = A, A A⁻¹ = I, Gauss–Jordan inverses, and plain triple loops,
 * on random SPD matrices of sizes that straddle the 4x2 tiles and the 64 / 256 blocks; once on
 * the WebAssembly SIMD kernel and once on the scalar one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simdKernel } from './gemm-simd';
import { mulberry32 } from '../eval/generate';
import { inverseBlock, inverseDiagonal, inverseFromT, invertCholeskyInPlace, inverseTransposedLower } from './linalg-inverse';
import { choleskyBlocked, gemmNT, setSimd, solveRightLowerT, strided } from './linalg-blocked';

const SIZES = [1, 2, 7, 65, 129, 300];

/** A = X Xᵀ/m + 0.1 I with X [n, m], m = n + 5, plus a few large channels (ill-conditioned). */
function randomSpd(n: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const m = n + 5;
  const x = Float64Array.from({ length: n * m }, (_, i) => (r() * 2 - 1) * (i % 17 === 3 ? 10 : 1));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < m; t++) s += x[i * m + t]! * x[j * m + t]!;
      a[i * n + j] = s / m + (i === j ? 0.1 : 0);
    }
  return a;
}

/** Unblocked Cholesky–Banachiewicz, row by row. */
function naiveCholesky(a: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]!;
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = i === j ? Math.sqrt(s) : s / l[j * n + j]!;
    }
  return l;
}

/** Gauss–Jordan inverse with partial pivoting. */
function gaussJordan(a: Float64Array, n: number): Float64Array {
  const m = Float64Array.from(a);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[p * n + c]!)) p = r;
    for (const x of [m, inv]) for (let j = 0; j < n; j++) [x[c * n + j], x[p * n + j]] = [x[p * n + j]!, x[c * n + j]!];
    const d = m[c * n + c]!;
    for (let j = 0; j < n; j++) {
      m[c * n + j] = m[c * n + j]! / d;
      inv[c * n + j] = inv[c * n + j]! / d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r * n + c]!;
      for (let j = 0; j < n; j++) {
        m[r * n + j] = m[r * n + j]! - f * m[c * n + j]!;
        inv[r * n + j] = inv[r * n + j]! - f * inv[c * n + j]!;
      }
    }
  }
  return inv;
}

function matmul(a: Float64Array, b: Float64Array, n: number, k: number, p: number): Float64Array {
  const c = new Float64Array(n * p);
  for (let i = 0; i < n; i++) for (let t = 0; t < k; t++) for (let j = 0; j < p; j++) c[i * p + j]! += a[i * k + t]! * b[t * p + j]!;
  return c;
}

const transpose = (a: Float64Array, r: number, c: number) =>
  Float64Array.from({ length: r * c }, (_, i) => a[(i % r) * c + Math.floor(i / r)]!);

/** Nonzero entries above (upper = true) or below the diagonal. */
function offTriangle(a: Float64Array, n: number, upper: boolean): number {
  let count = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if ((upper ? j > i : j < i) && a[i * n + j] !== 0) count++;
  return count;
}

/** max |a − b| / max |b|. */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / (m || 1);
}

describe.each([
  ['WebAssembly SIMD', true],
  ['scalar', false],
])('%s kernel', (_, simd) => {
  beforeAll(() => setSimd(simd));
  afterAll(() => setSimd(true));
  if (simd) it('is available here (Node has WebAssembly SIMD)', () => expect(simdKernel()).not.toBeNull());
  kernelTests();
});

function kernelTests() {
  describe('gemmNT', () => {
    it('equals a triple loop for awkward shapes, with scattered output rows and columns', () => {
      const r = mulberry32(3);
      for (const [m, p, k] of [
        [1, 1, 1],
        [5, 3, 7],
        [9, 70, 300],
        [67, 130, 513],
      ] as const) {
        const a = Float64Array.from({ length: m * k }, () => r() - 0.5);
        const b = Float64Array.from({ length: p * k }, () => r() - 0.5);
        const ldc = p + 3;
        const c = Float64Array.from({ length: (2 * m + 1) * ldc }, () => r());
        const expected = Float64Array.from(c);
        const rows = strided(m, 2 * ldc, ldc); // every other row, from row 1
        const cols = Int32Array.from({ length: p }, (_, j) => p - 1 - j); // reversed columns
        for (let i = 0; i < m; i++)
          for (let j = 0; j < p; j++) {
            let s = 0;
            for (let t = 0; t < k; t++) s += a[i * k + t]! * b[j * k + t]!;
            expected[rows[i]! + cols[j]!]! -= 0.5 * s;
          }
        gemmNT(c, rows, cols, -0.5, a, 0, k, b, 0, k, k);
        expect(relErr(c, expected)).toBeLessThan(1e-14);
      }
    });
  });

  describe('blocked Cholesky and inverses', () => {
    for (const n of SIZES) {
      it(`n = ${n}: L Lᵀ = A, equal to the unblocked factor, and T Tᵀ A = I`, () => {
        const a = randomSpd(n, n);
        const l = choleskyBlocked(a, n)!;
        expect(offTriangle(l, n, true)).toBe(0);
        expect(relErr(matmul(l, transpose(l, n, n), n, n, n), a)).toBeLessThan(1e-13);
        expect(relErr(l, naiveCholesky(a, n))).toBeLessThan(1e-12);
        const t = inverseTransposedLower(l, n);
        expect(offTriangle(t, n, false)).toBe(0);
        const inv = inverseFromT(t, n);
        const gj = gaussJordan(a, n);
        expect(relErr(inv, gj)).toBeLessThan(1e-9);
        let asymmetric = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (inv[j * n + i] !== inv[i * n + j]) asymmetric++;
        expect(asymmetric).toBe(0);
        const eye = Float64Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0));
        expect(relErr(matmul(a, inv, n, n, n), eye)).toBeLessThan(1e-9);
        expect(
          relErr(
            inverseDiagonal(t, n),
            Float64Array.from({ length: n }, (_, i) => gj[i * n + i]!),
          ),
        ).toBeLessThan(1e-9);
        const from = Math.floor(n / 3);
        const size = Math.min(n - from, 9);
        const blk = Float64Array.from({ length: size * size }, (_, i) => gj[(from + Math.floor(i / size)) * n + from + (i % size)]!);
        expect(relErr(inverseBlock(t, n, from, size), blk)).toBeLessThan(1e-9);
        const inPlace = choleskyBlocked(a, n)!;
        invertCholeskyInPlace(inPlace, n);
        expect(relErr(inPlace, gj)).toBeLessThan(1e-9);
        expect(relErr(inPlace, inv)).toBeLessThan(1e-12);
        let asymmetricInPlace = 0;
        for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) if (inPlace[j * n + i] !== inPlace[i * n + j]) asymmetricInPlace++;
        expect(asymmetricInPlace).toBe(0);
      });
    }

    it('returns null for a matrix that is not positive definite, at any position of the bad pivot', () => {
      for (const n of [3, 70, 140]) {
        const a = randomSpd(n, 9);
        const bad = n - 2;
        a[bad * n + bad] = -1;
        expect(choleskyBlocked(a, n)).toBeNull();
      }
      expect(choleskyBlocked(Float64Array.from([1, 2, 2, 1]), 2)).toBeNull();
    });

    it('solveRightLowerT: (X L⁻ᵀ) Lᵀ = X', () => {
      const r = mulberry32(5);
      for (const [rows, s] of [
        [1, 1],
        [3, 7],
        [77, 129],
      ] as const) {
        const l = choleskyBlocked(randomSpd(s, s + 1), s)!;
        const x = Float64Array.from({ length: rows * s }, () => r() - 0.5);
        const y = Float64Array.from(x);
        solveRightLowerT(y, rows, s, l);
        expect(relErr(matmul(y, transpose(l, s, s), rows, s, s), x)).toBeLessThan(1e-12);
      }
    });
  });
}
