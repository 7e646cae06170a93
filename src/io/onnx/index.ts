/** ONNX protobuf I/O: encode/decode (protobufjs + committed descriptor), TensorProto helpers and a graph builder. */
export { encodeModel, encodeModelTo, decodeModel } from './proto';
export type { RawPlacement, StreamedEncoding } from './encode';
export { materialize, type DeferredFloats } from './deferred';
export { OnnxGraphBuilder, attr, type AttrValue, type Dim, type ModelOptions, type NodeOptions } from './builder';
export { floatTensorProto, int64TensorProto, boolTensorProto, readFloatTensor, readInt64Tensor } from './tensor';
export * from './types';
