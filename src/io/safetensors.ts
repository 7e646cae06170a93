/**
 * safetensors read/write (https://github.com/huggingface/safetensors), validated exactly like the
 * reference `SafeTensors::deserialize`: u64 LE header length (<= 100 MB, inside the file), UTF-8
 * JSON object header, known dtypes, offsets contiguous from 0 and sized shape x dtype (overflow-
 * safe), no trailing bytes, `__metadata__` a string map. Every failure is a SafetensorsError that
 * names the tensor and the problem. Weights are copied out to aligned float32 arrays.
 */
import { SafetensorsError } from '../core/errors';
import { tensor, type Tensor } from '../core/tensor';
import { adoptFloat32, DTYPE_BITS, FLOAT_DTYPES, float32Bytes, isDtype, toFloat32, type Dtype } from './safetensors-dtype';

export type { Dtype } from './safetensors-dtype';

/** The reference's MAX_HEADER_SIZE. */
export const MAX_HEADER_SIZE = 100_000_000;
const METADATA_KEY = '__metadata__';
const U64_MAX = (1n << 64n) - 1n;

export interface TensorInfo {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** [begin, end) in bytes, relative to the start of the data buffer (after the header). */
  readonly offsets: readonly [number, number];
}

export interface SafetensorsFile {
  /** Tensor entries by name, in file order (sorted by offset). */
  readonly header: ReadonlyMap<string, TensorInfo>;
  /** The `__metadata__` map ({} when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Byte length N of the JSON header (data starts at 8 + N). */
  readonly headerLength: number;
  /** A float tensor (F32, F16, BF16, F64) converted to a fresh float32 Tensor. */
  getFloat32(name: string): Tensor;
}

interface Entry {
  name: string;
  info: TensorInfo;
}

export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { header, metadata, headerLength } = parseSafetensorsHeader(bytes, bytes.length);
  const data = bytes.subarray(8 + headerLength);
  return {
    header,
    metadata,
    headerLength,
    getFloat32(name) {
      const info = floatInfo(header, name);
      const [begin, end] = info.offsets;
      return tensorFromBytes(info, data.subarray(begin, end));
    },
  };
}

/** The header of a safetensors file, validated against the file's size: `start` holds at least its first 8 + N bytes. */
export function parseSafetensorsHeader(start: Uint8Array, fileSize: number): Pick<SafetensorsFile, 'header' | 'metadata' | 'headerLength'> {
  const headerLength = readHeaderLength(start, fileSize);
  if (8 + headerLength > start.length) throw new RangeError(`parseSafetensorsHeader: pass the first ${8 + headerLength} bytes`);
  const json = decodeHeader(start.subarray(8, 8 + headerLength));
  const metadata = readMetadata(json[METADATA_KEY]);
  const entries = Object.entries(json)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, value]): Entry => ({ name, info: readTensorInfo(name, value) }));
  entries.sort((a, b) => a.info.offsets[0] - b.info.offsets[0] || a.info.offsets[1] - b.info.offsets[1]);
  checkLayout(entries, fileSize - 8 - headerLength);
  return { header: new Map(entries.map((e) => [e.name, e.info])), metadata, headerLength };
}

/** The entry of a float tensor; a missing or non-float one is a SafetensorsError. */
export function floatInfo(header: ReadonlyMap<string, TensorInfo>, name: string): TensorInfo {
  const info = header.get(name);
  if (!info) throw new SafetensorsError(`There is no tensor "${name}" in this file.`);
  if (!FLOAT_DTYPES.includes(info.dtype)) {
    throw new SafetensorsError(
      `Tensor "${name}" has dtype ${info.dtype}; only ${FLOAT_DTYPES.join(', ')} can be loaded as weights.`,
      'Convert the checkpoint to float32, float16 or bfloat16 (quantized checkpoints are not supported).',
    );
  }
  return info;
}

/** A tensor's bytes (exactly its data_offsets range) as a fresh float32 Tensor. */
export function tensorFromBytes(info: TensorInfo, bytes: Uint8Array): Tensor {
  return tensor(info.shape, toFloat32(info.dtype, bytes, elementCount(info.shape)));
}

/** tensorFromBytes of bytes the caller hands over (a fresh ranged read): F32 values are adopted, not copied (adoptFloat32). */
export function tensorFromOwnedBytes(info: TensorInfo, bytes: Uint8Array): Tensor {
  const count = elementCount(info.shape);
  return tensor(info.shape, adoptFloat32(info.dtype, bytes, count) ?? toFloat32(info.dtype, bytes, count));
}

/** N, the header's byte length, from a file's first 8 bytes, checked against the limit and the file's size. */
export function readHeaderLength(bytes: Uint8Array, fileSize: number): number {
  if (bytes.length < 8) {
    throw new SafetensorsError(`File is too short: ${bytes.length} bytes, but a safetensors file starts with an 8-byte header length.`);
  }
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_SIZE)) {
    throw new SafetensorsError(`Header length ${n} is too large (the limit is ${MAX_HEADER_SIZE} bytes).`);
  }
  const len = Number(n);
  if (8 + len > fileSize) {
    throw new SafetensorsError(
      `Header length ${len} runs past the end of the file (${fileSize} bytes): the file is truncated or not safetensors.`,
    );
  }
  return len;
}

function decodeHeader(raw: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new SafetensorsError('Header is not valid UTF-8.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`Header is not valid JSON: ${(e as Error).message}`);
  }
  if (!isObject(json)) {
    throw new SafetensorsError(`Header must be a JSON object mapping tensor names to entries, got ${describe(json)}.`);
  }
  checkIntegerLiterals(text);
  return json;
}

/**
 * The reference reader parses shapes and offsets as usize, so `[768.0]` or `[7.68e2]` is an error
 * there; JSON.parse turns them into 768, so the raw text is checked.
 */
function checkIntegerLiterals(text: string): void {
  for (const m of text.matchAll(/"(shape|data_offsets)"\s*:\s*\[([^\]]*)\]/g)) {
    const body = m[2]!.trim();
    if (body === '') continue;
    for (const entry of body.split(',')) {
      // Entries that are not integers at all (1.5, -1) get readTensorInfo's message; here only 768.0 / 7.68e2.
      if (Number.isInteger(Number(entry)) && Number(entry) >= 0 && !/^\s*(0|[1-9]\d*)\s*$/.test(entry))
        throw new SafetensorsError(
          `Header: "${m[1]}" entry ${entry.trim()} is not written as a non-negative integer (the reference reader refuses it).`,
        );
    }
  }
}

function readMetadata(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw new SafetensorsError(`${METADATA_KEY} must be an object of strings, got ${describe(value)}.`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string')
      throw new SafetensorsError(`${METADATA_KEY} must map strings to strings, but key "${k}" has ${describe(v)}.`);
  }
  return Object.fromEntries(Object.entries(value as Record<string, string>));
}

function readTensorInfo(name: string, value: unknown): TensorInfo {
  const where = `Tensor "${name}"`;
  if (!isObject(value)) throw new SafetensorsError(`${where}: the entry must be an object, got ${describe(value)}.`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (dtype === undefined) throw new SafetensorsError(`${where}: missing "dtype".`);
  if (typeof dtype !== 'string' || !isDtype(dtype)) {
    throw new SafetensorsError(`${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BITS).join(', ')}).`);
  }
  if (shape === undefined) throw new SafetensorsError(`${where}: missing "shape".`);
  if (!Array.isArray(shape)) throw new SafetensorsError(`${where}: "shape" must be an array, got ${describe(shape)}.`);
  shape.forEach((d, i) => {
    if (!isIndex(d)) throw new SafetensorsError(`${where}: shape[${i}] = ${JSON.stringify(d)} is not a non-negative integer.`);
  });
  if (offsets === undefined) throw new SafetensorsError(`${where}: missing "data_offsets".`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new SafetensorsError(`${where}: "data_offsets" must be [begin, end] with non-negative integers, got ${JSON.stringify(offsets)}.`);
  }
  return { dtype, shape: shape as number[], offsets: [offsets[0] as number, offsets[1] as number] };
}

/** The reference's `Metadata::validate` plus its final buffer-length check. */
function checkLayout(entries: readonly Entry[], dataLength: number): void {
  let end = 0;
  let previous: string | undefined;
  for (const { name, info } of entries) {
    const [b, e] = info.offsets;
    const where = `Tensor "${name}"`;
    if (e < b) throw new SafetensorsError(`${where}: data_offsets end ${e} is before begin ${b}.`);
    if (b > end) {
      throw new SafetensorsError(
        `${where}: data_offsets [${b}, ${e}] leave a gap: ${previous ? `"${previous}" ends` : 'the data starts'} at byte ${end}.`,
      );
    }
    if (b < end) throw new SafetensorsError(`${where}: data_offsets [${b}, ${e}] overlap "${previous ?? ''}", which ends at byte ${end}.`);
    end = e;
    previous = name;
    const expected = byteSize(name, info);
    if (BigInt(e - b) !== expected) {
      throw new SafetensorsError(
        `${where}: data_offsets span ${e - b} bytes, but shape [${info.shape.join(', ')}] of ${info.dtype} needs ${expected} bytes.`,
      );
    }
  }
  if (end > dataLength) {
    throw new SafetensorsError(
      `Tensor data runs past the end of the file: "${previous ?? ''}" ends at byte ${end} of a ${dataLength}-byte data buffer.`,
    );
  }
  if (end < dataLength) {
    throw new SafetensorsError(
      `${dataLength - end} trailing bytes after the last tensor: the data buffer is ${dataLength} bytes, the tensors cover ${end}.`,
    );
  }
}

/** shape x dtype size in bytes, with the reference's u64 overflow and whole-byte checks. */
function byteSize(name: string, info: TensorInfo): bigint {
  let elements = 1n;
  for (const d of info.shape) {
    elements *= BigInt(d);
    if (elements > U64_MAX)
      throw new SafetensorsError(`Tensor "${name}": shape [${info.shape.join(', ')}] overflows a 64-bit element count.`);
  }
  const bits = elements * BigInt(DTYPE_BITS[info.dtype]);
  if (bits > U64_MAX)
    throw new SafetensorsError(`Tensor "${name}": shape [${info.shape.join(', ')}] of ${info.dtype} overflows a 64-bit size.`);
  if (bits % 8n !== 0n) throw new SafetensorsError(`Tensor "${name}": ${elements} elements of ${info.dtype} do not fill whole bytes.`);
  return bits / 8n;
}

/** Dtypes the writer encodes float32 values into (BF16: round to nearest even, as torch does). */
export type WriteDtype = 'F32' | 'BF16';

export interface WriteEntry {
  readonly name: string;
  readonly dtype: WriteDtype;
  readonly shape: readonly number[];
}

export interface SafetensorsLayout {
  /** The first bytes of the file: u64 LE header length + the JSON header padded to a multiple of 8. */
  readonly header: Uint8Array;
  /** Entries in file order (sorted by name), offsets [begin, end) relative to the data start. */
  readonly entries: readonly (WriteEntry & { readonly offsets: readonly [number, number] })[];
  /** Size of the whole file in bytes. */
  readonly fileBytes: number;
}

/**
 * The reference `serialize` layout without the data: tensors sorted by name, header JSON padded
 * with spaces to a multiple of 8 bytes so that every tensor's data is 8-byte aligned. Writing the
 * header and then each entry's `encodeFloats` bytes in `entries` order gives the whole file, so
 * large checkpoints can be streamed tensor by tensor (or chunk by chunk).
 */
export function safetensorsLayout(tensors: readonly WriteEntry[], metadata?: Readonly<Record<string, string>>): SafetensorsLayout {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header[METADATA_KEY] = Object.fromEntries(Object.entries(metadata).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  let offset = 0;
  const entries = sorted.map((t) => {
    if (t.name === METADATA_KEY) throw new SafetensorsError(`"${METADATA_KEY}" is reserved and cannot name a tensor.`);
    if (Object.hasOwn(header, t.name)) throw new SafetensorsError(`Cannot write tensor "${t.name}" twice.`);
    if (!t.shape.every((n) => isIndex(n)))
      throw new SafetensorsError(`Cannot write tensor "${t.name}": shape [${t.shape.join(', ')}] is invalid.`);
    const bytes = elementCount(t.shape) * (DTYPE_BITS[t.dtype] / 8);
    const offsets = [offset, offset + bytes] as const;
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [...offsets] };
    offset += bytes;
    return { ...t, offsets };
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length);
  return { header: out, entries, fileBytes: 8 + padded + offset };
}

/**
 * float32 -> bfloat16 bit pattern, rounded to nearest even like torch (c10::BFloat16
 * round_to_nearest_even): NaN becomes the quiet NaN 0x7FC0, overflow rounds to infinity.
 */
export function float32ToBf16Bits(bits32: number): number {
  if ((bits32 & 0x7fffffff) >>> 0 > 0x7f800000) return 0x7fc0;
  const lsb = (bits32 >>> 16) & 1;
  return ((bits32 >>> 0) + 0x7fff + lsb) >>> 16;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** float32 values -> little-endian bytes of `dtype` (a fresh array). */
export function encodeFloats(dtype: WriteDtype, data: Float32Array): Uint8Array {
  if (dtype === 'F32') return float32Bytes(data);
  // Uint32Array shares the platform's byte order with Float32Array: the float's bits, endian-safe.
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint8Array(data.length * 2);
  if (LE) {
    const half = new Uint16Array(out.buffer);
    for (let i = 0; i < bits.length; i++) half[i] = float32ToBf16Bits(bits[i]!);
  } else {
    const view = new DataView(out.buffer);
    for (let i = 0; i < bits.length; i++) view.setUint16(i * 2, float32ToBf16Bits(bits[i]!), true);
  }
  return out;
}

/**
 * Serialises float32 tensors like the reference `serialize` (see safetensorsLayout), stored as
 * `dtype` (default F32).
 */
export function writeSafetensors(
  tensors: Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
  dtype: WriteDtype = 'F32',
): Uint8Array {
  for (const [name, t] of Object.entries(tensors)) {
    if (!t.shape.every(isIndex) || elementCount(t.shape) !== t.data.length) {
      throw new SafetensorsError(
        `Cannot write tensor "${name}": shape [${t.shape.join(', ')}] does not match its ${t.data.length} values.`,
      );
    }
  }
  const layout = safetensorsLayout(
    Object.entries(tensors).map(([name, t]) => ({ name, dtype, shape: t.shape })),
    metadata,
  );
  const out = new Uint8Array(layout.fileBytes);
  out.set(layout.header, 0);
  let at = layout.header.length;
  for (const e of layout.entries) {
    const bytes = encodeFloats(dtype, tensors[e.name]!.data);
    out.set(bytes, at);
    at += bytes.length;
  }
  return out;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : `a ${typeof v}`;
}
