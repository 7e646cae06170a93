/**
 * The joint OBS update of one projection (pure float64): state W [rows, n] (inputs are columns)
 * and H⁻¹ of the damped Hessian H = 2XᵀX/N_seq of its inputs. Removing a column set S:
 *   W ← W − W_S [(H⁻¹)_SS]⁻¹ (H⁻¹)_{S,:},  W_S = 0,
 * the least-squares re-fit of the kept columns to the calibration activations. Optionally H⁻¹ is
 * downdated to the inverse of H with S's rows and columns replaced by the identity
 * (H⁻¹_KK − H⁻¹_KS [H⁻¹_SS]⁻¹ H⁻¹_SK = (H_KK)⁻¹), in O(n²|S|) instead of a new O(n³) inverse, for
 * removals that continue (SlimGPT). One-shot compensation (compensate.ts) and SlimGPT share it.
 */
import { dampedInverse, inverseSpd, type Matrix } from '../core/linalg';

export interface ObsState {
  rows: number;
  n: number;
  /** W [rows, n], row-major, float64. */
  w: Float64Array;
  /** Inverse of the damped Hessian (rows/columns of removed inputs = identity once downdated). */
  hinv: Matrix;
  removed: boolean[];
  /** The damping added to H's diagonal (relative damping × mean diagonal). */
  damping: number;
}

/** `hessian` = 2XᵀX/N_seq (undamped); damped and inverted as everywhere else (dampedInverse). */
export function obsState(weight: ArrayLike<number>, rows: number, n: number, hessian: Matrix, relDamp = 0.01): ObsState {
  const { inv, lambda } = dampedInverse(hessian, n, relDamp);
  return { rows, n, w: Float64Array.from(weight), hinv: inv, removed: new Array<boolean>(n).fill(false), damping: lambda };
}

function sub(m: Matrix, n: number, rowIdx: readonly number[], colIdx: readonly number[]): Float64Array {
  const out = new Float64Array(rowIdx.length * colIdx.length);
  rowIdx.forEach((r, i) => colIdx.forEach((c, j) => (out[i * colIdx.length + j] = m[r * n + c]!)));
  return out;
}

/** X [r, s] · Y [s, s] */
function times(x: Float64Array, r: number, y: Matrix, s: number): Float64Array {
  const out = new Float64Array(r * s);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < s; k++) {
      const v = x[i * s + k]!;
      if (v === 0) continue;
      for (let j = 0; j < s; j++) out[i * s + j] = out[i * s + j]! + v * y[k * s + j]!;
    }
  }
  return out;
}

/** m [r, n] −= c [r, s] · rowsS [s, n] */
function subtractProduct(m: Float64Array, r: number, n: number, c: Float64Array, rowsS: Float64Array, s: number): void {
  for (let i = 0; i < r; i++) {
    const row = i * n;
    for (let k = 0; k < s; k++) {
      const v = c[i * s + k]!;
      if (v === 0) continue;
      const h = k * n;
      for (let j = 0; j < n; j++) m[row + j] = m[row + j]! - v * rowsS[h + j]!;
    }
  }
}

/** Joint OBS removal of the input columns S (W updated, S marked removed; H⁻¹ downdated unless `downdate` is false). */
export function removeColumns(st: ObsState, S: readonly number[], what = 'the removed columns', downdate = true): void {
  if (!S.length) return;
  const { rows, n, w, hinv } = st;
  const s = S.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const blockInv = inverseSpd(sub(hinv, n, S, S), s, `The inverse-Hessian block of ${what}`);
  const rowsS = sub(hinv, n, S, all); // (H⁻¹)_{S,:}, copied before H⁻¹ changes
  const rowsIdx = Array.from({ length: rows }, (_, i) => i);
  subtractProduct(w, rows, n, times(sub(w, n, rowsIdx, S), rows, blockInv, s), rowsS, s);
  if (downdate) subtractProduct(hinv, n, n, times(sub(hinv, n, all, S), n, blockInv, s), rowsS, s);
  for (const c of S) {
    for (let r = 0; r < rows; r++) w[r * n + c] = 0;
    if (downdate) {
      for (let j = 0; j < n; j++) hinv[c * n + j] = hinv[j * n + c] = 0;
      hinv[c * n + c] = 1;
    }
    st.removed[c] = true;
  }
}
