/**
 * safetensors element types: the dtype names and bit widths of the reference implementation
 * (huggingface/safetensors `Dtype::bitsize`), and the conversions of the float types we accept
 * as weights (F32, F16, BF16, F64) into float32. Reads are little-endian whatever the platform.
 */
import { allocatesShared, allocFloat32 } from '../core/tensor';

/** Bits per element, exactly as the reference (sub-byte types included so their files validate). */
export const DTYPE_BITS = {
  BOOL: 8,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  C64: 64,
  F64: 64,
  I64: 64,
  U64: 64,
} as const;

export type Dtype = keyof typeof DTYPE_BITS;

/** The dtypes `getFloat32` converts; everything else is rejected as a weight. */
export const FLOAT_DTYPES: readonly Dtype[] = ['F32', 'F16', 'BF16', 'F64'];

export function isDtype(s: string): s is Dtype {
  return Object.prototype.hasOwnProperty.call(DTYPE_BITS, s);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

let halfTable: Float32Array | undefined;

/** IEEE 754 binary16 bit pattern -> number (subnormals, infinities and NaN included). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function halfLookup(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToFloat(h);
  }
  return halfTable;
}

/**
 * Converts `count` elements of a float dtype starting at `bytes[0]` into a fresh, aligned
 * Float32Array (the source offset is in general not a multiple of 4, so no views are taken).
 */
/**
 * The values of F32 `bytes` without a copy: a Float32Array over their own buffer, when they are
 * little-endian, fill a plain buffer alone (a fresh read the caller owns and hands over) and plain
 * arrays are being made (allocFloat32); undefined otherwise (then toFloat32 copies). A tensor read
 * by range then costs its bytes once, not twice with the read buffer left as garbage.
 */
export function adoptFloat32(dtype: Dtype, bytes: Uint8Array, count: number): Float32Array | undefined {
  if (dtype !== 'F32' || !LITTLE_ENDIAN || allocatesShared()) return undefined;
  const { buffer } = bytes;
  if (!(buffer instanceof ArrayBuffer) || bytes.byteOffset !== 0 || bytes.byteLength !== buffer.byteLength) return undefined;
  return bytes.byteLength === count * 4 ? new Float32Array(buffer, 0, count) : undefined;
}

export function toFloat32(dtype: Dtype, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = allocFloat32(count);
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    case 'F16': {
      const table = halfLookup();
      for (let i = 0; i < count; i++) out[i] = table[view.getUint16(i * 2, true)]!;
      return out;
    }
    case 'BF16': {
      // bfloat16 is the top half of a float32: shift the bits up (keeps NaN payloads exactly).
      // Uint32Array and Float32Array share the platform's byte order, so this is endian-safe.
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(i * 2, true) << 16;
      return out;
    }
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    default:
      throw new RangeError(`toFloat32: ${dtype} is not a float dtype`);
  }
}

/** float32 data -> little-endian bytes (a copy). */
export function float32Bytes(data: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i]!, true);
  return out;
}
