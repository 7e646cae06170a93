/** safetensors: round trip, the reference's exact bytes, one test per malformed case, float conversions. */
import { describe, expect, it } from 'vitest';
import { SafetensorsError } from '../core/errors';
import { tensor } from '../core/tensor';
import { halfToFloat } from './safetensors-dtype';
import { MAX_HEADER_SIZE, parseSafetensors, writeSafetensors } from './safetensors';

/** A file with the given header (object or raw text) and data bytes (or a length of zeros). */
function file(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const text = typeof header === 'string' ? header : JSON.stringify(header);
  const h = new TextEncoder().encode(text);
  return withHeaderBytes(h, data, headerLength);
}

function withHeaderBytes(h: Uint8Array, data: Uint8Array | number, headerLength?: bigint): Uint8Array {
  const d = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

const f32 = (shape: number[], b: number, e: number) => ({ dtype: 'F32', shape, data_offsets: [b, e] });

function expectError(bytes: Uint8Array, fragment: RegExp): void {
  let caught: unknown;
  try {
    parseSafetensors(bytes);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(SafetensorsError);
  expect((caught as SafetensorsError).code).toBe('SAFETENSORS_INVALID');
  expect((caught as Error).message).toMatch(fragment);
}

function u16(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  values.forEach((v, i) => new DataView(out.buffer).setUint16(i * 2, v, true));
  return out;
}

describe('writeSafetensors / parseSafetensors', () => {
  it('round-trips float32 tensors and metadata', () => {
    const a = tensor([2, 3], Float32Array.from([1, -2, 3.5, 0, -0, 1e-30]));
    const b = tensor([5], Float32Array.from([9, 8, 7, 6, 5]));
    const empty = tensor([0, 4]);
    const bytes = writeSafetensors({ 'h.0.x': a, b, empty }, { format: 'pt', note: 'ünïcode' });
    const f = parseSafetensors(bytes);
    expect(f.headerLength % 8).toBe(0);
    expect([...f.header.keys()].sort()).toEqual(['b', 'empty', 'h.0.x']);
    expect(f.metadata).toEqual({ format: 'pt', note: 'ünïcode' });
    expect(f.getFloat32('h.0.x').shape).toEqual([2, 3]);
    expect([...f.getFloat32('h.0.x').data]).toEqual([...a.data]);
    expect(Object.is(f.getFloat32('h.0.x').data[4], -0)).toBe(true);
    expect([...f.getFloat32('b').data]).toEqual([9, 8, 7, 6, 5]);
    expect(f.getFloat32('empty').shape).toEqual([0, 4]);
    expect(f.header.get('b')).toEqual({ dtype: 'F32', shape: [5], offsets: [0, 20] });
  });

  it('writes byte-for-byte what the reference serializer writes', () => {
    // huggingface/safetensors tensor.rs test_serialization: "attn.0" F32 [1, 2, 3] = 0..5, 64-byte header.
    const out = writeSafetensors({ 'attn.0': tensor([1, 2, 3], Float32Array.from([0, 1, 2, 3, 4, 5])) });
    const header = '{"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}}';
    expect(out.length).toBe(8 + 64 + 24);
    expect(new DataView(out.buffer).getBigUint64(0, true)).toBe(64n);
    expect(new TextDecoder().decode(out.subarray(8, 72))).toBe(header);
    expect([...out.subarray(72, 80)]).toEqual([0, 0, 0, 0, 0, 0, 128, 63]);
    // test_empty: "{}" padded with 6 spaces; with metadata {"framework": "pt"}: 35 bytes + 5 spaces.
    expect([...writeSafetensors({})]).toEqual([8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32]);
    const meta = writeSafetensors({}, { framework: 'pt' });
    expect(meta[0]).toBe(40);
    expect(new TextDecoder().decode(meta.subarray(8))).toBe('{"__metadata__":{"framework":"pt"}}     ');
  });

  it('copies tensors at unaligned offsets into aligned arrays', () => {
    const data = new Uint8Array(2 + 8);
    new DataView(data.buffer).setUint16(0, 0x3c00, true);
    new DataView(data.buffer).setFloat32(2, 1.5, true);
    new DataView(data.buffer).setFloat32(6, -7.25, true);
    const f = parseSafetensors(file({ a: { dtype: 'F16', shape: [1], data_offsets: [0, 2] }, b: f32([2], 2, 10) }, data));
    const b = f.getFloat32('b');
    expect(b.data.byteOffset % 4).toBe(0);
    expect([...b.data]).toEqual([1.5, -7.25]);
  });

  it('accepts entries declared in any order (the reference sorts by offsets)', () => {
    const f = parseSafetensors(file({ second: f32([1], 4, 8), first: f32([1], 0, 4) }, 8));
    expect([...f.header.keys()]).toEqual(['first', 'second']);
  });

  it('accepts an empty header and zero-sized tensors sharing an offset', () => {
    expect(parseSafetensors(file({})).header.size).toBe(0);
    expect(parseSafetensors(file({ a: f32([0], 0, 0), b: f32([1], 0, 4) }, 4)).header.size).toBe(2);
  });
});

describe('parseSafetensors rejects malformed files', () => {
  it('too short for the header length', () => expectError(new Uint8Array(5), /too short: 5 bytes/));
  it('header length over the cap', () => expectError(file({}, 0, BigInt(MAX_HEADER_SIZE + 1)), /Header length 100000001 is too large/));
  it('header length past the end of the file', () =>
    expectError(file({}, 0, 100n), /Header length 100 runs past the end of the file \(10 bytes\)/));
  it('header that is not UTF-8', () => expectError(withHeaderBytes(Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d]), 0), /not valid UTF-8/));
  it('header that is not JSON', () => expectError(file('{"a": '), /not valid JSON/));
  it('JSON that is not an object', () => {
    expectError(file('[1, 2]'), /must be a JSON object.*an array/);
    expectError(file('null'), /must be a JSON object.*null/);
    expectError(file('"x"'), /must be a JSON object.*string/);
  });
  it('entry that is not an object', () => expectError(file({ w: 3 }), /Tensor "w": the entry must be an object/));
  it('missing dtype', () => expectError(file({ w: { shape: [1], data_offsets: [0, 4] } }, 4), /Tensor "w": missing "dtype"/));
  it('missing shape', () => expectError(file({ w: { dtype: 'F32', data_offsets: [0, 4] } }, 4), /Tensor "w": missing "shape"/));
  it('missing data_offsets', () => expectError(file({ w: { dtype: 'F32', shape: [1] } }, 4), /Tensor "w": missing "data_offsets"/));
  it('malformed data_offsets', () =>
    expectError(file({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 4), /"data_offsets" must be \[begin, end\]/));
  it('unknown dtype', () =>
    expectError(file({ w: { dtype: 'F7', shape: [1], data_offsets: [0, 4] } }, 4), /Tensor "w": unknown dtype "F7" \(known: BOOL/));
  it('negative shape', () => expectError(file({ w: f32([2, -1], 0, 4) }, 4), /Tensor "w": shape\[1\] = -1 is not a non-negative integer/));
  it('non-integer shape', () =>
    expectError(file({ w: f32([1.5], 0, 4) }, 4), /Tensor "w": shape\[0\] = 1.5 is not a non-negative integer/));
  it('gap between tensors', () =>
    expectError(file({ a: f32([1], 0, 4), b: f32([1], 8, 12) }, 12), /Tensor "b": data_offsets \[8, 12\] leave a gap: "a" ends at byte 4/));
  it('gap before the first tensor', () => expectError(file({ a: f32([1], 4, 8) }, 8), /leave a gap: the data starts at byte 0/));
  it('overlapping tensors', () =>
    expectError(file({ a: f32([2], 0, 8), b: f32([1], 4, 8) }, 8), /Tensor "b": data_offsets \[4, 8\] overlap "a", which ends at byte 8/));
  it('end before begin', () =>
    expectError(file({ a: f32([1], 0, 4), b: f32([0], 4, 2) }, 4), /Tensor "b": data_offsets end 2 is before begin 4/));
  it('span that does not match shape x dtype', () =>
    expectError(file({ w: f32([2, 2], 0, 12) }, 12), /Tensor "w": data_offsets span 12 bytes, but shape \[2, 2\] of F32 needs 16 bytes/));
  it('element count overflowing 64 bits', () => {
    expectError(
      file({ w: f32([2 ** 40, 2 ** 40], 0, 4) }, 4),
      /Tensor "w": shape \[1099511627776, 1099511627776\] overflows a 64-bit element count/,
    );
    expectError(file({ w: { dtype: 'F64', shape: [2 ** 31, 2 ** 31], data_offsets: [0, 4] } }, 4), /of F64 overflows a 64-bit size/);
  });
  it('sub-byte dtype that does not fill whole bytes', () =>
    expectError(file({ w: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2), /3 elements of F4 do not fill whole bytes/));
  it('trailing bytes after the last tensor', () => expectError(file({ w: f32([1], 0, 4) }, 7), /3 trailing bytes after the last tensor/));
  it('offsets beyond the data buffer', () => expectError(file({ w: f32([4], 0, 16) }, 8), /"w" ends at byte 16 of a 8-byte data buffer/));
  it('metadata that is not a string map', () => {
    expectError(file({ __metadata__: { format: 1 } }), /__metadata__ must map strings to strings, but key "format" has a number/);
    expectError(file({ __metadata__: ['pt'] }), /__metadata__ must be an object of strings, got an array/);
  });
  it('non-float dtype read as a weight, and unknown names', () => {
    const f = parseSafetensors(file({ ids: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, 8));
    expect(() => f.getFloat32('ids')).toThrow(/Tensor "ids" has dtype I64; only F32, F16, BF16, F64 can be loaded/);
    expect(() => f.getFloat32('nope')).toThrow(SafetensorsError);
  });
  it('writing a tensor whose data does not match its shape', () => {
    expect(() => writeSafetensors({ w: { shape: [3], data: new Float32Array(2) } })).toThrow(/Cannot write tensor "w"/);
  });
});

describe('float conversions', () => {
  it('F16 -> float32 against hand-computed values', () => {
    const cases: [number, number][] = [
      [0x3c00, 1],
      [0xc000, -2],
      [0x3555, 0.333251953125],
      [0x7bff, 65504],
      [0x0400, 2 ** -14],
      [0x0001, 2 ** -24],
      [0x03ff, 1023 * 2 ** -24],
      [0x7c00, Infinity],
      [0xfc00, -Infinity],
      [0x0000, 0],
    ];
    const data = u16([...cases.map(([h]) => h), 0x7e00, 0x8000]);
    const t = parseSafetensors(file({ h: { dtype: 'F16', shape: [cases.length + 2], data_offsets: [0, data.length] } }, data)).getFloat32(
      'h',
    );
    cases.forEach(([, v], i) => expect(t.data[i]).toBe(v));
    expect(Number.isNaN(t.data[cases.length])).toBe(true);
    expect(Object.is(t.data[cases.length + 1], -0)).toBe(true);
    expect(halfToFloat(0x3c01)).toBe(1 + 2 ** -10);
  });

  it('BF16 -> float32 against hand-computed values', () => {
    const cases: [number, number][] = [
      [0x3f80, 1],
      [0xc000, -2],
      [0x4049, 3.140625],
      [0x7f7f, 3.3895313892515355e38],
      [0x0080, 2 ** -126],
      [0x0001, 2 ** -133],
      [0x7f80, Infinity],
      [0xff80, -Infinity],
    ];
    const data = u16([...cases.map(([h]) => h), 0x7fc0]);
    const t = parseSafetensors(file({ b: { dtype: 'BF16', shape: [cases.length + 1], data_offsets: [0, data.length] } }, data)).getFloat32(
      'b',
    );
    cases.forEach(([, v], i) => expect(t.data[i]).toBe(v));
    expect(Number.isNaN(t.data[cases.length])).toBe(true);
  });

  it('F64 -> float32 rounds to nearest and overflows to Inf', () => {
    const data = new Uint8Array(24);
    const dv = new DataView(data.buffer);
    [1 / 3, -2.5, 1e300].forEach((v, i) => dv.setFloat64(i * 8, v, true));
    const t = parseSafetensors(file({ d: { dtype: 'F64', shape: [3], data_offsets: [0, 24] } }, data)).getFloat32('d');
    expect([...t.data]).toEqual([Math.fround(1 / 3), -2.5, Infinity]);
  });
});
