/**
 * onnxruntime's com.microsoft MatMulNBits weight table back to float32 W [N, K]: codes packed low
 * bits first along K, one scale per block, zero points packed like the codes, as floats, or the
 * default 2^(bits - 1). Used by dequantize.ts.
 */
import { UnsupportedModelError } from '../../core/errors';

export interface NBitsTable {
  n: number;
  k: number;
  bits: number;
  blockSize: number;
  b: Uint8Array;
  scales: Float32Array;
  /** packed like B (uint8), or one float per block, or absent (2^(bits-1)) */
  zeroPoints?: Uint8Array | Float32Array;
}

/** W [N, K] of a MatMulNBits table (onnxruntime contrib op semantics). */
export function dequantizeNBits(t: NBitsTable): Float32Array {
  const { n, k, bits, blockSize } = t;
  if (bits !== 2 && bits !== 4 && bits !== 8)
    throw new UnsupportedModelError(`MatMulNBits with bits=${bits} is not supported (2, 4 or 8).`);
  const nBlocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const perByte = 8 / bits;
  const mask = (1 << bits) - 1;
  const zpRow = Math.ceil((nBlocks * bits) / 8);
  if (t.b.length !== n * nBlocks * blob || t.scales.length !== n * nBlocks)
    throw new UnsupportedModelError(
      `MatMulNBits table sizes do not match K=${k}, N=${n}, block_size=${blockSize}: B has ${t.b.length} bytes (needs ${n * nBlocks * blob}), scales ${t.scales.length} (needs ${n * nBlocks}).`,
    );
  const code = (bytes: Uint8Array, i: number) => (bytes[Math.floor(i / perByte)]! >> ((i % perByte) * bits)) & mask;
  const zero = (r: number, blk: number): number => {
    const z = t.zeroPoints;
    if (!z) return 1 << (bits - 1);
    if (z instanceof Float32Array) return z[r * nBlocks + blk]!;
    return code(z.subarray(r * zpRow, (r + 1) * zpRow), blk);
  };
  const w = new Float32Array(n * k);
  for (let r = 0; r < n; r++) {
    const row = t.b.subarray(r * nBlocks * blob, (r + 1) * nBlocks * blob);
    for (let blk = 0; blk < nBlocks; blk++) {
      const s = t.scales[r * nBlocks + blk]!;
      const z = zero(r, blk);
      const to = Math.min(k, (blk + 1) * blockSize);
      for (let c = blk * blockSize; c < to; c++) w[r * k + c] = Math.fround((code(row, c) - z) * s);
    }
  }
  return w;
}
