/**
 * MatMulNBits unpacking (io/onnx-import/dequantize.ts) against the studio's own int4 writer
 * (quantize/blocks.ts): B [N, n_blocks, blob] low nibble first, scales [N * n_blocks], packed zero
 * points (default 8 when absent), K not a multiple of the block. The onnxruntime side is checked by
 * the import check of a written model_q4.onnx (api/roundtrip-quantized.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { dequantizeInt4, packInt4, quantizeRtn } from '../../quantize/blocks';
import { dequantizeNBits } from './nbits';

describe('dequantizeNBits', () => {
  it('reads what packInt4 writes, padding and zero points included', () => {
    const [n, k, blockSize] = [3, 40, 16];
    let s = 5;
    const w = Float32Array.from({ length: n * k }, () => ((s = (s * 16807) % 2147483647) / 2147483647) * 2 - 0.7);
    const q = quantizeRtn(w, n, k, blockSize);
    const { b, zeroPoints } = packInt4(q);
    const got = dequantizeNBits({ n, k, bits: 4, blockSize, b, scales: q.scales, zeroPoints });
    expect(Array.from(got)).toEqual(Array.from(dequantizeInt4(q)));
  });

  it('low nibble first; absent zero points mean 8; float zero points are per block', () => {
    // One row, K = 16 = one block: codes 1, 2, 3, ... 15, 0 packed two a byte, low first.
    const codes = Array.from({ length: 16 }, (_, i) => (i + 1) % 16);
    const b = Uint8Array.from({ length: 8 }, (_, i) => codes[2 * i]! | (codes[2 * i + 1]! << 4));
    const scales = Float32Array.of(0.5);
    const base = { n: 1, k: 16, bits: 4, blockSize: 16, b, scales };
    expect(Array.from(dequantizeNBits(base))).toEqual(codes.map((c) => (c - 8) * 0.5));
    expect(Array.from(dequantizeNBits({ ...base, zeroPoints: Uint8Array.of(3) }))).toEqual(codes.map((c) => (c - 3) * 0.5));
    expect(Array.from(dequantizeNBits({ ...base, zeroPoints: Float32Array.of(2) }))).toEqual(codes.map((c) => (c - 2) * 0.5));
    expect(() => dequantizeNBits({ ...base, k: 40 })).toThrow(/table sizes do not match/);
  });
});
