/**
 * A built ModelProto opened without encoding its weights: every large initializer becomes external
 * data in a file of its own whose bytes are the initializer's raw_data (a view of the IR's array,
 * not a copy). The runner copies each tensor once into its engine (SessionOptions.externalData), so
 * a graph with embedded weights (the with-past graph) costs one engine copy and no encoded model;
 * with the IR on SharedArrayBuffers (core/shared-weights.ts) the views reach an isolated runner
 * without a copy either.
 */
import { encodeModel, type ModelProto, type TensorProto } from '../io/onnx';

/** Initializers at least this large go external. */
const MIN_EXTERNAL_BYTES = 1024;

export interface ExternalWeights {
  /** The model with its large initializers as external data (small). */
  skeleton: Uint8Array;
  /** One file per external initializer: its raw_data view. */
  externalData: { path: string; data: Uint8Array }[];
}

export function externalWeights(model: ModelProto): ExternalWeights {
  const externalData: ExternalWeights['externalData'] = [];
  const initializer = (model.graph.initializer ?? []).map((t): TensorProto => {
    const raw = t.raw_data;
    if (!raw || raw.byteLength < MIN_EXTERNAL_BYTES) return t;
    const path = `weight-${externalData.length}.bin`;
    externalData.push({ path, data: raw });
    const { raw_data: _raw, ...rest } = t;
    return {
      ...rest,
      data_location: 1,
      external_data: [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(raw.byteLength) },
      ],
    };
  });
  return { skeleton: encodeModel({ ...model, graph: { ...model.graph, initializer } }), externalData };
}
