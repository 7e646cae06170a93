/**
 * SlimGPT's structured OBS removal on one projection (pure float64 linear algebra), on the joint
 * OBS update of obs-update.ts, whose H⁻¹ downdate equals what SlimGPT gets by zeroing the removed
 * rows/columns of H and inverting again.
 *  - heads (grouped Cholesky, greedy): repeatedly remove the group g (a head, or a kv group's query
 *    heads) with the least E_g = Σ_{j∈g} Σ_i W_ij² / (L_g)_jj², L_g = chol((H⁻¹)_gg);
 *  - FFN channels (dynamic group size): groups of min(remaining, max(b, 64), 1024) lowest
 *    e_j = Σ_i W_ij² / H⁻¹_jj, b = ⌊(T − 512)/2⌋ then b ← ⌊(b − 512)/2⌋ after each group.
 */
import { block, cholesky } from '../core/linalg';
import { NumericError } from '../core/errors';
import { removeColumns, type ObsState } from './obs-update';

/** Σ_i W_ij² per column. */
function columnSquares(st: ObsState): Float64Array {
  const out = new Float64Array(st.n);
  for (let r = 0; r < st.rows; r++) for (let j = 0; j < st.n; j++) out[j] = out[j]! + st.w[r * st.n + j]! ** 2;
  return out;
}

/** Grouped-Cholesky error of removing group g (columns g·width .. (g+1)·width−1). */
export function groupError(st: ObsState, colSq: Float64Array, g: number, width: number): number {
  const l = cholesky(block(st.hinv, st.n, g * width, width), width);
  if (!l) throw new NumericError(`The inverse-Hessian block of group ${g} is not positive definite.`);
  let e = 0;
  for (let j = 0; j < width; j++) e += colSq[g * width + j]! / l[j * width + j]! ** 2;
  return e;
}

/** Greedy head (group) removal; returns the groups in the order removed and each one's error when picked. */
export function removeGroupsGreedy(st: ObsState, width: number, count: number, check?: () => void): { order: number[]; errors: number[] } {
  const groups = st.n / width;
  const order: number[] = [];
  const errors: number[] = [];
  for (let it = 0; it < count; it++) {
    check?.();
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
export function removeChannelsDynamic(st: ObsState, count: number, check?: () => void): { removed: number[]; groups: number[] } {
  const groups = dynamicGroupSizes(count);
  const removed: number[] = [];
  for (const size of groups) {
    check?.();
    const colSq = columnSquares(st);
    const live = Array.from({ length: st.n }, (_, j) => j).filter((j) => !st.removed[j]);
    const err = (j: number) => colSq[j]! / st.hinv[j * st.n + j]!;
    const S = live.sort((a, b) => err(a) - err(b) || a - b).slice(0, size);
    removeColumns(st, S, `${S.length} FFN channels`);
    removed.push(...S);
  }
  return { removed: removed.sort((a, b) => a - b), groups };
}
