/**
 * 4-bit block quantization of W [N, K] (rows = output channels) in the layout of onnxruntime's
 * com.microsoft MatMulNBits (bits 4): each row is cut along K into blocks of `blockSize`; a block
 * has a float32 scale and a 4-bit zero point, and code q dequantizes to (q - zero) * scale.
 * Packed: B uint8 [N, nBlocks, blockSize/2] (two codes a byte, the even k in the low nibble),
 * scales float32 [N * nBlocks], zero points uint8 [N * ceil(nBlocks/2)] (even block low nibble).
 * K need not divide by blockSize: the last block is padded with codes equal to its zero point
 * (dequantized 0) and MatMulNBits reads only the first K (n_blocks = ceil(K / block_size)).
 * The quantizer is asymmetric min/max over the block with 0 inside the range (GPTQ's Quantizer,
 * sym=False): scale = (max - min) / 15, zero = round(-min / scale). Symmetric (option): every zero
 * point is 8, MatMulNBits' default, so no zero_points input is written; scale = absmax / SYM_DIVISOR
 * (7: levels -7..7, see SYM_DIVISOR for the choice), codes clamped to 0..15.
 */
import { InputError } from '../core/errors';

export const INT4_MAX = 15;
/** MatMulNBits' zero point when the zero_points input is absent (2^(bits-1)). */
export const INT4_SYM_ZERO = 8;
/**
 * Symmetric scale = absmax / SYM_DIVISOR: levels -7..7 hold every weight, code 0 (-8) is unused.
 * GPTQ's reference Quantizer(sym=True) (IST-DASLab/gptq quant.py, find_params) takes xmin = -absmax,
 * scale = 2·absmax/15, zero = 8 (divisor 7.5); 8 would use the whole -8..7 range. Both clip a
 * positive absmax, and GPTQ's compensation pushes the later columns of a block further past the
 * range fixed at its first column. On the demo model (--target parameters 0.5, OBS, 8,192 tokens)
 * int4-gptq symmetric is +1.0% perplexity over fp32 pruned with 7, +1.54% with 7.5, +1.42% with 8
 * (int4-rtn: +1.46%, +1.43%, +1.34%), so 7.
 */
export const SYM_DIVISOR = 7;

export interface Int4Matrix {
  n: number;
  k: number;
  blockSize: number;
  nBlocks: number;
  /** Codes 0..15, [N, nBlocks * blockSize] (padding codes = the block's zero point). */
  codes: Uint8Array;
  /** [N * nBlocks] */
  scales: Float32Array;
  /** [N * nBlocks], 0..15 */
  zeros: Uint8Array;
  /** Every zero point is INT4_SYM_ZERO: written without a zero_points input. */
  symmetric?: boolean;
}

/** MatMulNBits needs a power-of-two block of at least 16. */
export function checkBlockSize(blockSize: number): void {
  if (!Number.isInteger(blockSize) || blockSize < 16 || (blockSize & (blockSize - 1)) !== 0)
    throw new InputError(
      `Block size ${blockSize} is not supported: MatMulNBits needs a power of two of at least 16.`,
      'MatMulNBits needs a power of two of at least 16; use 32 (the default), 64 or 128.',
    );
}

export function emptyInt4(n: number, k: number, blockSize: number, symmetric = false): Int4Matrix {
  checkBlockSize(blockSize);
  const nBlocks = Math.ceil(k / blockSize);
  return {
    ...(symmetric ? { symmetric } : {}),
    n,
    k,
    blockSize,
    nBlocks,
    codes: new Uint8Array(n * nBlocks * blockSize),
    scales: new Float32Array(n * nBlocks),
    zeros: new Uint8Array(n * nBlocks),
  };
}

/** Scale (float32-rounded) and zero point of values min..max (GPTQ Quantizer.find_params, 4 bits, asymmetric). */
export function blockParams(min: number, max: number): { scale: number; zero: number } {
  let lo = Math.min(0, min);
  let hi = Math.max(0, max);
  if (lo === 0 && hi === 0) [lo, hi] = [-1, 1];
  const scale = Math.fround((hi - lo) / INT4_MAX);
  return { scale, zero: Math.min(INT4_MAX, Math.max(0, Math.round(-lo / scale))) };
}

/** Symmetric scale (float32-rounded) of values min..max, zero point INT4_SYM_ZERO; an all-zero block gets scale 1. */
export function symBlockParams(min: number, max: number, divisor = SYM_DIVISOR): { scale: number; zero: number } {
  const absmax = Math.max(Math.abs(min), Math.abs(max));
  return { scale: absmax === 0 ? 1 : Math.fround(absmax / divisor), zero: INT4_SYM_ZERO };
}

/** Block parameters of either quantizer. */
export const paramsOf = (symmetric: boolean) => (symmetric ? symBlockParams : blockParams);

export function quantizeValue(w: number, scale: number, zero: number): number {
  return Math.min(INT4_MAX, Math.max(0, Math.round(w / scale) + zero));
}

/** Round-to-nearest quantization of W [N, K] (row-major, any float array). */
export function quantizeRtn(w: ArrayLike<number>, n: number, k: number, blockSize: number, symmetric = false): Int4Matrix {
  const q = emptyInt4(n, k, blockSize, symmetric);
  const params = paramsOf(symmetric);
  const { nBlocks } = q;
  for (let r = 0; r < n; r++) {
    for (let b = 0; b < nBlocks; b++) {
      const from = b * blockSize;
      const to = Math.min(k, from + blockSize);
      const { min, max } = rowRange(w, r * k, from, to);
      const { scale, zero } = params(min, max);
      const s = r * nBlocks + b;
      q.scales[s] = scale;
      q.zeros[s] = zero;
      const base = r * nBlocks * blockSize;
      for (let c = from; c < from + blockSize; c++) q.codes[base + c] = c < to ? quantizeValue(w[r * k + c]!, scale, zero) : zero;
    }
  }
  return q;
}

/** W' [N, K] float32 that the packed matrix stands for. */
export function dequantizeInt4(q: Int4Matrix): Float32Array {
  const { n, k, nBlocks, blockSize } = q;
  const out = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const s = r * nBlocks + Math.floor(c / blockSize);
      out[r * k + c] = (q.codes[r * nBlocks * blockSize + c]! - q.zeros[s]!) * q.scales[s]!;
    }
  }
  return out;
}

/** MatMulNBits inputs B [N, nBlocks, blockSize/2] and zero_points [N * ceil(nBlocks/2)] (written only when not symmetric). */
export function packInt4(q: Int4Matrix): { b: Uint8Array; zeroPoints: Uint8Array } {
  const b = new Uint8Array(q.codes.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = q.codes[2 * i]! | (q.codes[2 * i + 1]! << 4);
  const zb = Math.ceil(q.nBlocks / 2);
  const zeroPoints = new Uint8Array(q.n * zb);
  for (let r = 0; r < q.n; r++) {
    for (let blk = 0; blk < q.nBlocks; blk++) {
      const z = q.zeros[r * q.nBlocks + blk]!;
      zeroPoints[r * zb + (blk >> 1)]! |= blk % 2 === 0 ? z : z << 4;
    }
  }
  return { b, zeroPoints };
}

/** Smallest and largest of w[offset + from .. offset + to) (one row's block of columns). */
export function rowRange(w: ArrayLike<number>, offset: number, from: number, to: number): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let c = from; c < to; c++) {
    const v = w[offset + c]!;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}
