/**
 * Calibration Grams Σ x xᵀ of the inputs of the quantizable linears (GPTQ's Hessians), for any
 * graph: gram outputs are appended to a copy of the fp32 graph (rows of the input tensor ->
 * Transpose · MatMul, float32 per batch, summed in float64 here), then the calibration sequences
 * are run through the injected Runner. Quantization happens after pruning, so these are the Grams
 * of the pruned (and compensated) model's own activations.
 */
import { asFloat32, int64Tensor, type Runner } from '../core/runner';
import { encodeModel, type ModelProto } from '../io/onnx';
import { int64TensorProto } from '../io/onnx';
import type { Gram, WeightTarget } from './types';

const gramName = (input: string) => `gram:${input}`;

/** The graph with one extra output `gram:<input>` [K, K] per distinct linear input. */
export function withGramOutputs(model: ModelProto, targets: readonly WeightTarget[]): { model: ModelProto; inputs: Map<string, number> } {
  const inputs = new Map<string, number>();
  for (const t of targets) if (t.input && !t.uses.includes('gather')) inputs.set(t.input, t.k);
  for (const t of targets) if (t.input && t.uses.includes('gather')) inputs.set(t.input, t.k);
  const nodes = [...model.graph.node];
  const inits = [...(model.graph.initializer ?? [])];
  const outputs = [...model.graph.output];
  for (const [input, k] of inputs) {
    const shape = `${gramName(input)}/shape`;
    inits.push(int64TensorProto(shape, [-1, k], [2]));
    const rows = `${gramName(input)}/rows`;
    const rowsT = `${gramName(input)}/rows_t`;
    nodes.push({ op_type: 'Reshape', input: [input, shape], output: [rows], name: rows });
    nodes.push({ op_type: 'Transpose', input: [rows], output: [rowsT], name: rowsT, attribute: [{ name: 'perm', type: 7, ints: [1, 0] }] });
    nodes.push({ op_type: 'MatMul', input: [rowsT, rows], output: [gramName(input)], name: gramName(input) });
    outputs.push({ name: gramName(input), type: { tensor_type: { elem_type: 1, shape: { dim: [{ dim_value: k }, { dim_value: k }] } } } });
  }
  return { model: { ...model, graph: { ...model.graph, node: nodes, initializer: inits, output: outputs } }, inputs };
}

/** Σ x xᵀ of every linear input over the calibration sequences (equal lengths), `batch` sequences per run. */
export async function collectGrams(
  model: ModelProto,
  targets: readonly WeightTarget[],
  sequences: readonly (readonly number[])[],
  runner: Runner,
  batch = 4,
): Promise<Map<string, Gram>> {
  const { model: withGrams, inputs } = withGramOutputs(model, targets);
  const grams = new Map<string, Gram>([...inputs].map(([name, k]) => [name, { gram: new Float64Array(k * k), tokens: 0 }]));
  if (inputs.size === 0 || sequences.length === 0) return grams;
  const session = await runner.open(encodeModel(withGrams));
  try {
    for (let s = 0; s < sequences.length; s += batch) {
      const group = sequences.slice(s, s + batch);
      const len = group[0]!.length;
      const out = await session.run({ input_ids: int64Tensor(group.flat(), [group.length, len]) }, [...inputs.keys()].map(gramName));
      for (const [name, g] of grams) {
        const part = asFloat32(out[gramName(name)], gramName(name));
        for (let i = 0; i < part.length; i++) g.gram[i] = g.gram[i]! + part[i]!;
        g.tokens += group.length * len;
      }
    }
  } finally {
    await session.release();
  }
  return grams;
}
