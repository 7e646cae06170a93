/**
 * Dense float64 linear algebra for Hessians (row-major n x n): Cholesky, inverse via Cholesky,
 * damping. The O(n³) work runs on the cache-blocked kernels of linalg-blocked.ts (n = 3,072 in
 * seconds).
 */
import { NumericError } from './errors';
import { choleskyBlocked } from './linalg-blocked';
import { inverseFromT, inverseTransposedLower, invertCholeskyInPlace } from './linalg-inverse';

export type Matrix = Float64Array;

/** Lower Cholesky factor L (A = L L^T) of a symmetric positive-definite matrix; returns null if not PD. */
export function cholesky(a: Matrix, n: number): Matrix | null {
  return choleskyBlocked(a, n);
}

/**
 * Inverse of an SPD matrix from its lower Cholesky factor: A^-1 = L^-T L^-1 = T Tᵀ with T = L^-T,
 * both steps blocked products of contiguous rows (linalg-blocked.ts).
 */
export function inverseFromCholesky(l: Matrix, n: number): Matrix {
  return inverseFromT(inverseTransposedLower(l, n), n);
}

/**
 * Symmetrise, give dead inputs (H_jj = 0) a unit diagonal, and add `relDamp * mean(diag H)` to the
 * diagonal; `lambda` is that added amount. Works on a copy (prepareHessianInPlace on it).
 */
export function prepareHessian(h: Matrix, n: number, relDamp: number): { h: Matrix; dead: boolean[]; lambda: number } {
  const out = h.slice(0, n * n);
  return { h: out, ...prepareHessianInPlace(out, n, relDamp) };
}

/** prepareHessian written over `h` itself (no n x n copy). */
export function prepareHessianInPlace(h: Matrix, n: number, relDamp: number): { dead: boolean[]; lambda: number } {
  // h_ij = h_ji = (h_ij + h_ji) / 2, each pair once, by 64 x 64 tiles of the upper triangle so the
  // transposed reads stay in cache.
  for (let i0 = 0; i0 < n; i0 += 64) {
    for (let j0 = i0; j0 < n; j0 += 64) {
      const i1 = Math.min(n, i0 + 64);
      const j1 = Math.min(n, j0 + 64);
      for (let i = i0; i < i1; i++) {
        for (let j = Math.max(j0, i); j < j1; j++) {
          const v = 0.5 * (h[i * n + j]! + h[j * n + i]!);
          h[i * n + j] = v;
          h[j * n + i] = v;
        }
      }
    }
  }
  const dead: boolean[] = [];
  let diagMean = 0;
  for (let i = 0; i < n; i++) {
    const isDead = h[i * n + i] === 0;
    dead.push(isDead);
    if (isDead) h[i * n + i] = 1;
    diagMean += h[i * n + i]! / n;
  }
  const lambda = relDamp * diagMean;
  for (let i = 0; i < n; i++) h[i * n + i] = h[i * n + i]! + lambda;
  return { dead, lambda };
}

/** A Hessian, or a function that makes one, as a maker of fresh arrays (a given matrix is copied, never written). */
export function hessianMaker(h: Matrix | (() => Matrix), n: number): () => Matrix {
  return typeof h === 'function' ? h : () => h.slice(0, n * n);
}

/**
 * dampedCholesky of the Hessian that `make` returns (a fresh array per call), computed in that array:
 * one n x n array alive instead of three (the Hessian, its damped copy, the factor). A retry with 10x
 * the damping asks `make` again. Same factor bit for bit.
 */
export function dampedCholeskyOf(
  make: () => Matrix,
  n: number,
  relDamp = 0.01,
): { l: Matrix; damping: number; lambda: number; dead: boolean[] } {
  let damp = relDamp;
  for (let attempt = 0; attempt < 4; attempt++, damp *= 10) {
    const h = make();
    const prepared = prepareHessianInPlace(h, n, damp);
    const l = choleskyBlocked(h, n, true);
    if (l) return { l, damping: damp, ...prepared };
  }
  throw new NumericError(`The ${n}x${n} Hessian is not positive definite even with damping ${damp}.`);
}

/**
 * Inverse of a damped Hessian; retries with 10x the damping (up to 3 times) when not positive
 * definite. `damping` is the relative damping used, `lambda` the amount added to the diagonal.
 * `h` is left as it was (one copy is factored and inverted in place: two n x n arrays alive).
 */
export function dampedInverse(h: Matrix, n: number, relDamp = 0.01): { inv: Matrix; damping: number; lambda: number; dead: boolean[] } {
  return dampedInverseOf(hessianMaker(h, n), n, relDamp);
}

/**
 * dampedInverse of the Hessian that `make` returns (a fresh array per call), factored and inverted
 * in that array (invertCholeskyInPlace): one n x n array alive.
 */
export function dampedInverseOf(
  make: () => Matrix,
  n: number,
  relDamp = 0.01,
): { inv: Matrix; damping: number; lambda: number; dead: boolean[] } {
  const { l, ...rest } = dampedCholeskyOf(make, n, relDamp);
  invertCholeskyInPlace(l, n);
  return { inv: l, ...rest };
}

/**
 * Cholesky factor of the damped Hessian (prepareHessian), retried with 10x the damping (up to 3
 * times) when not positive definite; `h` is left as it was.
 */
export function dampedCholesky(h: Matrix, n: number, relDamp = 0.01): { l: Matrix; damping: number; lambda: number; dead: boolean[] } {
  return dampedCholeskyOf(hessianMaker(h, n), n, relDamp);
}

/** Inverse of a symmetric positive-definite matrix; a NumericError naming `what` when it is not PD. */
export function inverseSpd(a: Matrix, n: number, what: string): Matrix {
  const l = cholesky(a, n);
  if (!l) throw new NumericError(`${what} is not positive definite.`);
  return inverseFromCholesky(l, n);
}

/** Copies the square block [from, from+size) x [from, from+size) of an n x n matrix. */
export function block(a: Matrix, n: number, from: number, size: number): Matrix {
  const b = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j < size; j++) b[i * size + j] = a[(from + i) * n + from + j]!;
  }
  return b;
}
