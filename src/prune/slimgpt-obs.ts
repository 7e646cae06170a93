/**
 * SlimGPT's structured OBS removal on one projection (pure float64 linear algebra).
 * State: W [rows, n] (inputs are columns) and H⁻¹ of the damped Hessian H = 2XᵀX/N_seq of its
 * inputs. Removing a column set S (jointly, the exact block OBS update):
 *   W ← W − W_S [(H⁻¹)_SS]⁻¹ (H⁻¹)_{S,:},  W_S = 0,
 * and H⁻¹ is downdated to the inverse of H with S's rows and columns replaced by the identity
 * (what SlimGPT gets by zeroing them in H and inverting again: H⁻¹_KK − H⁻¹_KS [H⁻¹_SS]⁻¹ H⁻¹_SK
 * = (H_KK)⁻¹), in O(n²|S|) instead of O(n³).
 *  - heads (grouped Cholesky, greedy): repeatedly remove the group g (a head, or a kv group's query
 *    heads) with the least E_g = Σ_{j∈g} Σ_i W_ij² / (L_g)_jj², L_g = chol((H⁻¹)_gg);
 *  - FFN channels (dynamic group size): groups of min(remaining, max(b, 64), 1024) lowest
 *    e_j = Σ_i W_ij² / H⁻¹_jj, b = ⌊(T − 512)/2⌋ then b ← ⌊(b − 512)/2⌋ after each group.
 */
import { cholesky, dampedInverse, inverseFromCholesky, type Matrix } from '../core/linalg';
import { NumericError } from '../core/errors';

export interface ObsState {
  rows: number;
  n: number;
  /** W [rows, n], row-major, float64. */
  w: Float64Array;
  /** Inverse of the damped Hessian (rows/columns of removed inputs = identity). */
  hinv: Matrix;
  removed: boolean[];
  /** The damping added to H's diagonal (relative damping × mean diagonal). */
  damping: number;
}

/** `hessian` = 2XᵀX/N_seq (undamped); damped and inverted as everywhere else (dampedInverse). */
export function obsState(weight: ArrayLike<number>, rows: number, n: number, hessian: Matrix, relDamp = 0.01): ObsState {
  let diagMean = 0;
  for (let i = 0; i < n; i++) diagMean += (hessian[i * n + i] === 0 ? 1 : hessian[i * n + i]!) / n;
  const { inv, damping } = dampedInverse(hessian, n, relDamp);
  return { rows, n, w: Float64Array.from(weight), hinv: inv, removed: new Array<boolean>(n).fill(false), damping: damping * diagMean };
}

function sub(m: Matrix, n: number, rowIdx: readonly number[], colIdx: readonly number[]): Float64Array {
  const out = new Float64Array(rowIdx.length * colIdx.length);
  rowIdx.forEach((r, i) => colIdx.forEach((c, j) => (out[i * colIdx.length + j] = m[r * n + c]!)));
  return out;
}

function invertSpd(a: Matrix, s: number, what: string): Matrix {
  const l = cholesky(a, s);
  if (!l) throw new NumericError(`The inverse-Hessian block of ${what} is not positive definite.`);
  return inverseFromCholesky(l, s);
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

/** Joint OBS removal of the input columns S (W updated, H⁻¹ downdated, S marked removed). */
export function removeColumns(st: ObsState, S: readonly number[], what = 'the removed columns'): void {
  if (!S.length) return;
  const { rows, n, w, hinv } = st;
  const s = S.length;
  const all = Array.from({ length: n }, (_, i) => i);
  const blockInv = invertSpd(sub(hinv, n, S, S), s, what);
  const rowsS = sub(hinv, n, S, all); // (H⁻¹)_{S,:}, copied before H⁻¹ changes
  const rowsIdx = Array.from({ length: rows }, (_, i) => i);
  subtractProduct(w, rows, n, times(sub(w, n, rowsIdx, S), rows, blockInv, s), rowsS, s);
  subtractProduct(hinv, n, n, times(sub(hinv, n, all, S), n, blockInv, s), rowsS, s);
  for (const c of S) {
    for (let r = 0; r < rows; r++) w[r * n + c] = 0;
    for (let j = 0; j < n; j++) hinv[c * n + j] = hinv[j * n + c] = 0;
    hinv[c * n + c] = 1;
    st.removed[c] = true;
  }
}

/** Σ_i W_ij² per column. */
function columnSquares(st: ObsState): Float64Array {
  const out = new Float64Array(st.n);
  for (let r = 0; r < st.rows; r++) for (let j = 0; j < st.n; j++) out[j] = out[j]! + st.w[r * st.n + j]! ** 2;
  return out;
}

/** Grouped-Cholesky error of removing group g (columns g·width .. (g+1)·width−1). */
export function groupError(st: ObsState, colSq: Float64Array, g: number, width: number): number {
  const cols = Array.from({ length: width }, (_, j) => g * width + j);
  const l = cholesky(sub(st.hinv, st.n, cols, cols), width);
  if (!l) throw new NumericError(`The inverse-Hessian block of group ${g} is not positive definite.`);
  let e = 0;
  for (let j = 0; j < width; j++) e += colSq[cols[j]!]! / l[j * width + j]! ** 2;
  return e;
}

/** Greedy head (group) removal; returns the groups in the order removed and each one's error when picked. */
export function removeGroupsGreedy(st: ObsState, width: number, count: number): { order: number[]; errors: number[] } {
  const groups = st.n / width;
  const order: number[] = [];
  const errors: number[] = [];
  for (let it = 0; it < count; it++) {
    const colSq = columnSquares(st);
    let best = -1;
    let bestErr = Infinity;
    for (let g = 0; g < groups; g++) {
      if (st.removed[g * width]) continue;
      const e = groupError(st, colSq, g, width);
      if (e < bestErr) [best, bestErr] = [g, e];
    }
    if (best < 0) break;
    removeColumns(
      st,
      Array.from({ length: width }, (_, j) => best * width + j),
      `group ${best}`,
    );
    order.push(best);
    errors.push(bestErr);
  }
  return { order, errors };
}

/** SlimGPT's dynamic group sizes for removing `total` channels. */
export function dynamicGroupSizes(total: number): number[] {
  const sizes: number[] = [];
  let b = Math.floor((total - 512) / 2);
  for (let remaining = total; remaining > 0; b = Math.floor((b - 512) / 2)) {
    const cnt = Math.min(remaining, Math.max(b, 64), 1024);
    sizes.push(cnt);
    remaining -= cnt;
  }
  return sizes;
}

/** Removes `count` channels in dynamic groups of the lowest e_j = Σ_i W_ij² / H⁻¹_jj. */
export function removeChannelsDynamic(st: ObsState, count: number): { removed: number[]; groups: number[] } {
  const groups = dynamicGroupSizes(count);
  const removed: number[] = [];
  for (const size of groups) {
    const colSq = columnSquares(st);
    const live = Array.from({ length: st.n }, (_, j) => j).filter((j) => !st.removed[j]);
    const err = (j: number) => colSq[j]! / st.hinv[j * st.n + j]!;
    const S = live.sort((a, b) => err(a) - err(b) || a - b).slice(0, size);
    removeColumns(st, S, `${S.length} FFN channels`);
    removed.push(...S);
  }
  return { removed: removed.sort((a, b) => a - b), groups };
}
