/**
 * Initializer payloads -> float32 / int64 values: raw_data or the typed fields (float_data,
 * int32_data for FLOAT16 / BFLOAT16 bit patterns, double_data, int64_data), FLOAT / FLOAT16 /
 * BFLOAT16 / DOUBLE / INT64 / INT32 / BOOL, and external data (location + offset + length) read
 * through the model's FileSource. External paths are confined to the model's folder.
 */
import { OnnxFormatError } from '../../core/errors';
import { toFloat32, type Dtype } from '../safetensors-dtype';
import { DataType, type TensorProto } from '../onnx/types';
import { normalizeRelativePath } from '../blob-source';

/** External data files (relative to the folder of the .onnx file), read beforehand (see externalFiles). */
export type ExternalReader = (relativePath: string) => Uint8Array;

/** The distinct external data files the initializers refer to (validated paths). */
export function externalFiles(tensors: readonly TensorProto[]): string[] {
  return [...new Set(tensors.filter((t) => t.data_location === 1).map((t) => externalLocation(t).path))];
}

const FLOAT_DTYPES: Record<number, Dtype> = {
  [DataType.FLOAT]: 'F32',
  [DataType.FLOAT16]: 'F16',
  [DataType.BFLOAT16]: 'BF16',
  [DataType.DOUBLE]: 'F64',
};
const BYTES: Record<number, number> = { 1: 4, 10: 2, 16: 2, 11: 8, 7: 8, 6: 4, 9: 1, 2: 1, 3: 1 };
const UINT8 = 2;
const INT8 = 3;

export function elementCount(t: TensorProto): number {
  return (t.dims ?? []).reduce((a, b) => a * b, 1);
}

export function isFloatTensor(t: TensorProto): boolean {
  return FLOAT_DTYPES[t.data_type ?? 0] !== undefined;
}

/** The external-data location of a tensor, validated: inside the model folder. */
export function externalLocation(t: TensorProto): { path: string; offset: number; length: number | undefined } {
  const kv = new Map((t.external_data ?? []).map((e) => [e.key, e.value]));
  const location = kv.get('location') ?? '';
  if (/^[a-z][a-z0-9+.-]*:/i.test(location) || location.startsWith('/') || location.startsWith('\\')) {
    throw new OnnxFormatError(
      `Tensor "${t.name ?? ''}" keeps its data at "${location}", which leaves the model folder.`,
      'External data must sit next to the .onnx file.',
    );
  }
  let path: string;
  try {
    path = normalizeRelativePath(location);
  } catch {
    throw new OnnxFormatError(
      `Tensor "${t.name ?? ''}" keeps its data at "${location}", which leaves the model folder.`,
      'External data must sit next to the .onnx file.',
    );
  }
  const offset = Number(kv.get('offset') ?? 0);
  const length = kv.has('length') ? Number(kv.get('length')) : undefined;
  if (!path || !Number.isSafeInteger(offset) || offset < 0 || (length !== undefined && (!Number.isSafeInteger(length) || length < 0))) {
    throw new OnnxFormatError(
      `Tensor "${t.name ?? ''}" has invalid external data (location "${location}", offset ${kv.get('offset')}, length ${kv.get('length')}).`,
    );
  }
  return { path, offset, length };
}

/** The payload bytes of a tensor in little-endian storage order (raw_data or external), or undefined for typed fields. */
function payload(t: TensorProto, readExternal: ExternalReader | undefined): Uint8Array | undefined {
  const need = elementCount(t) * (BYTES[t.data_type ?? 0] ?? 0);
  if (t.data_location === 1) {
    const loc = externalLocation(t);
    if (!readExternal)
      throw new OnnxFormatError(`Tensor "${t.name ?? ''}" uses external data (${loc.path}), but no folder was given to read it from.`);
    const file = readExternal(loc.path);
    const length = loc.length ?? need;
    if (loc.offset + length > file.length) {
      throw new OnnxFormatError(
        `External data of tensor "${t.name ?? ''}" (bytes ${loc.offset}..${loc.offset + length}) runs past the end of ${loc.path} (${file.length} bytes).`,
      );
    }
    if (length !== need) {
      throw new OnnxFormatError(
        `External data of tensor "${t.name ?? ''}" is ${length} bytes, but its dims [${(t.dims ?? []).join(', ')}] need ${need}.`,
      );
    }
    return file.subarray(loc.offset, loc.offset + length);
  }
  if (t.raw_data && t.raw_data.byteLength > 0) {
    if (t.raw_data.byteLength !== need) {
      throw new OnnxFormatError(`Tensor "${t.name ?? ''}" has ${t.raw_data.byteLength} bytes of raw_data; its dims need ${need}.`);
    }
    return t.raw_data;
  }
  return undefined;
}

export function readFloats(t: TensorProto, readExternal?: ExternalReader): Float32Array {
  const dtype = FLOAT_DTYPES[t.data_type ?? 0];
  if (!dtype) throw new OnnxFormatError(`Tensor "${t.name ?? ''}" has data type ${t.data_type}, not a float type.`);
  const n = elementCount(t);
  const bytes = payload(t, readExternal);
  if (bytes) return toFloat32(dtype, bytes, n);
  let out: Float32Array;
  if (dtype === 'F32') out = Float32Array.from(t.float_data ?? []);
  else if (dtype === 'F64') out = Float32Array.from(t.double_data ?? []);
  else {
    const bits = Uint16Array.from(t.int32_data ?? []);
    out = toFloat32(dtype, new Uint8Array(bits.buffer), bits.length);
  }
  if (out.length !== n) throw new OnnxFormatError(`Tensor "${t.name ?? ''}" holds ${out.length} values; its dims need ${n}.`);
  return out;
}

export function readInts(t: TensorProto, readExternal?: ExternalReader): number[] {
  const type = t.data_type ?? 0;
  const bytes = payload(t, readExternal);
  if (type === DataType.INT64) {
    if (!bytes) return (t.int64_data ?? []).map(Number);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.byteLength / 8 }, (_, i) => Number(v.getBigInt64(i * 8, true)));
  }
  if (type === DataType.INT32) {
    if (!bytes) return [...(t.int32_data ?? [])];
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Array.from({ length: bytes.byteLength / 4 }, (_, i) => v.getInt32(i * 4, true));
  }
  if (isFloatTensor(t)) return Array.from(readFloats(t, readExternal));
  throw new OnnxFormatError(`Tensor "${t.name ?? ''}" has data type ${type}, which is not numeric.`);
}

/** The bytes of a UINT8 / INT8 tensor (quantized weights), in storage order. */
export function readBytes(t: TensorProto, readExternal?: ExternalReader): Uint8Array {
  const type = t.data_type ?? 0;
  if (type !== UINT8 && type !== INT8) throw new OnnxFormatError(`Tensor "${t.name ?? ''}" has data type ${type}, not uint8 / int8.`);
  const bytes = payload(t, readExternal);
  if (bytes) return bytes;
  const out = Uint8Array.from(t.int32_data ?? [], (v) => v & 0xff);
  if (out.length !== elementCount(t))
    throw new OnnxFormatError(`Tensor "${t.name ?? ''}" holds ${out.length} values; its dims need ${elementCount(t)}.`);
  return out;
}

/** Signed (INT8) or unsigned (UINT8) integer values of a quantized tensor. */
export function readQuantInts(t: TensorProto, readExternal?: ExternalReader): Int16Array {
  const b = readBytes(t, readExternal);
  return t.data_type === INT8 ? Int16Array.from(new Int8Array(b.buffer, b.byteOffset, b.byteLength)) : Int16Array.from(b);
}
