/**
 * TensorProto <-> typed arrays. Float and int64 payloads travel in raw_data as little-endian
 * bytes (the ONNX convention), which is also the fastest path for onnxruntime to load.
 */
import { OnnxFormatError } from '../../core/errors';
import { DataType, type TensorProto } from './types';

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function littleEndianBytes(data: Float32Array | BigInt64Array | Int32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const out = new Uint8Array(data.byteLength);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i]!, true);
    else if (data instanceof Int32Array) view.setInt32(i * 4, data[i]!, true);
    else view.setBigInt64(i * 8, data[i]!, true);
  }
  return out;
}

export function floatTensorProto(name: string, data: Float32Array, dims: readonly number[]): TensorProto {
  return { name, dims: [...dims], data_type: DataType.FLOAT, raw_data: littleEndianBytes(data) };
}

export function int64TensorProto(name: string, values: ArrayLike<number> | BigInt64Array, dims: readonly number[]): TensorProto {
  const data = values instanceof BigInt64Array ? values : BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { name, dims: [...dims], data_type: DataType.INT64, raw_data: littleEndianBytes(data) };
}

export function boolTensorProto(name: string, values: readonly boolean[], dims: readonly number[]): TensorProto {
  return { name, dims: [...dims], data_type: DataType.BOOL, raw_data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
}

function elementCount(t: TensorProto): number {
  return (t.dims ?? []).reduce((a, b) => a * b, 1);
}

function rawView(t: TensorProto, bytesPer: number): DataView | undefined {
  const raw = t.raw_data;
  if (!raw || raw.byteLength === 0) return undefined;
  if (raw.byteLength !== elementCount(t) * bytesPer) {
    throw new OnnxFormatError(
      `Tensor "${t.name ?? ''}" has ${raw.byteLength} bytes of raw_data; its dims need ${elementCount(t) * bytesPer}.`,
    );
  }
  return new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
}

/** Reads a FLOAT tensor (raw_data or float_data) into a new Float32Array. */
export function readFloatTensor(t: TensorProto): Float32Array {
  if (t.data_type !== DataType.FLOAT) throw new OnnxFormatError(`Tensor "${t.name ?? ''}" is data type ${t.data_type}, not FLOAT.`);
  const view = rawView(t, 4);
  if (!view) return Float32Array.from(t.float_data ?? []);
  const out = new Float32Array(view.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** Reads an INT64 tensor (raw_data or int64_data) as JS numbers. */
export function readInt64Tensor(t: TensorProto): number[] {
  if (t.data_type !== DataType.INT64) throw new OnnxFormatError(`Tensor "${t.name ?? ''}" is data type ${t.data_type}, not INT64.`);
  const view = rawView(t, 8);
  if (!view) return [...(t.int64_data ?? [])];
  return Array.from({ length: view.byteLength / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
}
