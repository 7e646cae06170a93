/**
 * Packed storage of a symmetric c x c second-moment matrix G = Σ x xᵀ (the calibration Grams):
 * its upper block trapezoid. Row block k covers rows [k·B, k·B + h) (h = min(B, c − k·B)) and
 * columns [k·B, c), stored row-major, blocks one after another: about c²/2 + c·B/2 values instead
 * of c². The calibration graph computes exactly these blocks (one MatMul per row block, half the
 * products of the full XᵀX, and bitwise the same values: the sum over tokens runs in the same order),
 * so a float32 store of all layers' Grams costs a quarter of full float64 matrices; the full float64
 * matrix is expanded for one projection at a time, when a consumer asks (core/stats.ts `hessian`).
 */

/** Rows per block. */
export const GRAM_BLOCK = 256;

export interface GramBlock {
  /** First row (and first column) of the block. */
  from: number;
  /** Rows in the block. */
  height: number;
  /** Columns: from .. c-1. */
  width: number;
  /** Offset of the block's first value in the packed array. */
  offset: number;
}

/** The row blocks of the packed layout for c channels. */
export function gramBlocks(c: number, block = GRAM_BLOCK): GramBlock[] {
  const out: GramBlock[] = [];
  let offset = 0;
  for (let from = 0; from < c; from += block) {
    const height = Math.min(block, c - from);
    const width = c - from;
    out.push({ from, height, width, offset });
    offset += height * width;
  }
  return out;
}

/** Values in the packed layout for c channels. */
export function packedGramLength(c: number, block = GRAM_BLOCK): number {
  const last = gramBlocks(c, block).at(-1);
  return last ? last.offset + last.height * last.width : 0;
}

/** Side of the square tiles that transposed copies go through (both sides stay in cache). */
const TILE = 64;

/** The full row-major c x c matrix (float64) of a packed Gram; the lower part mirrors the stored upper part. */
export function unpackGram(packed: ArrayLike<number>, c: number, block = GRAM_BLOCK): Float64Array {
  const full = new Float64Array(c * c);
  for (const { from, height, width, offset } of gramBlocks(c, block)) {
    for (let r = 0; r < height; r++) {
      const src = offset + r * width;
      const dst = (from + r) * c + from;
      for (let k = 0; k < width; k++) full[dst + k] = packed[src + k]!;
    }
    // Columns right of the diagonal block: mirrored below it, tile by tile.
    for (let c0 = from + height; c0 < c; c0 += TILE) {
      const c1 = Math.min(c, c0 + TILE);
      for (let r0 = from; r0 < from + height; r0 += TILE) {
        const r1 = Math.min(from + height, r0 + TILE);
        for (let col = c0; col < c1; col++) for (let row = r0; row < r1; row++) full[col * c + row] = full[row * c + col]!;
      }
    }
  }
  return full;
}

function packInto<T extends Float32Array | Float64Array>(out: T, full: ArrayLike<number>, c: number, block: number): T {
  for (const { from, height, width, offset } of gramBlocks(c, block)) {
    for (let r = 0; r < height; r++) {
      for (let k = 0; k < width; k++) out[offset + r * width + k] = full[(from + r) * c + from + k]!;
    }
  }
  return out;
}

/** The packed layout of a full row-major c x c matrix (its upper block trapezoid), float32 as calibration stores it. */
export function packGram(full: ArrayLike<number>, c: number, block = GRAM_BLOCK): Float32Array {
  return packInto(new Float32Array(packedGramLength(c, block)), full, c, block);
}

/** The same layout kept in float64 (statistics built from exact references, e.g. golden tests). */
export function packGram64(full: ArrayLike<number>, c: number, block = GRAM_BLOCK): Float64Array {
  return packInto(new Float64Array(packedGramLength(c, block)), full, c, block);
}
