/**
 * bfloat16 writing and the streamed layout: bit patterns of hand-picked floats (their float32 bits
 * from IEEE 754, rounded to nearest even by hand), read back through the independent reader, and
 * a file streamed header + entries equal to writeSafetensors.
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '../core/tensor';
import { encodeFloats, float32ToBf16Bits, parseSafetensors, safetensorsLayout, writeSafetensors } from './safetensors';

const bitsOf = (v: number) => new Uint32Array(Float32Array.of(v).buffer)[0]!;

describe('bfloat16 writing', () => {
  it('rounds float32 to bfloat16 bit patterns like torch (nearest even)', () => {
    const cases: [number, number][] = [
      [1, 0x3f80],
      [-2, 0xc000],
      [0, 0x0000],
      [-0, 0x8000],
      [Math.PI, 0x4049], // 0x40490FDB: low half 0x0FDB < 0x8000, rounds down
      [1 / 3, 0x3eab], // 0x3EAAAAAB: low half 0xAAAB > 0x8000, rounds up
      [0.1, 0x3dcd], // 0x3DCCCCCD: rounds up
      [1 + 2 ** -8, 0x3f80], // 0x3F808000: a tie, even (0x3F80) kept
      [1 + 3 * 2 ** -8, 0x3f82], // 0x3F818000: a tie, odd 0x3F81 rounds up to even
      [65504, 0x4780], // 0x477FE000: rounds up into the next binade
      [1e-45, 0x0000], // smallest float32 subnormal
      [3.4028234663852886e38, 0x7f80], // float32 max overflows to +inf
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [NaN, 0x7fc0],
    ];
    for (const [v, want] of cases) expect(float32ToBf16Bits(bitsOf(v)).toString(16), String(v)).toBe(want.toString(16));
    expect(float32ToBf16Bits(0xffc00001)).toBe(0x7fc0); // negative NaN with a payload: torch's quiet NaN
  });

  it('writes BF16 files that the reader decodes to the rounded values', () => {
    const data = Float32Array.from([1, -2, Math.PI, 1 / 3, 1 + 3 * 2 ** -8, -0]);
    const bytes = writeSafetensors({ w: tensor([2, 3], data) }, { format: 'pt' }, 'BF16');
    const f = parseSafetensors(bytes);
    expect(f.header.get('w')).toEqual({ dtype: 'BF16', shape: [2, 3], offsets: [0, 12] });
    expect([...f.getFloat32('w').data]).toEqual([1, -2, 3.140625, 0.333984375, 1.015625, -0]);
    expect(Object.is(f.getFloat32('w').data[5], -0)).toBe(true);
    expect([...encodeFloats('BF16', Float32Array.of(1, -2))]).toEqual([0x80, 0x3f, 0x00, 0xc0]);
  });

  it('streams header + entries in layout order into the same bytes as writeSafetensors', () => {
    const tensors = { 'b.x': tensor([3], Float32Array.of(1, 2, 3)), a: tensor([2, 2], Float32Array.of(0.5, -1, 7, 9)) };
    for (const dtype of ['F32', 'BF16'] as const) {
      const layout = safetensorsLayout(
        Object.entries(tensors).map(([name, t]) => ({ name, dtype, shape: t.shape })),
        { format: 'pt' },
      );
      expect(layout.entries.map((e) => e.name)).toEqual(['a', 'b.x']);
      const parts = [layout.header, ...layout.entries.map((e) => encodeFloats(dtype, tensors[e.name as keyof typeof tensors].data))];
      const streamed = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((at, p) => (streamed.set(p, at), at + p.length), 0);
      expect(streamed.length).toBe(layout.fileBytes);
      expect([...streamed]).toEqual([...writeSafetensors(tensors, { format: 'pt' }, dtype)]);
    }
  });
});
