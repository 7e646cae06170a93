/**
 * Protobuf wire-format scalars for the sized encoder (io/onnx/encode.ts): the byte size of a value
 * and its bytes written at a position of a preallocated buffer. Each value is encoded exactly as
 * protobufjs's Writer encodes it (negative int32 as 10-byte varints, 64-bit values through
 * protobufjs's LongBits, strings through its utf8), so the two encoders' bytes are equal.
 */
import protobuf from 'protobufjs/light.js';

const { LongBits, utf8 } = protobuf.util;

/** Bytes of a 32-bit unsigned varint. */
export function varint32Size(v: number): number {
  v >>>= 0;
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

export function writeVarint32(buf: Uint8Array, pos: number, v: number): number {
  v >>>= 0;
  while (v > 127) {
    buf[pos++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

const scratch = new Uint8Array(10);

function varint64Size(bits: protobuf.util.LongBits): number {
  return writeVarint64(scratch, 0, bits);
}

function writeVarint64(buf: Uint8Array, pos: number, bits: protobuf.util.LongBits): number {
  let lo = bits.lo >>> 0;
  let hi = bits.hi >>> 0;
  while (hi) {
    buf[pos++] = (lo & 127) | 128;
    lo = ((lo >>> 7) | (hi << 25)) >>> 0;
    hi >>>= 7;
  }
  while (lo > 127) {
    buf[pos++] = (lo & 127) | 128;
    lo >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

type Long = number | string | protobuf.Long;

function longBits(type: string, v: Long): protobuf.util.LongBits {
  const bits = LongBits.from(v);
  return type === 'sint64' ? bits.zzEncode() : bits;
}

const f32 = new Float32Array(1);
const f32Bytes = new Uint8Array(f32.buffer);
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function copyLE(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) buf[pos + i] = bytes[LITTLE_ENDIAN ? i : bytes.length - 1 - i]!;
  return pos + bytes.length;
}

/** Wire type of a scalar protobuf type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32). */
export function wireType(type: string): number {
  const w = (protobuf.types.basic as Record<string, number | undefined>)[type];
  if (w === undefined) throw new TypeError(`unknown protobuf scalar type ${type}`);
  return w;
}

/** Size in bytes of one scalar value (without tag); strings and bytes include their length prefix. */
export function scalarSize(type: string, v: unknown): number {
  switch (type) {
    case 'double':
    case 'fixed64':
    case 'sfixed64':
      return 8;
    case 'float':
    case 'fixed32':
    case 'sfixed32':
      return 4;
    case 'bool':
      return 1;
    case 'int32':
      return ((v as number) | 0) < 0 ? 10 : varint32Size((v as number) | 0);
    case 'uint32':
      return varint32Size(v as number);
    case 'sint32': {
      const x = v as number;
      return varint32Size(((x << 1) ^ (x >> 31)) >>> 0);
    }
    case 'int64':
    case 'uint64':
    case 'sint64':
      return varint64Size(longBits(type, v as Long));
    case 'string': {
      const n = utf8.length(v as string);
      return varint32Size(n) + n;
    }
    case 'bytes': {
      const b = bytesOf(v);
      return varint32Size(b.length) + b.length;
    }
    default:
      throw new TypeError(`unknown protobuf scalar type ${type}`);
  }
}

function bytesOf(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new TypeError('bytes fields must be Uint8Array (base64 strings are not supported by the sized encoder)');
}

/** Writes one scalar value (without tag) at `pos`; returns the position after it. */
export function writeScalar(buf: Uint8Array, pos: number, type: string, v: unknown): number {
  switch (type) {
    case 'double':
      f64[0] = v as number;
      return copyLE(buf, pos, f64Bytes);
    case 'float':
      f32[0] = v as number;
      return copyLE(buf, pos, f32Bytes);
    case 'fixed32':
    case 'sfixed32': {
      const x = (v as number) >>> 0;
      buf[pos] = x & 255;
      buf[pos + 1] = (x >>> 8) & 255;
      buf[pos + 2] = (x >>> 16) & 255;
      buf[pos + 3] = x >>> 24;
      return pos + 4;
    }
    case 'fixed64':
    case 'sfixed64': {
      const bits = LongBits.from(v as Long);
      writeScalar(buf, pos, 'fixed32', bits.lo);
      return writeScalar(buf, pos + 4, 'fixed32', bits.hi);
    }
    case 'bool':
      buf[pos] = v ? 1 : 0;
      return pos + 1;
    case 'int32': {
      const x = (v as number) | 0;
      return x < 0 ? writeVarint64(buf, pos, LongBits.fromNumber(x)) : writeVarint32(buf, pos, x);
    }
    case 'uint32':
      return writeVarint32(buf, pos, v as number);
    case 'sint32': {
      const x = v as number;
      return writeVarint32(buf, pos, ((x << 1) ^ (x >> 31)) >>> 0);
    }
    case 'int64':
    case 'uint64':
    case 'sint64':
      return writeVarint64(buf, pos, longBits(type, v as Long));
    case 'string': {
      const s = v as string;
      const at = writeVarint32(buf, pos, utf8.length(s));
      return at + utf8.write(s, buf, at);
    }
    case 'bytes': {
      const b = bytesOf(v);
      const at = writeVarint32(buf, pos, b.length);
      buf.set(b, at);
      return at + b.length;
    }
    default:
      throw new TypeError(`unknown protobuf scalar type ${type}`);
  }
}
