/**
 * GPTQ (Frantar, Ashkboos, Hoefler, Alistarh 2022, "GPTQ: Accurate Post-Training Quantization for
 * Generative Pre-trained Transformers", Algorithm 1) for 4-bit block-wise weights, pure float64.
 * W [N, K] is quantized one input column at a time (in index order); the rounding error of column
 * i, divided by [H^-1]_ii from the upper Cholesky factor U of H^-1 (H^-1 = Uᵀ U), is spread over
 * the not-yet-quantized columns j > i as err · U_ij (the OBS update). Columns go in blocks of 128:
 * inside a block the update is applied at once to the block's columns, the rest of W gets the
 * block's accumulated errors in one product afterwards (lazy batch updates).
 * H = 2 XᵀX / N_tokens (X = calibration inputs of the linear, from the Gram Σ x xᵀ); dead inputs
 * (H_jj = 0) get H_jj = 1 and W[:, j] = 0; damping 1% of mean(diag H) (core/linalg
 * prepareHessian; retried ×10 up to 3 times when not positive definite). The scale and zero point of a block of
 * `blockSize` columns are found from the block's current (already error-updated) weights when
 * quantization reaches its first column (the paper's grouping; the official code reads them
 * from W before the in-block updates, which differs only inside a 128-column block).
 * `symmetric`: blocks.ts symBlockParams (zero point 8) instead of the min/max quantizer.
 */
import { cholesky, prepareHessian, type Matrix } from '../core/linalg';
import { NumericError } from '../core/errors';
import { emptyInt4, paramsOf, quantizeValue, rowRange, type Int4Matrix } from './blocks';

export const GPTQ_LAZY_BLOCK = 128;
export const GPTQ_DAMPING = 0.01;

/**
 * Upper Cholesky factor U of H^-1 (H^-1 = Uᵀ U; row-major K x K, zero below the diagonal), dead
 * inputs flagged. With P the reversal permutation and P H P = L Lᵀ (lower Cholesky), H = R Rᵀ with
 * R = P L P upper, so H^-1 = (R^-1)ᵀ R^-1 and U = R^-1 = P L^-1 P: one Cholesky and one triangular
 * inverse instead of inverse-then-Cholesky.
 */
export function inverseHessianFactor(gram: Matrix, k: number, tokens: number): { u: Matrix; dead: boolean[] } {
  const h = new Float64Array(k * k);
  for (let i = 0; i < h.length; i++) h[i] = (2 * gram[i]!) / Math.max(1, tokens);
  for (let damp = GPTQ_DAMPING, attempt = 0; attempt < 4; attempt++, damp *= 10) {
    const prepared = prepareHessian(h, k, damp);
    const rev = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) rev[i * k + j] = prepared.h[(k - 1 - i) * k + (k - 1 - j)]!;
    const l = cholesky(rev, k);
    if (!l) continue;
    const t = lowerInverseTransposed(l, k);
    const u = new Float64Array(k * k);
    for (let i = 0; i < k; i++) for (let j = i; j < k; j++) u[i * k + j] = t[(k - 1 - j) * k + (k - 1 - i)]!;
    return { u, dead: prepared.dead };
  }
  throw new NumericError(`The ${k}x${k} Hessian is not positive definite even with damping ${GPTQ_DAMPING * 1000}.`);
}

/** Tᵀ = L^-1 for lower-triangular L: row j of T solves L x = e_j by forward substitution. */
function lowerInverseTransposed(l: Matrix, n: number): Matrix {
  const t = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    t[rj + j] = 1 / l[j * n + j]!;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      let s = 0;
      for (let m = j; m < i; m++) s += l[ri + m]! * t[rj + m]!;
      t[rj + i] = -s / l[ri + i]!;
    }
  }
  return t;
}

/** GPTQ-quantized W [N, K] (row-major) with the Gram Σ x xᵀ [K, K] of its inputs over `tokens` tokens. */
export function quantizeGptq(
  weight: ArrayLike<number>,
  n: number,
  k: number,
  gram: Matrix,
  tokens: number,
  blockSize: number,
  symmetric = false,
): Int4Matrix {
  const q = emptyInt4(n, k, blockSize, symmetric);
  const { u, dead } = inverseHessianFactor(gram, k, tokens);
  const w = Float64Array.from(weight as ArrayLike<number>);
  for (let r = 0; r < n; r++) for (let c = 0; c < k; c++) if (dead[c]) w[r * k + c] = 0;
  const stride = q.nBlocks * blockSize;
  const scale = new Float64Array(n);
  const zero = new Int32Array(n);
  for (let i1 = 0; i1 < k; i1 += GPTQ_LAZY_BLOCK) {
    const i2 = Math.min(k, i1 + GPTQ_LAZY_BLOCK);
    const count = i2 - i1;
    const err = new Float64Array(n * count);
    for (let i = i1; i < i2; i++) {
      if (i % blockSize === 0) setBlockParams(q, w, n, k, i, scale, zero);
      const d = u[i * k + i]!;
      for (let r = 0; r < n; r++) {
        const wi = w[r * k + i]!;
        const code = quantizeValue(wi, scale[r]!, zero[r]!);
        q.codes[r * stride + i] = code;
        const e = (wi - (code - zero[r]!) * scale[r]!) / d;
        err[r * count + (i - i1)] = e;
        const row = r * k;
        const urow = i * k;
        for (let j = i + 1; j < i2; j++) w[row + j] = w[row + j]! - e * u[urow + j]!;
      }
    }
    if (i2 < k) lazyUpdate(w, err, u, n, k, i1, i2);
  }
  for (let r = 0; r < n; r++) for (let c = k; c < stride; c++) q.codes[r * stride + c] = q.zeros[r * q.nBlocks + q.nBlocks - 1]!;
  return q;
}

/** Scale / zero point of the block starting at column `from`, from the current weights of each row. */
function setBlockParams(q: Int4Matrix, w: Float64Array, n: number, k: number, from: number, scale: Float64Array, zero: Int32Array): void {
  const to = Math.min(k, from + q.blockSize);
  const blk = from / q.blockSize;
  for (let r = 0; r < n; r++) {
    const { min, max } = rowRange(w, r * k, from, to);
    const p = paramsOf(q.symmetric ?? false)(min, max);
    scale[r] = p.scale;
    zero[r] = p.zero;
    q.scales[r * q.nBlocks + blk] = p.scale;
    q.zeros[r * q.nBlocks + blk] = p.zero;
  }
}

/** W[:, i2:] -= Err [N, i2-i1] · U[i1:i2, i2:]. */
function lazyUpdate(w: Float64Array, err: Float64Array, u: Matrix, n: number, k: number, i1: number, i2: number): void {
  const count = i2 - i1;
  for (let r = 0; r < n; r++) {
    const row = r * k;
    for (let t = 0; t < count; t++) {
      const e = err[r * count + t]!;
      if (e === 0) continue;
      const urow = (i1 + t) * k;
      for (let j = i2; j < k; j++) w[row + j] = w[row + j]! - e * u[urow + j]!;
    }
  }
}
