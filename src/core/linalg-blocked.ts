/**
 * Cache-blocked float64 kernels for n in the thousands (pure TypeScript, no allocation in inner
 * loops). Everything is built on one product, C += alpha · A · Bᵀ with A and B row-major, so every
 * inner loop is a dot product of two contiguous rows; it runs on 4x2 register tiles (8
 * accumulators) over 256-long slices of k and 64-row panels of B that stay in cache. The output
 * is addressed through row-offset and column-index arrays, so updates can scatter into a
 * sub-matrix (the kept rows / columns of H⁻¹ or W) without gathering it first. Where WebAssembly
 * SIMD is available, large products run on the f64x2 kernel of gemm-simd.ts instead (about 2x).
 *  - choleskyBlocked: left-looking blocked Cholesky (panel update = one product, then a small
 *    row-wise triangular solve);
 *  (the inverses from a Cholesky factor are in linalg-inverse.ts, on these kernels);
 *  - solveRightLowerT: X ← X L⁻ᵀ in place (the OBS update's triangular solves).
 * Every panel and every k-slice of a product calls `stopPoint()` (core/job.ts), so a job that runs
 * these inside `stoppable` is cancelled within one block (tens of milliseconds at n = 3,072).
 */

import { simdKernel, type SimdKernel } from './gemm-simd';
import { threadedKernel } from './gemm-threads';
import { stopPoint } from './job';

type F64 = Float64Array;

const KC = 256;
const PC = 64;
/** Panel width of the blocked factorisations. */
export const NB = 64;

/** 0, step, 2·step, ... (n entries): row offsets of a row-major matrix, or column indices with step 1. */
export function strided(n: number, step: number, start = 0): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i * step;
  return out;
}

/** The 4x2-tiled kernel on one cache block (k ≤ KC, p ≤ PC). */
function tiles(
  c: F64,
  ro: Int32Array,
  co: Int32Array,
  cj: number,
  alpha: number,
  a: F64,
  aOff: number,
  lda: number,
  b: F64,
  bOff: number,
  ldb: number,
  m: number,
  p: number,
  k: number,
): void {
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const a0 = aOff + i * lda;
    const a1 = a0 + lda;
    const a2 = a1 + lda;
    const a3 = a2 + lda;
    const r0 = ro[i]!;
    const r1 = ro[i + 1]!;
    const r2 = ro[i + 2]!;
    const r3 = ro[i + 3]!;
    let j = 0;
    for (; j + 1 < p; j += 2) {
      const b0 = bOff + j * ldb;
      const b1 = b0 + ldb;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let t = 0; t < k; t++) {
        const y0 = b[b0 + t]!;
        const y1 = b[b1 + t]!;
        const x0 = a[a0 + t]!;
        const x1 = a[a1 + t]!;
        const x2 = a[a2 + t]!;
        const x3 = a[a3 + t]!;
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
        s20 += x2 * y0;
        s21 += x2 * y1;
        s30 += x3 * y0;
        s31 += x3 * y1;
      }
      const c0 = co[cj + j]!;
      const c1 = co[cj + j + 1]!;
      c[r0 + c0] = c[r0 + c0]! + alpha * s00;
      c[r0 + c1] = c[r0 + c1]! + alpha * s01;
      c[r1 + c0] = c[r1 + c0]! + alpha * s10;
      c[r1 + c1] = c[r1 + c1]! + alpha * s11;
      c[r2 + c0] = c[r2 + c0]! + alpha * s20;
      c[r2 + c1] = c[r2 + c1]! + alpha * s21;
      c[r3 + c0] = c[r3 + c0]! + alpha * s30;
      c[r3 + c1] = c[r3 + c1]! + alpha * s31;
    }
    if (j < p) {
      const b0 = bOff + j * ldb;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = 0; t < k; t++) {
        const y = b[b0 + t]!;
        s0 += a[a0 + t]! * y;
        s1 += a[a1 + t]! * y;
        s2 += a[a2 + t]! * y;
        s3 += a[a3 + t]! * y;
      }
      const c0 = co[cj + j]!;
      c[r0 + c0] = c[r0 + c0]! + alpha * s0;
      c[r1 + c0] = c[r1 + c0]! + alpha * s1;
      c[r2 + c0] = c[r2 + c0]! + alpha * s2;
      c[r3 + c0] = c[r3 + c0]! + alpha * s3;
    }
  }
  for (; i < m; i++) {
    const a0 = aOff + i * lda;
    const r0 = ro[i]!;
    for (let j = 0; j < p; j++) {
      const b0 = bOff + j * ldb;
      let s0 = 0;
      let s1 = 0;
      let t = 0;
      for (; t + 1 < k; t += 2) {
        s0 += a[a0 + t]! * b[b0 + t]!;
        s1 += a[a0 + t + 1]! * b[b0 + t + 1]!;
      }
      if (t < k) s0 += a[a0 + t]! * b[b0 + t]!;
      const c0 = co[cj + j]!;
      c[r0 + c0] = c[r0 + c0]! + alpha * (s0 + s1);
    }
  }
}

let useSimd = true;

/** Turns the WebAssembly SIMD kernel off (tests compare both kernels) or back on. */
export function setSimd(enabled: boolean): void {
  useSimd = enabled;
}

/** Products at least this large (m·p·k) go to the SIMD kernel; smaller ones are not worth the packing. */
const SIMD_MIN = 1 << 15;

/**
 * c[rowOff[i] + colIdx[j]] += alpha · Σ_{t<k} a[aOff + i·lda + t] · b[bOff + j·ldb + t]
 * for i < rowOff.length, j < colIdx.length. `c` must not overlap the parts of a and b read.
 */
export function gemmNT(
  c: F64,
  rowOff: Int32Array,
  colIdx: Int32Array,
  alpha: number,
  a: F64,
  aOff: number,
  lda: number,
  b: F64,
  bOff: number,
  ldb: number,
  k: number,
): void {
  const m = rowOff.length;
  const p = colIdx.length;
  if (!m || !p || k <= 0) return;
  if (useSimd && m * p * k >= SIMD_MIN && gemmSimd(c, rowOff, colIdx, alpha, a, aOff, lda, b, bOff, ldb, k)) return;
  for (let t0 = 0; t0 < k; t0 += KC) {
    stopPoint();
    const kc = Math.min(KC, k - t0);
    for (let j0 = 0; j0 < p; j0 += PC) {
      const pc = Math.min(PC, p - j0);
      tiles(c, rowOff, colIdx, j0, alpha, a, aOff + t0, lda, b, bOff + j0 * ldb + t0, ldb, m, pc, kc);
    }
  }
}

/**
 * c[ro[i] + co[j0 + j]] += alpha · mem[cBase + i·pp + j] for i < ro.length, j < pc: the kernel's
 * output added into C, with the common cases (contiguous columns, alpha = ±1, where c ± v equals
 * c + alpha·v exactly) on simpler loops.
 */
function addInto(
  c: F64,
  ro: Int32Array,
  co: Int32Array,
  j0: number,
  pc: number,
  contiguous: boolean,
  alpha: number,
  mem: F64,
  cBase: number,
  pp: number,
): void {
  const m = ro.length;
  if (!contiguous) {
    for (let i = 0; i < m; i++) {
      const r = ro[i]!;
      const ci = cBase + i * pp;
      for (let j = 0; j < pc; j++) {
        const x = r + co[j0 + j]!;
        c[x] = c[x]! + alpha * mem[ci + j]!;
      }
    }
    return;
  }
  const c0 = co[j0]!;
  for (let i = 0; i < m; i++) {
    const x = ro[i]! + c0;
    const ci = cBase + i * pp;
    if (alpha === -1) for (let j = 0; j < pc; j++) c[x + j] = c[x + j]! - mem[ci + j]!;
    else if (alpha === 1) for (let j = 0; j < pc; j++) c[x + j] = c[x + j]! + mem[ci + j]!;
    else for (let j = 0; j < pc; j++) c[x + j] = c[x + j]! + alpha * mem[ci + j]!;
  }
}

/** rows x kc values of src (row stride ld) into dst at `at`, rows kp apart (kp = kc or kc + 1, the pad zeroed). */
function packRows(dst: F64, at: number, src: F64, from: number, ld: number, rows: number, kc: number, kp: number): void {
  for (let i = 0; i < rows; i++) {
    const d = at + i * kp;
    const o = from + i * ld;
    dst.set(src.subarray(o, o + kc), d);
    if (kp > kc) dst[d + kc] = 0;
  }
}

/** The multi-threaded kernel (gemm-threads.ts, where its host installed helpers) or the private one, with a view of `doubles`. */
function kernelWithView(doubles: number): { simd: SimdKernel; mem: F64 } | null {
  for (const simd of [threadedKernel(), simdKernel()]) {
    const mem = simd?.view(doubles);
    if (simd && mem) return { simd, mem };
  }
  return null;
}

/**
 * gemmNT on the SIMD kernel: per k-slice, A's rows and each B panel are packed (zero-padded to the
 * tile sizes) into its memory. False (nothing done) where no SIMD kernel is available.
 */
function gemmSimd(
  c: F64,
  ro: Int32Array,
  co: Int32Array,
  alpha: number,
  a: F64,
  aOff: number,
  lda: number,
  b: F64,
  bOff: number,
  ldb: number,
  k: number,
): boolean {
  const m = ro.length;
  const p = co.length;
  const mPad = (m + 3) & ~3;
  const kMax = Math.min(KC, k + (k & 1));
  const pMax = Math.min(PC, p + (p & 1));
  const bBase = mPad * kMax;
  const cBase = bBase + pMax * kMax;
  const picked = kernelWithView(cBase + mPad * pMax);
  if (!picked) return false;
  const { simd, mem } = picked;
  let contiguous = true;
  for (let j = 1; j < p && contiguous; j++) contiguous = co[j] === co[j - 1]! + 1;
  for (let t0 = 0; t0 < k; t0 += KC) {
    stopPoint();
    const kc = Math.min(KC, k - t0);
    const kp = kc + (kc & 1);
    packRows(mem, 0, a, aOff + t0, lda, m, kc, kp);
    mem.fill(0, m * kp, mPad * kp);
    for (let j0 = 0; j0 < p; j0 += PC) {
      const pc = Math.min(PC, p - j0);
      const pp = pc + (pc & 1);
      packRows(mem, bBase, b, bOff + j0 * ldb + t0, ldb, pc, kc, kp);
      mem.fill(0, bBase + pc * kp, bBase + pp * kp);
      simd.gemm(0, bBase * 8, cBase * 8, mPad, pp, kp);
      addInto(c, ro, co, j0, pc, contiguous, alpha, mem, cBase, pp);
    }
  }
  return true;
}

/**
 * X ← X · L⁻ᵀ for a small lower-triangular block L (jb x jb at l[lOff + j·ldl + k]) and `rows` rows
 * of X (x[xOff + r·ldx + j]): forward substitution per row, four rows at a time sharing L's loads.
 */
export function solveBlockRows(x: F64, xOff: number, ldx: number, rows: number, l: F64, lOff: number, ldl: number, jb: number): void {
  let r = 0;
  for (; r + 3 < rows; r += 4) {
    const x0 = xOff + r * ldx;
    const x1 = x0 + ldx;
    const x2 = x1 + ldx;
    const x3 = x2 + ldx;
    for (let j = 0; j < jb; j++) {
      const lj = lOff + j * ldl;
      let s0 = x[x0 + j]!;
      let s1 = x[x1 + j]!;
      let s2 = x[x2 + j]!;
      let s3 = x[x3 + j]!;
      for (let k = 0; k < j; k++) {
        const v = l[lj + k]!;
        s0 -= x[x0 + k]! * v;
        s1 -= x[x1 + k]! * v;
        s2 -= x[x2 + k]! * v;
        s3 -= x[x3 + k]! * v;
      }
      const d = l[lj + j]!;
      x[x0 + j] = s0 / d;
      x[x1 + j] = s1 / d;
      x[x2 + j] = s2 / d;
      x[x3 + j] = s3 / d;
    }
  }
  for (; r < rows; r++) {
    const x0 = xOff + r * ldx;
    for (let j = 0; j < jb; j++) {
      const lj = lOff + j * ldl;
      let s0 = x[x0 + j]!;
      for (let k = 0; k < j; k++) s0 -= x[x0 + k]! * l[lj + k]!;
      x[x0 + j] = s0 / l[lj + j]!;
    }
  }
}

/**
 * Lower Cholesky factor L (A = L Lᵀ) of an SPD matrix, left-looking by panels of NB columns;
 * null when a pivot is not positive (not PD) or not finite. Row-major, upper triangle zero.
 * `inPlace`: L overwrites `a` (no second n x n array; `a` is lost, also when null is returned).
 */
export function choleskyBlocked(a: F64, n: number, inPlace = false): F64 | null {
  const l = inPlace ? a : Float64Array.from(a.subarray(0, n * n));
  const rows = strided(n, n);
  const cols = strided(n, 1);
  for (let j0 = 0; j0 < n; j0 += NB) {
    stopPoint();
    const j1 = Math.min(n, j0 + NB);
    // L[j0:, J] −= L[j0:, :j0] · L[J, :j0]ᵀ
    gemmNT(l, rows.subarray(j0), cols.subarray(j0, j1), -1, l, j0 * n, n, l, j0 * n, n, j0);
    // The diagonal block, column by column.
    for (let j = j0; j < j1; j++) {
      const rj = j * n;
      let d = l[rj + j]!;
      for (let k = j0; k < j; k++) d -= l[rj + k]! * l[rj + k]!;
      if (!(d > 0) || !Number.isFinite(d)) return null;
      const djj = Math.sqrt(d);
      l[rj + j] = djj;
      for (let i = j + 1; i < j1; i++) {
        const ri = i * n;
        let s = l[ri + j]!;
        for (let k = j0; k < j; k++) s -= l[ri + k]! * l[rj + k]!;
        l[ri + j] = s / djj;
      }
    }
    // Rows below: L[i, J] ← L[i, J] · L_JJ⁻ᵀ.
    solveBlockRows(l, j1 * n + j0, n, n - j1, l, j0 * n + j0, n, j1 - j0);
  }
  for (let i = 0; i < n; i++) l.fill(0, i * n + i + 1, (i + 1) * n);
  return l;
}

/** X ← X L⁻ᵀ in place (X [rows, s] row-major, L [s, s] lower): each row solves y Lᵀ = x. */
export function solveRightLowerT(x: F64, rows: number, s: number, l: F64): void {
  const ro = strided(rows, s);
  const cols = strided(s, 1);
  for (let j0 = 0; j0 < s; j0 += NB) {
    stopPoint();
    const j1 = Math.min(s, j0 + NB);
    gemmNT(x, ro, cols.subarray(j0, j1), -1, x, 0, s, l, j0 * s, s, j0);
    solveBlockRows(x, j0, s, rows, l, j0 * s + j0, s, j1 - j0);
  }
}
