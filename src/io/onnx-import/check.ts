/**
 * The ONNX checker's structural rules, in TypeScript (the importer runs in the browser, where
 * python onnx.checker is not available): supported IR / opset versions, every node input defined
 * before use (topological order, no dangling names), every value produced once, declared graph
 * outputs produced, node domains imported, initializer payloads sized by their dims. Then the
 * operator allow-list: only operators that exporters emit for these decoders are imported.
 */
import { OnnxFormatError, UnsupportedModelError } from '../../core/errors';
import { DataType, type GraphProto, type ModelProto, type TensorProto } from '../onnx/types';

const CHECKER_HINT = 'The file is damaged or was edited by hand; re-export it (it must pass onnx.checker.check_model).';

/** Operators of the default domain that exporters emit for gpt2 / llama decoders (incl. masks and rotary) and ViT classifiers. */
export const SUPPORTED_OPS = new Set([
  'Add',
  'And',
  'Cast',
  'CastLike',
  'Concat',
  'Constant',
  'ConstantOfShape',
  // ViT: the patch embedding (kernel = stride = patch; io/onnx-import/vision.ts), from torch.onnx.export of HF's ViT.
  'Conv',
  'Cos',
  'Div',
  'Dropout',
  'Equal',
  'Erf',
  'Expand',
  'Flatten',
  'Gather',
  'Gelu',
  'Gemm',
  'Greater',
  'GreaterOrEqual',
  'Identity',
  'IsInf',
  'IsNaN',
  'LayerNormalization',
  'Less',
  'LessOrEqual',
  'MatMul',
  'Max',
  'Min',
  'Mul',
  'Neg',
  'Not',
  'Or',
  'Pow',
  'Range',
  'Reciprocal',
  'ReduceMax',
  'ReduceMean',
  'ReduceSum',
  'Relu',
  'Reshape',
  'ScatterND',
  'Shape',
  'Sigmoid',
  'Sin',
  'Size',
  'Slice',
  'Softmax',
  'Split',
  'Sqrt',
  'Squeeze',
  'Sub',
  'Tanh',
  'Transpose',
  'Trilu',
  'Unsqueeze',
  'Where',
  'CumSum',
  'Tile',
  'Mod',
  'Floor',
  'Ceil',
  'Round',
  'Sign',
  'Abs',
  'Clip',
  'Exp',
  'Log',
]);

export const MIN_OPSET = 11;
export const MAX_OPSET = 23;

const ELEMENT_BYTES: Record<number, number> = {
  [DataType.FLOAT]: 4,
  [DataType.FLOAT16]: 2,
  [DataType.BFLOAT16]: 2,
  [DataType.DOUBLE]: 8,
  [DataType.INT64]: 8,
  [DataType.INT32]: 4,
  [DataType.BOOL]: 1,
};

function fail(message: string): never {
  throw new OnnxFormatError(`The ONNX model does not pass the ONNX checker: ${message}`, CHECKER_HINT);
}

export function defaultOpset(model: ModelProto): number {
  const entry = model.opset_import.find((o) => !o.domain || o.domain === 'ai.onnx');
  if (!entry) fail('it imports no opset for the default domain.');
  return entry.version;
}

export function checkModel(model: ModelProto): void {
  if (!(model.ir_version >= 3)) fail(`IR version ${model.ir_version} is not valid (3 or later).`);
  const opset = defaultOpset(model);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new UnsupportedModelError(
      `The ONNX model uses opset ${opset}; Prune Studio imports opsets ${MIN_OPSET} to ${MAX_OPSET}.`,
      'Re-export with opset 14 to 18.',
    );
  }
  const domains = new Set(model.opset_import.map((o) => o.domain ?? ''));
  checkGraph(model.graph, domains);
}

function checkGraph(g: GraphProto, domains: Set<string>): void {
  const defined = new Set<string>();
  const define = (name: string, what: string) => {
    if (!name) fail(`${what} has an empty name.`);
    if (defined.has(name)) fail(`"${name}" is defined twice (${what}); every value must have one producer.`);
    defined.add(name);
  };
  for (const t of g.initializer ?? []) {
    define(t.name ?? '', 'an initializer');
    checkInitializer(t);
  }
  for (const i of g.input) if (!defined.has(i.name)) define(i.name, 'a graph input');
  g.node.forEach((n, k) => {
    const label = `node ${k} "${n.name ?? ''}" (${n.op_type || '?'})`;
    if (!n.op_type) fail(`${label} has no op_type.`);
    const domain = n.domain ?? '';
    if (domain !== '' && domain !== 'ai.onnx' && !domains.has(domain))
      fail(`${label} uses domain "${domain}", which the model does not import.`);
    for (const i of n.input) {
      if (i !== '' && !defined.has(i)) fail(`${label} reads "${i}", which no graph input, initializer or earlier node defines.`);
    }
    for (const o of n.output) if (o !== '') define(o, label);
  });
  for (const o of g.output) if (!defined.has(o.name)) fail(`graph output "${o.name}" is not produced by any node.`);
}

function checkInitializer(t: TensorProto): void {
  const name = t.name ?? '';
  if (t.data_location === 1) {
    if (!t.external_data?.some((e) => e.key === 'location' && e.value))
      fail(`initializer "${name}" is stored externally but names no location.`);
    return;
  }
  const raw = t.raw_data;
  const per = ELEMENT_BYTES[t.data_type ?? 0];
  if (raw && raw.byteLength > 0 && per !== undefined) {
    const n = (t.dims ?? []).reduce((a, b) => a * b, 1);
    if (raw.byteLength !== n * per)
      fail(`initializer "${name}" has ${raw.byteLength} bytes of data, but its dims [${(t.dims ?? []).join(', ')}] need ${n * per}.`);
  }
}

/** Quantized-weight operators that io/onnx-import/dequantize.ts turns back into float32 (allowed before it runs). */
export const QUANTIZED_OPS: ReadonlySet<string> = new Set([
  'DequantizeLinear',
  'DynamicQuantizeLinear',
  'MatMulInteger',
  'com.microsoft.MatMulNBits',
]);

/**
 * Refuses operators outside SUPPORTED_OPS (or outside the default domain), listing each with a node
 * name; `also`: more operators allowed (domain-qualified for custom domains).
 */
export function checkSupportedOps(model: ModelProto, also: ReadonlySet<string> = new Set()): void {
  const bad = new Map<string, { count: number; example: string }>();
  for (const n of model.graph.node) {
    const domain = n.domain ?? '';
    const custom = domain !== '' && domain !== 'ai.onnx';
    const key = custom ? `${domain}.${n.op_type}` : n.op_type;
    if ((!custom && SUPPORTED_OPS.has(n.op_type)) || also.has(key)) continue;
    const entry = bad.get(key) ?? { count: 0, example: n.name ?? '' };
    entry.count++;
    bad.set(key, entry);
  }
  if (bad.size === 0) return;
  const list = [...bad].map(([op, e]) => `${op} (${e.count} node${e.count > 1 ? 's' : ''}, e.g. "${e.example}")`).join(', ');
  throw new UnsupportedModelError(
    `The ONNX model uses operators Prune Studio does not import: ${list}.`,
    'Fused or quantized graphs (onnxruntime transformer optimisations, com.microsoft ops) cannot be pruned; export the plain float model with optimum-cli export onnx (no -O level).',
  );
}
