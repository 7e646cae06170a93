/**
 * safetensors read/write, validating like the reference implementation (huggingface/safetensors
 * `SafeTensors::deserialize` + `validate`): 8-byte LE header length within the file and a cap,
 * a UTF-8 JSON object header, known dtypes, non-negative integer shapes, offsets contiguous from
 * 0 with no gaps or overlaps, each span = shape x dtype size (overflow-safe), no trailing bytes.
 * F16 / BF16 / F64 weights are converted to float32 on read.
 */
import { SafetensorsError } from '../core/errors';
import { tensor, type Tensor } from '../core/tensor';

export const MAX_HEADER_BYTES = 100_000_000;

export const DTYPE_SIZES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

export interface TensorInfo {
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafetensorsFile {
  tensors: Map<string, TensorInfo>;
  metadata: Record<string, string>;
  /** Reads a tensor as float32 (F32, F16, BF16, F64). */
  getFloat32(name: string): Tensor;
}

function fail(msg: string): never {
  throw new SafetensorsError(msg);
}

function parseHeader(bytes: Uint8Array): { header: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fail(`File is ${bytes.length} bytes; a safetensors file starts with an 8-byte header length.`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`Header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte cap.`);
  const len = Number(n);
  if (8 + len > bytes.length) fail(`Header length ${len} runs past the end of the ${bytes.length}-byte file (truncated?).`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + len));
  } catch {
    fail('Header is not valid UTF-8.');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`Header is not valid JSON: ${(e as Error).message}`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('Header JSON must be an object of tensor entries.');
  return { header: header as Record<string, unknown>, dataStart: 8 + len };
}

function parseEntry(name: string, raw: unknown, dataStart: number, dataLength: number): TensorInfo {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== 'object') fail(`Tensor "${name}": entry must be an object.`);
  if (typeof e.dtype !== 'string') fail(`Tensor "${name}": missing dtype.`);
  const size = DTYPE_SIZES[e.dtype];
  if (!size) fail(`Tensor "${name}": unknown dtype "${e.dtype}".`);
  if (!Array.isArray(e.shape)) fail(`Tensor "${name}": missing shape.`);
  for (const d of e.shape) if (!Number.isSafeInteger(d) || d < 0) fail(`Tensor "${name}": shape entry ${JSON.stringify(d)} is not a non-negative integer.`);
  if (!Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) fail(`Tensor "${name}": missing data_offsets [begin, end].`);
  const [b, en] = e.data_offsets as unknown[];
  if (!Number.isSafeInteger(b) || !Number.isSafeInteger(en) || (b as number) < 0) fail(`Tensor "${name}": data_offsets must be non-negative integers.`);
  const begin = b as number;
  const end = en as number;
  if (end < begin) fail(`Tensor "${name}": data_offsets end ${end} is before begin ${begin}.`);
  if (end > dataLength) fail(`Tensor "${name}": data_offsets end ${end} is beyond the ${dataLength}-byte data section.`);
  const expected = (e.shape as number[]).reduce((acc, d) => acc * BigInt(d), BigInt(size));
  if (expected !== BigInt(end - begin)) {
    fail(`Tensor "${name}": ${end - begin} bytes stored but shape [${(e.shape as number[]).join(', ')}] x ${e.dtype} needs ${expected}.`);
  }
  return { dtype: e.dtype, shape: [...(e.shape as number[])], begin: dataStart + begin, end: dataStart + end };
}

export function parseSafetensors(bytes: Uint8Array): SafetensorsFile {
  const { header, dataStart } = parseHeader(bytes);
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorInfo>();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw) || Object.values(raw).some((v) => typeof v !== 'string')) {
        fail('__metadata__ must map strings to strings.');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(name, raw, dataStart, dataLength));
  }
  const ordered = [...tensors.entries()].sort((a, b) => a[1].begin - b[1].begin || a[1].end - b[1].end);
  let cursor = dataStart;
  for (const [name, info] of ordered) {
    if (info.begin < cursor) fail(`Tensor "${name}" overlaps the previous tensor's data.`);
    if (info.begin > cursor) fail(`Gap of ${info.begin - cursor} bytes before tensor "${name}": offsets must be contiguous.`);
    cursor = info.end;
  }
  if (cursor !== bytes.length) fail(`${bytes.length - cursor} trailing bytes after the last tensor.`);
  return { tensors, metadata, getFloat32: (name) => readFloat32(bytes, name, tensors.get(name)) };
}

export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

function readFloat32(bytes: Uint8Array, name: string, info: TensorInfo | undefined): Tensor {
  if (!info) throw new SafetensorsError(`Tensor "${name}" is not in the file.`);
  const n = info.shape.reduce((a, b) => a * b, 1);
  const view = new DataView(bytes.buffer, bytes.byteOffset + info.begin, info.end - info.begin);
  const out = new Float32Array(n);
  switch (info.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      break;
    case 'BF16': {
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    default:
      throw new SafetensorsError(`Tensor "${name}" has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64.`);
  }
  return tensor(info.shape, out);
}

/** Writes F32 tensors (sorted by name), header padded with spaces to a multiple of 8 bytes. */
export function writeSafetensors(tensors: Record<string, Tensor>, metadata?: Record<string, string>): Uint8Array {
  const names = Object.keys(tensors).sort();
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const name of names) {
    const t = tensors[name]!;
    header[name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + t.data.length * 4] };
    offset += t.data.length * 4;
  }
  if (metadata) header.__metadata__ = metadata;
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let at = 8 + hb.length;
  for (const name of names) {
    const d = tensors[name]!.data;
    for (let i = 0; i < d.length; i++) dv.setFloat32(at + i * 4, d[i]!, true);
    at += d.length * 4;
  }
  return out;
}
