/**
 * ONNX protobuf encode/decode through protobufjs (light build) and the committed JSON descriptor
 * onnx-proto.json (generated from Debian python3-onnx's onnx.proto by tools/onnx/gen-proto-json.mjs).
 * Encoding goes through the sized encoder (io/onnx/encode.ts: one buffer of the output's size);
 * protobufjs's own encoder stays as the reference it is tested against.
 * Pure: no Node or DOM APIs. Decoding failures throw OnnxFormatError.
 */
import protobuf from 'protobufjs/light.js';
import { OnnxFormatError } from '../../core/errors';
import descriptor from './onnx-proto.json';
import { encodeSized, encodeSizedTo, type DeferredTensors, type StreamedEncoding } from './encode';
import type { ModelProto } from './types';

let modelType: protobuf.Type | undefined;

function ModelType(): protobuf.Type {
  if (!modelType) modelType = protobuf.Root.fromJSON(descriptor as protobuf.INamespace).lookupType('onnx.ModelProto');
  return modelType;
}

function verified(model: ModelProto): protobuf.Type {
  const T = ModelType();
  const problem = T.verify(model);
  if (problem)
    throw new OnnxFormatError(`Cannot encode the ONNX model: ${problem}.`, 'This is a bug in the graph builder; please report it.');
  return T;
}

/**
 * Serialises a ModelProto to ONNX bytes: one Uint8Array of exactly the output's size, raw_data
 * copied once into it; `deferred` weights (OnnxGraphBuilder.deferredWeights) are computed into it.
 */
export function encodeModel(model: ModelProto, deferred?: DeferredTensors): Uint8Array {
  return encodeSized(verified(model), model, deferred);
}

/**
 * The bytes of encodeModel handed to `sink` in order through a small window (io/onnx/encode.ts
 * encodeSizedTo), never held whole; says where each TensorProto's raw_data lies in them.
 */
export function encodeModelTo(
  model: ModelProto,
  sink: (bytes: Uint8Array, at: number) => void,
  deferred?: DeferredTensors,
  window?: number,
): StreamedEncoding {
  return encodeSizedTo(verified(model), model, sink, deferred, window);
}

/** The same bytes through protobufjs's Writer (about 3.4x the output at its peak): the reference of encode.test.ts. */
export function encodeModelProtobufjs(model: ModelProto): Uint8Array {
  const bytes = verified(model).encode(model).finish();
  // protobufjs may return a Node Buffer; hand out a plain Uint8Array view.
  return bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Parses ONNX bytes into a ModelProto (int64 fields as numbers, bytes as Uint8Array, repeated fields as arrays). */
export function decodeModel(bytes: Uint8Array): ModelProto {
  const T = ModelType();
  let message: protobuf.Message;
  try {
    message = T.decode(bytes);
  } catch (e) {
    throw new OnnxFormatError(`Not a valid ONNX file: ${(e as Error).message}.`);
  }
  const obj = T.toObject(message, { longs: Number, arrays: true, defaults: false }) as Partial<ModelProto>;
  if (!obj.graph || typeof obj.ir_version !== 'number' || obj.ir_version <= 0) {
    throw new OnnxFormatError('Not a valid ONNX file: no graph or IR version found.');
  }
  const g = obj.graph;
  g.node ??= [];
  g.input ??= [];
  g.output ??= [];
  return { ...obj, opset_import: obj.opset_import ?? [], graph: g } as ModelProto;
}
