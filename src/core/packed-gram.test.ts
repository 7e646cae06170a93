import { describe, expect, it } from 'vitest';
import { gramBlocks, packGram, packedGramLength, unpackGram } from './packed-gram';

/** A symmetric c x c matrix with distinct entries. */
function symmetric(c: number): Float64Array {
  const m = new Float64Array(c * c);
  for (let i = 0; i < c; i++) for (let j = 0; j <= i; j++) m[i * c + j] = m[j * c + i] = i * 1000 + j + 1;
  return m;
}

describe('packed Gram (upper block trapezoid)', () => {
  it('has the block layout and length written out by hand', () => {
    // c = 5, B = 2: rows 0-1 x cols 0-4 (10), rows 2-3 x cols 2-4 (6), row 4 x col 4 (1)
    expect(gramBlocks(5, 2)).toEqual([
      { from: 0, height: 2, width: 5, offset: 0 },
      { from: 2, height: 2, width: 3, offset: 10 },
      { from: 4, height: 1, width: 1, offset: 16 },
    ]);
    expect(packedGramLength(5, 2)).toBe(17);
    expect(packedGramLength(3072)).toBe(256 * 256 * 78);
    expect(packedGramLength(200)).toBe(200 * 200);
  });

  it('round-trips a symmetric matrix, for block sizes that divide c or not', () => {
    for (const [c, b] of [
      [5, 2],
      [6, 3],
      [7, 7],
      [9, 4],
      [300, 128],
    ] as const) {
      const m = symmetric(c);
      const packed = packGram(m, c, b);
      expect(packed.length).toBe(packedGramLength(c, b));
      expect(unpackGram(packed, c, b)).toEqual(m);
    }
  });

  it('stores the stored upper values, mirrored below the diagonal blocks', () => {
    const packed = Float32Array.from({ length: 17 }, (_, i) => i + 1);
    const full = unpackGram(packed, 5, 2);
    expect(full[0 * 5 + 4]).toBe(5); // row 0, col 4
    expect(full[4 * 5 + 0]).toBe(5); // mirrored
    expect(full[1 * 5 + 0]).toBe(6); // inside the diagonal block: stored itself
    expect(full[3 * 5 + 2]).toBe(14); // second block, row 3 col 2
    expect(full[4 * 5 + 4]).toBe(17);
  });
});
