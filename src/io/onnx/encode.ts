/**
 * A sized protobuf encoder: the message's exact byte length is computed first (every nested
 * message's length in one pre-order pass), then each field is written once into a single
 * preallocated Uint8Array, so encoding a model costs its output size (raw_data goes straight from
 * the initializers' own arrays into the output). protobufjs's Writer grows its buffer by doubling
 * and copies it again in finish(), about 3.4x the output at the peak for a 313 MB model.
 * Driven by protobufjs's reflection of the committed descriptor (field order, presence, packing),
 * it writes the same bytes as protobufjs's encoder (io/onnx/encode.test.ts checks that).
 */
import protobuf from 'protobufjs/light.js';
import { eachDeferredRow, writeDeferred, type DeferredFloats } from './deferred';
import { scalarSize, varint32Size, wireType, writeScalar, writeVarint32 } from './wire';

type Msg = Record<string, unknown>;

/** Tensors whose raw_data is a deferred recipe (io/onnx/deferred.ts), keyed by their TensorProto object. */
export type DeferredTensors = ReadonlyMap<object, DeferredFloats>;

function deferredRaw(m: Msg, f: FieldPlan, deferred: DeferredTensors | undefined): DeferredFloats | undefined {
  return deferred && f.name === 'raw_data' ? deferred.get(m) : undefined;
}

const deferredBytes = (d: DeferredFloats) => d.rows * d.rowLength * 4;

interface FieldPlan {
  name: string;
  /** Protobuf scalar type ('int32' for enums), or undefined for a message field. */
  scalar: string | undefined;
  message: protobuf.Type | undefined;
  repeated: boolean;
  packed: boolean;
  tag: number;
  /** When a non-repeated field is written (protobufjs's presence rules for this field). */
  present: (m: Msg) => boolean;
}

const plans = new WeakMap<protobuf.Type, FieldPlan[]>();
const has = (m: Msg, name: string) => m[name] != null && Object.prototype.hasOwnProperty.call(m, name);

function presence(f: protobuf.Field, scalar: string | undefined): (m: Msg) => boolean {
  const n = f.name;
  if (f.required) return () => true;
  if (f.hasPresence || scalar === undefined) return (m) => has(m, n);
  if (f.resolvedType instanceof protobuf.Enum) return (m) => has(m, n) && m[n] !== f.typeDefault;
  if (scalar === 'bool') return (m) => has(m, n) && m[n] !== false;
  if (scalar === 'string') return (m) => has(m, n) && m[n] !== '';
  if (scalar === 'bytes') return (m) => has(m, n) && (m[n] as Uint8Array).length > 0;
  if (scalar === 'double' || scalar === 'float') return (m) => has(m, n) && !Object.is(m[n], 0);
  if ((protobuf.types.long as Record<string, number | undefined>)[scalar] !== undefined)
    return (m) =>
      has(m, n) &&
      (typeof m[n] === 'object' ? Boolean((m[n] as { low: number; high: number }).low || (m[n] as { high: number }).high) : m[n] !== 0);
  return (m) => has(m, n) && m[n] !== 0;
}

function planOf(type: protobuf.Type): FieldPlan[] {
  const cached = plans.get(type);
  if (cached) return cached;
  const plan = [...type.fieldsArray]
    .sort((a, b) => a.id - b.id)
    .map((field): FieldPlan => {
      const f = field.resolve();
      if (f.map || f.delimited) throw new TypeError(`the sized encoder does not write map or group fields (${type.name}.${f.name})`);
      const message = f.resolvedType instanceof protobuf.Type ? f.resolvedType : undefined;
      const scalar = message ? undefined : f.resolvedType instanceof protobuf.Enum ? 'int32' : f.type;
      const packed =
        f.repeated &&
        f.packed &&
        scalar !== undefined &&
        (protobuf.types.packed as Record<string, number | undefined>)[scalar] !== undefined;
      const wire = scalar === undefined || packed ? 2 : wireType(scalar);
      return { name: f.name, scalar, message, repeated: f.repeated, packed, tag: ((f.id << 3) | wire) >>> 0, present: presence(f, scalar) };
    });
  plans.set(type, plan);
  return plan;
}

/** Body size of `m`; records every nested message's body size in `sizes`, in pre-order. */
function measure(m: Msg, type: protobuf.Type, sizes: number[], deferred: DeferredTensors | undefined): number {
  const slot = sizes.length;
  sizes.push(0);
  let n = 0;
  for (const f of planOf(type)) {
    const d = deferredRaw(m, f, deferred);
    if (d) {
      n += varint32Size(f.tag) + varint32Size(deferredBytes(d)) + deferredBytes(d);
    } else if (f.repeated) {
      const list = m[f.name] as unknown[] | null | undefined;
      if (list == null || list.length === 0) continue;
      if (f.packed) {
        const body = packedBodySize(f, list);
        n += varint32Size(f.tag) + varint32Size(body) + body;
        continue;
      }
      for (const v of list) n += varint32Size(f.tag) + valueSize(f, v, sizes, deferred);
    } else if (f.present(m)) n += varint32Size(f.tag) + valueSize(f, m[f.name], sizes, deferred);
  }
  for (const raw of unknowns(m)) n += raw.length;
  sizes[slot] = n;
  return n;
}

/** Bytes of a packed repeated scalar field's body (its values back to back). */
function packedBodySize(f: FieldPlan, list: readonly unknown[]): number {
  let body = 0;
  for (const v of list) body += scalarSize(f.scalar!, v);
  return body;
}

function valueSize(f: FieldPlan, v: unknown, sizes: number[], deferred: DeferredTensors | undefined): number {
  if (!f.message) return scalarSize(f.scalar!, v);
  const body = measure(v as Msg, f.message, sizes, deferred);
  return varint32Size(body) + body;
}

function unknowns(m: Msg): Uint8Array[] {
  return has(m, '$unknowns') ? (m.$unknowns as Uint8Array[]) : [];
}

interface Cursor {
  buf: Uint8Array;
  pos: number;
  /** Index of the next nested message's size in `sizes`. */
  next: number;
  sizes: number[];
  deferred: DeferredTensors | undefined;
  /** Streaming (encodeSizedTo): `buf` is a window that goes to the sink whenever it fills. */
  stream?: Stream;
}

/** Where a TensorProto's raw_data lies in the written bytes. */
export interface RawPlacement {
  offset: number;
  length: number;
}

interface Stream {
  sink: (bytes: Uint8Array, at: number) => void;
  /** Offset in the output of buf[0]. */
  base: number;
  placed: Map<object, RawPlacement>;
}

/** Room for a tag, a length and one scalar (a string or bytes value is written through `put`). */
const SMALL = 32;

/** Streaming: makes room for `n` bytes in the window (flushing it); the sized encoder has it all. */
function room(c: Cursor, n: number): void {
  if (c.stream && c.pos + n > c.buf.length) flush(c);
}

function flush(c: Cursor): void {
  const s = c.stream!;
  if (c.pos === 0) return;
  s.sink(c.buf.subarray(0, c.pos), s.base);
  s.base += c.pos;
  c.pos = 0;
}

/** Appends `bytes`; streaming, a run larger than the window goes to the sink as it is. */
function put(c: Cursor, bytes: Uint8Array): void {
  if (c.stream && c.pos + bytes.length > c.buf.length) {
    flush(c);
    if (bytes.length > c.buf.length) {
      c.stream.sink(bytes, c.stream.base);
      c.stream.base += bytes.length;
      return;
    }
  }
  c.buf.set(bytes, c.pos);
  c.pos += bytes.length;
}

/** Records where `m`'s raw_data starts (the next byte written) when streaming. */
function place(c: Cursor, m: Msg, length: number): void {
  c.stream?.placed.set(m, { offset: c.stream.base + c.pos, length });
}

function write(m: Msg, type: protobuf.Type, c: Cursor): void {
  c.next++; // this message's own size was written by the caller
  for (const f of planOf(type)) {
    const d = deferredRaw(m, f, c.deferred);
    if (d) {
      room(c, SMALL);
      c.pos = writeVarint32(c.buf, writeVarint32(c.buf, c.pos, f.tag), deferredBytes(d));
      place(c, m, deferredBytes(d));
      if (c.stream) eachDeferredRow(d, (row) => put(c, row));
      else c.pos = writeDeferred(d, c.buf, c.pos);
    } else if (f.repeated) {
      const list = m[f.name] as unknown[] | null | undefined;
      if (list == null || list.length === 0) continue;
      if (f.packed) {
        const body = packedBodySize(f, list);
        room(c, SMALL);
        c.pos = writeVarint32(c.buf, writeVarint32(c.buf, c.pos, f.tag), body);
        for (const v of list) {
          room(c, SMALL);
          c.pos = writeScalar(c.buf, c.pos, f.scalar!, v);
        }
        continue;
      }
      for (const v of list) writeField(f, v, c, m);
    } else if (f.present(m)) writeField(f, m[f.name], c, m);
  }
  for (const raw of unknowns(m)) put(c, raw);
}

function writeField(f: FieldPlan, v: unknown, c: Cursor, owner: Msg): void {
  room(c, SMALL);
  c.pos = writeVarint32(c.buf, c.pos, f.tag);
  if (!f.message) {
    if (c.stream && (f.scalar === 'bytes' || f.scalar === 'string')) writeLengthDelimited(f, v, c, owner);
    else c.pos = writeScalar(c.buf, c.pos, f.scalar!, v);
    return;
  }
  c.pos = writeVarint32(c.buf, c.pos, c.sizes[c.next]!);
  write(v as Msg, f.message, c);
}

const utf8 = new TextEncoder();

/** Streaming: a bytes or string value as its length and then its bytes (raw_data placed). */
function writeLengthDelimited(f: FieldPlan, v: unknown, c: Cursor, owner: Msg): void {
  const bytes = f.scalar === 'string' ? utf8.encode(v as string) : (v as Uint8Array);
  room(c, SMALL);
  c.pos = writeVarint32(c.buf, c.pos, bytes.length);
  if (f.name === 'raw_data') place(c, owner, bytes.length);
  put(c, bytes);
}

/**
 * Encodes `message` (a plain object shaped as `type`) into one Uint8Array of exactly its size;
 * the raw_data of each TensorProto in `deferred` is computed from its recipe as it is written.
 */
export function encodeSized(type: protobuf.Type, message: object, deferred?: DeferredTensors): Uint8Array {
  const sizes: number[] = [];
  const total = measure(message as Msg, type, sizes, deferred);
  const c: Cursor = { buf: new Uint8Array(total), pos: 0, next: 0, sizes, deferred };
  write(message as Msg, type, c);
  if (c.pos !== total) throw new Error(`sized encoder wrote ${c.pos} bytes of ${total}`);
  return c.buf;
}

/** The window a streamed encoding writes through (encodeSizedTo). */
export const STREAM_WINDOW_BYTES = 4 * 2 ** 20;

/** A streamed encoding: how many bytes went to the sink, and where each TensorProto's raw_data lies in them. */
export interface StreamedEncoding {
  bytes: number;
  placed: Map<object, RawPlacement>;
}

/**
 * The same bytes as encodeSized, handed to `sink` in order (`at`: their offset in the output) through
 * one window of `window` bytes instead of held whole: a run larger than the window (a weight's
 * raw_data) goes to the sink as it is, a deferred weight row by row. `sink` must be done with the
 * bytes when it returns (the window is reused). Records every TensorProto's raw_data placement.
 */
export function encodeSizedTo(
  type: protobuf.Type,
  message: object,
  sink: (bytes: Uint8Array, at: number) => void,
  deferred?: DeferredTensors,
  window = STREAM_WINDOW_BYTES,
): StreamedEncoding {
  const sizes: number[] = [];
  const total = measure(message as Msg, type, sizes, deferred);
  const stream: Stream = { sink, base: 0, placed: new Map() };
  const c: Cursor = { buf: new Uint8Array(Math.max(window, 2 * SMALL)), pos: 0, next: 0, sizes, deferred, stream };
  write(message as Msg, type, c);
  flush(c);
  if (stream.base !== total) throw new Error(`streamed encoder wrote ${stream.base} bytes of ${total}`);
  return { bytes: total, placed: stream.placed };
}
