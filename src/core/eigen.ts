/**
 * Symmetric eigendecomposition (float64, row-major n x n) by cyclic Jacobi rotations: A = V diag(λ) Vᵀ,
 * eigenvalues sorted descending, eigenvectors in V's columns. O(n³) per sweep, a handful of sweeps;
 * meant for the small s x s matrices of attention redistribution (s = removed heads x head_dim).
 */

export interface SymmetricEigen {
  /** Eigenvalues, descending. */
  values: Float64Array;
  /** Eigenvectors as columns (row-major n x n): column k belongs to values[k]. */
  vectors: Float64Array;
}

function offDiagonalNorm(a: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) s += a[i * n + j]! ** 2;
  return Math.sqrt(2 * s);
}

/** One Jacobi rotation zeroing a[p][q] of the symmetric `a`, accumulated into `v`. */
function rotate(a: Float64Array, v: Float64Array, n: number, p: number, q: number): void {
  const apq = a[p * n + q]!;
  const theta = (a[q * n + q]! - a[p * n + p]!) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let k = 0; k < n; k++) {
    const akp = a[k * n + p]!;
    const akq = a[k * n + q]!;
    a[k * n + p] = c * akp - s * akq;
    a[k * n + q] = s * akp + c * akq;
  }
  for (let k = 0; k < n; k++) {
    const apk = a[p * n + k]!;
    const aqk = a[q * n + k]!;
    a[p * n + k] = c * apk - s * aqk;
    a[q * n + k] = s * apk + c * aqk;
  }
  for (let k = 0; k < n; k++) {
    const vkp = v[k * n + p]!;
    const vkq = v[k * n + q]!;
    v[k * n + p] = c * vkp - s * vkq;
    v[k * n + q] = s * vkp + c * vkq;
  }
}

/** Eigenvalues (descending) and eigenvectors of the symmetric matrix `m` (symmetrised first; `m` is not modified). */
export function symmetricEigen(m: ArrayLike<number>, n: number, maxSweeps = 60): SymmetricEigen {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = 0.5 * (m[i * n + j]! + m[j * n + i]!);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let scale = 0;
  for (let i = 0; i < n * n; i++) scale = Math.max(scale, Math.abs(a[i]!));
  const tol = 1e-15 * Math.max(scale, Number.MIN_VALUE) * n;
  for (let sweep = 0; sweep < maxSweeps && offDiagonalNorm(a, n) > tol; sweep++) {
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) if (Math.abs(a[p * n + q]!) > 1e-300) rotate(a, v, n, p, q);
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y * n + y]! - a[x * n + x]!);
  const values = Float64Array.from(order, (i) => a[i * n + i]!);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) vectors[i * n + k] = v[i * n + order[k]!]!;
  return { values, vectors };
}
