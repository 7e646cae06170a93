/**
 * The joint OBS update of one projection (pure float64): state W [rows, n] (inputs are columns)
 * and H⁻¹ of the damped Hessian H = 2XᵀX/N_seq of its inputs. Removing a column set S:
 *   W ← W − W_S [(H⁻¹)_SS]⁻¹ (H⁻¹)_{S,:},  W_S = 0,
 * the least-squares re-fit of the kept columns to the calibration activations. Optionally H⁻¹ is
 * downdated to the inverse of H with S's rows and columns replaced by the identity
 * (H⁻¹_KK − H⁻¹_KS [H⁻¹_SS]⁻¹ H⁻¹_SK = (H_KK)⁻¹), in O(n²|S|) instead of a new O(n³) inverse, for
 * removals that continue (SlimGPT). One-shot compensation (compensate.ts) and SlimGPT share it.
 * With L Lᵀ = (H⁻¹)_SS, Y = H⁻¹_KS L⁻ᵀ and Z = W_S L⁻ᵀ, both updates are blocked products:
 * W_K −= Z Yᵀ and H⁻¹_KK −= Y Yᵀ (K = the live columns outside S; removed ones are untouched).
 */
import { dampedInverseOf, hessianMaker, type Matrix } from '../core/linalg';
import { NumericError } from '../core/errors';
import { choleskyBlocked, gemmNT, NB, solveRightLowerT, strided } from '../core/linalg-blocked';

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

/**
 * `hessian` = 2XᵀX/N_seq (undamped); damped and inverted as everywhere else (dampedInverse). Given
 * as a function that makes a fresh array, that array becomes H⁻¹ (no other n x n array); a given
 * matrix is copied and left as it was.
 */
export function obsState(weight: ArrayLike<number>, rows: number, n: number, hessian: Matrix | (() => Matrix), relDamp = 0.01): ObsState {
  const { inv, lambda } = dampedInverseOf(hessianMaker(hessian, n), n, relDamp);
  return { rows, n, w: Float64Array.from(weight), hinv: inv, removed: new Array<boolean>(n).fill(false), damping: lambda };
}

/** m[rowIdx, colIdx] gathered into a dense [rowIdx.length, colIdx.length] matrix. */
export function gather(m: Float64Array, n: number, rowIdx: ArrayLike<number>, colIdx: ArrayLike<number>): Float64Array {
  const c = colIdx.length;
  const out = new Float64Array(rowIdx.length * c);
  for (let i = 0; i < rowIdx.length; i++) {
    const r = rowIdx[i]! * n;
    for (let j = 0; j < c; j++) out[i * c + j] = m[r + colIdx[j]!]!;
  }
  return out;
}

/** H⁻¹[K, K] −= Y Yᵀ (Y [k, s]): lower blocks by products, then mirrored so H⁻¹ stays exactly symmetric. */
function downdateKept(hinv: Float64Array, n: number, K: Int32Array, y: Float64Array, s: number): void {
  const k = K.length;
  const rowOff = K.map((r) => r * n);
  for (let i0 = 0; i0 < k; i0 += NB) {
    const i1 = Math.min(k, i0 + NB);
    gemmNT(hinv, rowOff.subarray(i0, i1), K.subarray(0, i1), -1, y, i0 * s, s, y, 0, s, s);
  }
  // Mirror by 64 x 64 tiles of (i, j), j < i, so the column-wise writes stay in cache.
  for (let i0 = 0; i0 < k; i0 += NB) {
    for (let j0 = 0; j0 <= i0; j0 += NB) {
      const j1 = Math.min(k, j0 + NB);
      for (let j = j0; j < j1; j++) {
        const rj = K[j]! * n;
        const cj = K[j]!;
        for (let i = Math.max(i0, j + 1); i < Math.min(k, i0 + NB); i++) hinv[rj + K[i]!] = hinv[K[i]! * n + cj]!;
      }
    }
  }
}

/** Joint OBS removal of the input columns S (W updated, S marked removed; H⁻¹ downdated unless `downdate` is false). */
export function removeColumns(st: ObsState, S: readonly number[], what = 'the removed columns', downdate = true): void {
  if (!S.length) return;
  const { rows, n, w, hinv } = st;
  const s = S.length;
  const inS = new Uint8Array(n);
  for (const c of S) inS[c] = 1;
  const K = Int32Array.from({ length: n }, (_, j) => j).filter((j) => !inS[j] && !st.removed[j]);
  const l = choleskyBlocked(gather(hinv, n, S, S), s);
  if (!l) throw new NumericError(`The inverse-Hessian block of ${what} is not positive definite.`);
  const y = gather(hinv, n, K, S); // H⁻¹_KS, copied before H⁻¹ changes
  solveRightLowerT(y, K.length, s, l);
  const z = gather(w, n, strided(rows, 1), S);
  solveRightLowerT(z, rows, s, l);
  gemmNT(w, strided(rows, n), K, -1, z, 0, s, y, 0, s, s);
  if (downdate) downdateKept(hinv, n, K, y, s);
  for (const c of S) {
    for (let r = 0; r < rows; r++) w[r * n + c] = 0;
    if (downdate) {
      for (let j = 0; j < n; j++) hinv[c * n + j] = hinv[j * n + c] = 0;
      hinv[c * n + c] = 1;
    }
    st.removed[c] = true;
  }
}
