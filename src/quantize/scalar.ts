/**
 * Element formats of the non-int4 variants: IEEE half (float32 -> binary16 bits, round to nearest
 * even, overflow to ±Inf) and symmetric per-channel int8 (scale = max|w| / 127 per output channel,
 * code = round(w / scale) in -127..127, the onnxruntime quantizer's symmetric weights).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary16 bits of x. */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const bits = u32[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  let mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Value of binary16 bits h. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function toHalfArray(data: ArrayLike<number>): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = toHalfBits(data[i]!);
  return out;
}

export interface Int8Channels {
  /** codes, same layout as the input */
  codes: Int8Array;
  /** one scale per channel */
  scales: Float32Array;
}

/**
 * Symmetric int8 of a row-major [rows, cols] matrix with one scale per column (`perColumn`) or per
 * row, codes in [-qmax, qmax] (127, or 63 for onnxruntime's reduce_range). A channel of zeros gets scale 1.
 */
export function quantizeInt8(data: ArrayLike<number>, rows: number, cols: number, perColumn: boolean, qmax = 127): Int8Channels {
  const channels = perColumn ? cols : rows;
  const max = new Float64Array(channels);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const ch = perColumn ? c : r;
      max[ch] = Math.max(max[ch]!, Math.abs(data[r * cols + c]!));
    }
  const scales = Float32Array.from(max, (m) => (m > 0 ? m / qmax : 1));
  const codes = new Int8Array(rows * cols);
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      const s = scales[perColumn ? c : r]!;
      codes[r * cols + c] = Math.max(-qmax, Math.min(qmax, Math.round(data[r * cols + c]! / s)));
    }
  return { codes, scales };
}
