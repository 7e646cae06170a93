/**
 * An ONNX file opened without a second copy of its weights: `externalView(bytes)` decodes the file
 * (raw_data fields are views of `bytes`) and re-encodes it as a skeleton whose large initializers
 * are external data pointing at their own offsets inside `bytes`, mounted under one file name.
 * onnxruntime-web then copies each tensor from the file straight into its buffer in the wasm heap,
 * instead of copying the whole model into the heap, parsing it (another copy) and then creating the
 * tensors. The graph, the names and every weight byte are the written file's own.
 */
import type { DeferredTensors, RawPlacement } from './encode';
import { decodeModel, encodeModel } from './proto';
import type { ModelProto, TensorProto } from './types';

/** The file name the skeleton's external data refers to. */
export const EXTERNAL_VIEW_PATH = 'model.onnx.data';

/** Initializers at least this large go external. */
const MIN_EXTERNAL_BYTES = 1024;

export interface ExternalView {
  /** The model with its large initializers as external data (small). */
  skeleton: Uint8Array;
  /** The files to mount: the written bytes themselves (no copy); `offset`: where `data` starts in them. */
  externalData: { path: string; data: Uint8Array; offset: number }[];
  /** How many initializers point into the file. */
  external: number;
}

/**
 * `perTensor`: each large initializer is its own mounted file (`${EXTERNAL_VIEW_PATH}.<k>`, offset 0),
 * so a runner can be handed each tensor's bytes on their own (e.g. read from storage).
 */
export function externalView(bytes: Uint8Array, options: { perTensor?: boolean } = {}): ExternalView {
  const model = decodeModel(bytes);
  const perTensor: ExternalView['externalData'] = [];
  let external = 0;
  const initializer = (model.graph.initializer ?? []).map((t): TensorProto => {
    const raw = t.raw_data;
    if (!raw || raw.byteLength < MIN_EXTERNAL_BYTES || raw.buffer !== bytes.buffer) return t;
    const offset = raw.byteOffset - bytes.byteOffset;
    if (offset < 0 || offset + raw.byteLength > bytes.byteLength) return t;
    external++;
    const { raw_data: _r, ...rest } = t;
    const path = options.perTensor ? `${EXTERNAL_VIEW_PATH}.${external}` : EXTERNAL_VIEW_PATH;
    if (options.perTensor) perTensor.push({ path, data: raw, offset });
    return {
      ...rest,
      data_location: 1,
      external_data: [
        { key: 'location', value: path },
        { key: 'offset', value: String(options.perTensor ? 0 : offset) },
        { key: 'length', value: String(raw.byteLength) },
      ],
    };
  });
  const skeleton = encodeModel({ ...model, graph: { ...model.graph, initializer } });
  const externalData = options.perTensor ? perTensor : [{ path: EXTERNAL_VIEW_PATH, data: bytes, offset: 0 }];
  return { skeleton, externalData, external };
}

/** Where one external-data file of a placed view lies in the written bytes. */
export interface PlacedPart {
  path: string;
  offset: number;
  length: number;
}

/**
 * A model written elsewhere (io/onnx/proto.ts encodeModelTo, e.g. into browser storage) opened from
 * where its tensors lie: the skeleton has each initializer whose raw_data (or deferred recipe) was
 * placed and is at least MIN_EXTERNAL_BYTES as external data of its own file
 * (`${EXTERNAL_VIEW_PATH}.<k>`, offset 0), and `parts` say where each file's bytes lie in the
 * written output. Smaller initializers stay inline (a deferred one is computed again for the skeleton).
 */
export function placedView(
  model: ModelProto,
  placed: ReadonlyMap<object, RawPlacement>,
  deferred?: DeferredTensors,
): { skeleton: Uint8Array; parts: PlacedPart[] } {
  const parts: PlacedPart[] = [];
  const initializer = (model.graph.initializer ?? []).map((t): TensorProto => {
    const where = placed.get(t);
    if (!where || where.length < MIN_EXTERNAL_BYTES) return t;
    const path = `${EXTERNAL_VIEW_PATH}.${parts.length + 1}`;
    parts.push({ path, offset: where.offset, length: where.length });
    const { raw_data: _r, ...rest } = t;
    return {
      ...rest,
      data_location: 1,
      external_data: [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(where.length) },
      ],
    };
  });
  const skeleton = encodeModel({ ...model, graph: { ...model.graph, initializer } }, deferred);
  return { skeleton, parts };
}
