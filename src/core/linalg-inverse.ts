/**
 * Inverses from a Cholesky factor L (row-major float64, on the blocked kernels of linalg-blocked.ts):
 *  - inverseTransposedLower: T = L⁻ᵀ (upper), solved as T Lᵀ = I by column blocks;
 *  - inverseFromT / inverseDiagonal / inverseBlock: (LLᵀ)⁻¹ = T Tᵀ, whole, its diagonal or a block;
 *  - invertCholeskyInPlace: (LLᵀ)⁻¹ written over L itself (one n x n array: SlimGPT's H⁻¹).
 */
import { gemmNT, NB, solveBlockRows, strided } from './linalg-blocked';
import { stopPoint } from './job';

type F64 = Float64Array;

/** T = L⁻ᵀ (upper triangular, row-major) of a lower-triangular L: row i of T solves T Lᵀ = e_iᵀ (L is left as it was). */
export function inverseTransposedLower(l: F64, n: number): F64 {
  const t = l.slice(0, n * n);
  transposedInverseInPlace(t, n);
  return t;
}

/** (L Lᵀ)⁻¹ = T Tᵀ from T = L⁻ᵀ (T is left as it was). */
export function inverseFromT(t: F64, n: number): F64 {
  const inv = t.slice(0, n * n);
  gramOfUpperInPlace(inv, n);
  return inv;
}

/**
 * (L Lᵀ)⁻¹ written over L itself (`a` holds L: lower, upper triangle zero, as choleskyBlocked
 * returns it), so an n x n inverse needs one n x n array instead of three (L, T = L⁻ᵀ, T Tᵀ). The
 * same two steps as inverseTransposedLower and inverseFromT: T is solved into the upper triangle
 * while L's strict lower triangle is still read (L's diagonal saved aside, since both need theirs;
 * the part of each product that would read T's zero lower triangle, now L's, is summed apart);
 * then T Tᵀ is built in the lower triangle (the diagonal block through a small scratch, after the
 * block's T rows are read) and mirrored.
 */
export function invertCholeskyInPlace(a: F64, n: number): void {
  transposedInverseInPlace(a, n);
  gramOfUpperInPlace(a, n);
}

/**
 * L (lower, upper triangle zero) → T = L⁻ᵀ (upper, lower triangle zero) in the same array, by column
 * blocks: T[I, J] of the row blocks above by products with L's rows (T Lᵀ = I), then the diagonal
 * block row by row.
 */
function transposedInverseInPlace(a: F64, n: number): void {
  const ld = new Float64Array(n);
  for (let i = 0; i < n; i++) ld[i] = a[i * n + i]!;
  const rows = strided(n, n);
  const cols = strided(n, 1);
  for (let j0 = 0; j0 < n; j0 += NB) {
    stopPoint();
    const j1 = Math.min(n, j0 + NB);
    for (let i0 = 0; i0 < j0; i0 += NB) {
      const i1 = i0 + NB;
      // T[I, J] −= T[I, i1:j0] · L[J, i1:j0]ᵀ, then the diagonal block's part Σ_{i ≤ k < i1} T_ik L_jk.
      gemmNT(a, rows.subarray(i0, i1), cols.subarray(j0, j1), -1, a, i0 * n + i1, n, a, j0 * n + i1, n, j0 - i1);
      upperTriangleProduct(a, n, i0, i1, j0, j1);
    }
    solveBlockRows(a, j0, n, j0, a, j0 * n + j0, n, j1 - j0);
    for (let i = j0; i < j1; i++) {
      const ri = i * n;
      for (let j = i; j < j1; j++) {
        const rj = j * n;
        let s = j === i ? 1 : 0;
        for (let k = i; k < j; k++) s -= a[ri + k]! * a[rj + k]!;
        a[ri + j] = s / ld[j]!;
      }
    }
  }
  for (let i = 0; i < n; i++) a.fill(0, i * n, i * n + i);
}

/**
 * T (upper, lower triangle zero) → T Tᵀ in the same array: each row block's lower blocks by products
 * over k ≥ the row block (the diagonal block through a scratch, written after the block's T rows are
 * read), then mirrored so the result is exactly symmetric.
 */
function gramOfUpperInPlace(a: F64, n: number): void {
  const rows = strided(n, n);
  const cols = strided(n, 1);
  const scratch = new Float64Array(NB * NB);
  for (let i0 = 0; i0 < n; i0 += NB) {
    stopPoint();
    const i1 = Math.min(n, i0 + NB);
    const m = i1 - i0;
    scratch.fill(0);
    gemmNT(scratch, strided(m, m), strided(m, 1), 1, a, i0 * n + i0, n, a, i0 * n + i0, n, n - i0);
    for (let j0 = 0; j0 < i0; j0 += NB) {
      gemmNT(a, rows.subarray(i0, i1), cols.subarray(j0, j0 + NB), 1, a, i0 * n + i0, n, a, j0 * n + i0, n, n - i0);
    }
    for (let i = i0; i < i1; i++) for (let j = i0; j <= i; j++) a[i * n + j] = scratch[(i - i0) * m + (j - i0)]!;
  }
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j]!;
}

/** a[i, j] −= Σ_{i ≤ k < i1} a[i, k] · a[j, k] for i in [i0, i1), j in [j0, j1): T's upper diagonal block times L's rows. */
function upperTriangleProduct(a: F64, n: number, i0: number, i1: number, j0: number, j1: number): void {
  for (let i = i0; i < i1; i++) {
    const ri = i * n;
    for (let j = j0; j < j1; j++) {
      const rj = j * n;
      let s = 0;
      for (let k = i; k < i1; k++) s += a[ri + k]! * a[rj + k]!;
      a[ri + j] = a[ri + j]! - s;
    }
  }
}

/** diag((L Lᵀ)⁻¹)_i = Σ_{k ≥ i} T_ik², from T = L⁻ᵀ. */
export function inverseDiagonal(t: F64, n: number): F64 {
  const d = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let k = i * n + i; k < (i + 1) * n; k++) s += t[k]! * t[k]!;
    d[i] = s;
  }
  return d;
}

/** The diagonal block [from, from+size)² of (L Lᵀ)⁻¹ = T Tᵀ, from T = L⁻ᵀ. */
export function inverseBlock(t: F64, n: number, from: number, size: number): F64 {
  const out = new Float64Array(size * size);
  gemmNT(out, strided(size, size), strided(size, 1), 1, t, from * n + from, n, t, from * n + from, n, n - from);
  return out;
}
