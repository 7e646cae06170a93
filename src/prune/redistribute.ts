/**
 * Attention redistribution (issue 15, the pruning seed's step; derivation in docs/METHODS.md §
 * "Attention redistribution"). For one projection y = W x + b whose input columns S are removed and
 * K kept, fit the removed inputs from the kept ones on calibration data,
 *   x_S ≈ Aᵀ x_K + c,   A = (C_KK + λI)⁻¹ C_KS   (ridge least squares; C = second moment, centred when
 *   `intercept`, so c = μ_S − Aᵀ μ_K),
 * and fold the map into the kept columns: W_K ← W_K + D, D = W_S Aᵀ, b ← b + W_S μ_S − D μ_K.
 * `rank` < min(|S|, rows) replaces D by the reduced-rank-regression optimum
 *   D_r = U_r U_rᵀ D,  U_r = the top-r eigenvectors of D (C_KK + λI) Dᵀ = W_S Q W_Sᵀ, Q = Aᵀ C_KS,
 * which minimises the (ridge) output error ‖(D_r − D) (C_KK + λI)^{1/2}‖ among rank-r updates.
 * With full rank, no intercept and ridge = OBS's damping this is exactly the OBS update
 * (−W_S [(H⁻¹)_SS]⁻¹ (H⁻¹)_SK = W_S H_SK H_KK⁻¹ by the block inverse). Pure float64, from the
 * o-projection's X^T X the calibration already collects (no new statistics).
 */
import { NumericError } from '../core/errors';
import { symmetricEigen } from '../core/eigen';
import type { Linear } from '../core/ir';
import { cholesky } from '../core/linalg';
import { gramMatrix, type ChannelStats } from '../core/stats';
import { tensor } from '../core/tensor';

export interface RedistributeOptions {
  /** Rank of the folded update (≥ min(|S|, rows) or Infinity: no truncation). */
  rank: number;
  /** Ridge λ relative to the mean diagonal of the second moment (OBS's damping is 0.01). */
  ridge: number;
  /** Fit an intercept (centred moments) and fold it into the bias (created when absent). */
  intercept: boolean;
}

/** The fitted map and what folding it changes (exposed for tests and the bench). */
export interface Redistribution {
  /** Kept / removed input columns. */
  kept: number[];
  removed: number[];
  /** A [k, s] (row-major): x_S ≈ Aᵀ x_K + c. */
  a: Float64Array;
  /** Update of the kept columns, D [rows, k], rank-truncated when asked. */
  d: Float64Array;
  /** Bias increment [rows] (zeros without intercept). */
  db: Float64Array;
  /** Rank of `d` actually used. */
  rank: number;
}

/** C = XᵀX/N (− μμᵀ when centred), with dead inputs (C_jj = 0) given a unit diagonal as OBS does; λ from its mean diagonal. */
function moments(stats: ChannelStats, centred: boolean, ridge: number) {
  const n = stats.channels;
  const gram = gramMatrix(stats, 'Redistribution');
  const N = stats.count;
  const mu = stats.sum.map((v) => v / N);
  const c = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const g = 0.5 * (gram[i * n + j]! + gram[j * n + i]!);
      c[i * n + j] = g / N - (centred ? mu[i]! * mu[j]! : 0);
    }
  }
  let diag = 0;
  for (let i = 0; i < n; i++) {
    if (!(c[i * n + i]! > 0)) c[i * n + i] = 1; // dead input (or a constant one when centred)
    diag += c[i * n + i]! / n;
  }
  return { c, mu, lambda: ridge * diag };
}

/** x ← L⁻ᵀ L⁻¹ x for every column of x [k, m] (solve with the Cholesky factor of P = L Lᵀ). */
function cholSolve(l: Float64Array, k: number, x: Float64Array, m: number): void {
  for (let col = 0; col < m; col++) {
    for (let i = 0; i < k; i++) {
      let s = x[i * m + col]!;
      for (let j = 0; j < i; j++) s -= l[i * k + j]! * x[j * m + col]!;
      x[i * m + col] = s / l[i * k + i]!;
    }
    for (let i = k - 1; i >= 0; i--) {
      let s = x[i * m + col]!;
      for (let j = i + 1; j < k; j++) s -= l[j * k + i]! * x[j * m + col]!;
      x[i * m + col] = s / l[i * k + i]!;
    }
  }
}

/** out [p, q] = a [p, r] · b [r, q] (b given as bᵀ [q, r] when `bT`). */
function matmul(a: Float64Array, b: Float64Array, p: number, r: number, q: number, bT = false): Float64Array {
  const out = new Float64Array(p * q);
  for (let i = 0; i < p; i++) {
    for (let t = 0; t < r; t++) {
      const ait = a[i * r + t]!;
      if (ait === 0) continue;
      if (bT) for (let j = 0; j < q; j++) out[i * q + j] = out[i * q + j]! + ait * b[j * r + t]!;
      else for (let j = 0; j < q; j++) out[i * q + j] = out[i * q + j]! + ait * b[t * q + j]!;
    }
  }
  return out;
}

/** out [r1, r2] = aᵀ b for a [p, r1], b [p, r2]. */
function matmulTN(a: Float64Array, b: Float64Array, p: number, r1: number, r2: number): Float64Array {
  const out = new Float64Array(r1 * r2);
  for (let t = 0; t < p; t++) {
    for (let i = 0; i < r1; i++) {
      const ati = a[t * r1 + i]!;
      if (ati !== 0) for (let j = 0; j < r2; j++) out[i * r2 + j] = out[i * r2 + j]! + ati * b[t * r2 + j]!;
    }
  }
  return out;
}

/** D_r = U_r U_rᵀ D, U_r the top-r eigenvectors of W_S Q W_Sᵀ (computed in the s-dimensional space). */
function truncate(d: Float64Array, wS: Float64Array, q: Float64Array, rows: number, s: number, k: number, rank: number): Float64Array {
  const eq = symmetricEigen(q, s);
  const r = new Float64Array(s * s); // R = V_Q Λ^{1/2}, Q = R Rᵀ
  for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) r[i * s + j] = eq.vectors[i * s + j]! * Math.sqrt(Math.max(0, eq.values[j]!));
  const f = matmul(wS, r, rows, s, s); // F = W_S R, F Fᵀ = W_S Q W_Sᵀ
  const ef = symmetricEigen(matmulTN(f, f, rows, s, s), s); // FᵀF
  const top = ef.values[0]! > 0 ? ef.values[0]! : 0;
  const cols: number[] = [];
  for (let j = 0; j < Math.min(rank, s); j++) if (ef.values[j]! > 1e-12 * top) cols.push(j);
  const u = new Float64Array(rows * cols.length); // U_r = F E_r Σ_r⁻¹ (orthonormal columns)
  cols.forEach((j, c) => {
    const sigma = Math.sqrt(ef.values[j]!);
    for (let row = 0; row < rows; row++) {
      let v = 0;
      for (let i = 0; i < s; i++) v += f[row * s + i]! * ef.vectors[i * s + j]!;
      u[row * cols.length + c] = v / sigma;
    }
  });
  const m = cols.length;
  return matmul(u, matmulTN(u, d, rows, m, k), rows, m, k); // U_r (U_rᵀ D)
}

/** The ridge (rank-r) fit of the removed columns from the kept ones and the update it folds into W and b. */
export function redistribution(
  weight: ArrayLike<number>,
  rows: number,
  removed: readonly number[],
  stats: ChannelStats,
  o: RedistributeOptions,
): Redistribution {
  const n = stats.channels;
  const inS = new Uint8Array(n);
  for (const j of removed) inS[j] = 1;
  const S = [...new Set(removed)].sort((x, y) => x - y);
  const K = Array.from({ length: n }, (_, j) => j).filter((j) => !inS[j]);
  const s = S.length;
  const k = K.length;
  const { c, mu, lambda } = moments(stats, o.intercept, o.ridge);
  const p = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) p[i * k + j] = c[K[i]! * n + K[j]!]! + (i === j ? lambda : 0);
  const l = cholesky(p, k);
  if (!l) throw new NumericError('The kept inputs’ second moment is singular.', 'Use a ridge > 0.');
  const ckS = new Float64Array(k * s);
  for (let i = 0; i < k; i++) for (let j = 0; j < s; j++) ckS[i * s + j] = c[K[i]! * n + S[j]!]!;
  const a = ckS.slice();
  cholSolve(l, k, a, s); // A = P⁻¹ C_KS
  const wS = new Float64Array(rows * s);
  for (let r = 0; r < rows; r++) for (let j = 0; j < s; j++) wS[r * s + j] = weight[r * n + S[j]!]!;
  let d = matmul(wS, a, rows, s, k, true); // D = W_S Aᵀ
  let rank = Math.min(s, rows, k);
  if (o.rank < rank) {
    d = truncate(d, wS, matmulTN(a, ckS, k, s, s), rows, s, k, o.rank); // Q = Aᵀ C_KS
    rank = Math.max(0, Math.floor(o.rank));
  }
  const db = new Float64Array(rows);
  if (o.intercept) {
    for (let r = 0; r < rows; r++) {
      let v = 0;
      for (let j = 0; j < s; j++) v += wS[r * s + j]! * mu[S[j]!]!;
      for (let j = 0; j < k; j++) v -= d[r * k + j]! * mu[K[j]!]!;
      db[r] = v;
    }
  }
  return { kept: K, removed: S, a, d, db, rank };
}

/** `lin` with the removed input columns redistributed onto the kept ones (removed columns zeroed). */
export function redistributed(lin: Linear, removed: readonly number[], stats: ChannelStats, o: RedistributeOptions): Linear {
  if (!removed.length) return lin;
  const [rows = 0, n = 0] = lin.weight.shape;
  const { kept, d, db } = redistribution(lin.weight.data, rows, removed, stats, o);
  const w = Float64Array.from(lin.weight.data);
  const k = kept.length;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) w[r * n + kept[j]!] = w[r * n + kept[j]!]! + d[r * k + j]!;
    for (const j of removed) w[r * n + j] = 0;
  }
  const weight = tensor([rows, n], Float32Array.from(w));
  if (!o.intercept) return { weight, ...(lin.bias ? { bias: lin.bias } : {}) };
  const bias = lin.bias ? Float32Array.from(lin.bias.data, (v, r) => v + db[r]!) : Float32Array.from(db);
  return { weight, bias: tensor([rows], bias) };
}
