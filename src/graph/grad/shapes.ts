/**
 * Static shape inference over an ONNX graph with symbolic dims (dims.ts): element type, shape and,
 * for small integer tensors (shape vectors, axes, indices), their contents. The gradient builder
 * needs it to know each value's rank and which axes broadcasting expanded; dynamic sizes such as
 * `batch` and `seq` stay symbolic. Rules live in shape-rules.ts; an op without a rule gets an
 * unknown shape, which only matters if a gradient rule later needs it.
 */
import { readFloatTensor, readInt64Tensor, type GraphProto, type TensorProto } from '../../io/onnx';
import { num, sym, type MaybeDim } from './dims';
import { ELEM, UNKNOWN, type RuleContext, type ValueFacts } from './facts';
import { SHAPE_RULES } from './shape-rules';

function initializerFacts(t: TensorProto): ValueFacts {
  const shape = (t.dims ?? []).map((d) => num(Number(d)));
  const elem = t.data_type ?? null;
  if (elem === ELEM.INT64 && shape.length <= 1) return { elem, shape, value: readInt64Tensor(t).map(num) };
  if (elem === ELEM.FLOAT && (t.dims ?? []).reduce((a, b) => a * Number(b), 1) <= 16) return { elem, shape, floats: readFloatTensor(t) };
  return { elem, shape };
}

export interface ShapeTable {
  readonly opset: number;
  facts(name: string): ValueFacts;
  /** Rank, throwing a clear error when it is unknown. */
  rank(name: string): number;
}

/** Infers facts for every value of `graph` (nodes must be in topological order). */
export function inferShapes(graph: GraphProto, opset: number): ShapeTable {
  const table = new Map<string, ValueFacts>();
  for (const t of graph.initializer ?? []) if (t.name) table.set(t.name, initializerFacts(t));
  for (const vi of graph.input) {
    if (table.has(vi.name)) continue;
    const tt = vi.type?.tensor_type;
    const shape = tt?.shape?.dim
      ? tt.shape.dim.map((d): MaybeDim => (d.dim_param ? sym(d.dim_param) : d.dim_value !== undefined ? num(Number(d.dim_value)) : null))
      : null;
    table.set(vi.name, { elem: tt?.elem_type ?? null, shape });
  }
  const facts = (name: string): ValueFacts => table.get(name) ?? UNKNOWN;
  const ctx: RuleContext = { opset, facts };
  for (const node of graph.node) {
    const rule = SHAPE_RULES[node.op_type];
    const inputs = node.input.map((i) => (i === '' ? UNKNOWN : facts(i)));
    let out: ValueFacts[] = [];
    if (rule) {
      try {
        out = rule(node, inputs, ctx);
      } catch {
        out = [];
      }
    }
    node.output.forEach((o, i) => table.set(o, out[i] ?? UNKNOWN));
  }
  return {
    opset,
    facts,
    rank(name) {
      const s = facts(name).shape;
      if (!s) throw new Error(`gradient builder: the rank of "${name}" is unknown`);
      return s.length;
    },
  };
}
