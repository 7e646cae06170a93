/**
 * An indexed view of an ONNX graph for pattern matching: producers and consumers of every value,
 * constants (initializers, Constant nodes, and shape-only ops over them, folded on demand), the
 * "stream" (values computed from the token embedding; Shape cuts the dependence), and regions:
 * the nodes reached forward from some values through everything except chosen stop operators,
 * stopping where another stream value joins (a residual Add) — the unit the matchers reason in.
 */
import { OnnxFormatError } from '../../core/errors';
import { AttributeType, type AttributeProto, type GraphProto, type NodeProto, type TensorProto } from '../onnx/types';
import { elementCount, isFloatTensor, readFloats, readInts, type ExternalReader } from './initializers';

export interface GNode {
  index: number;
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, AttributeProto>;
}

export interface ConstValue {
  dims: number[];
  /** Float values (also for integer tensors, converted). */
  values: Float32Array;
}

export interface Use {
  node: GNode;
  /** Input slot through which the value enters. */
  slot: number;
}

export interface Region {
  /** Values computed inside the region (the start values included). */
  values: Set<string>;
  /** Nodes passed through, in graph order. */
  nodes: GNode[];
  /** Where region values enter a stop operator, or a node that also reads another stream value. */
  exits: Use[];
}

/** Ops that only move or reinterpret data: followed when looking for a value's "real" producer or users. */
export const PASS_OPS = new Set(['Cast', 'Identity', 'Dropout', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten']);

function toNode(n: NodeProto, index: number): GNode {
  return {
    index,
    op: n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.op_type}` : n.op_type,
    name: n.name ?? `#${index}`,
    inputs: n.input,
    outputs: n.output,
    attrs: new Map((n.attribute ?? []).map((a) => [a.name, a])),
  };
}

export class GraphIndex {
  readonly nodes: GNode[];
  readonly producer = new Map<string, GNode>();
  readonly consumers = new Map<string, Use[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly inputs: Set<string>;
  readonly outputs: Set<string>;
  private readonly stream = new Set<string>();
  private readonly folded = new Map<string, ConstValue | null>();
  private readonly shapeOnly = new Map<string, boolean>();

  constructor(
    graph: GraphProto,
    private readonly readExternal?: ExternalReader,
  ) {
    this.nodes = graph.node.map(toNode);
    for (const t of graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.inputs = new Set(graph.input.map((i) => i.name).filter((n) => !this.initializers.has(n)));
    this.outputs = new Set(graph.output.map((o) => o.name));
    for (const n of this.nodes) {
      for (const o of n.outputs) this.producer.set(o, n);
      n.inputs.forEach((i, slot) => {
        if (!i) return;
        const list = this.consumers.get(i) ?? [];
        list.push({ node: n, slot });
        this.consumers.set(i, list);
      });
    }
  }

  uses(value: string): Use[] {
    return this.consumers.get(value) ?? [];
  }

  attrInt(n: GNode, name: string, fallback: number): number {
    const a = n.attrs.get(name);
    return a?.i !== undefined ? Number(a.i) : fallback;
  }

  attrInts(n: GNode, name: string): number[] | undefined {
    return n.attrs.get(name)?.ints?.map(Number);
  }

  attrFloat(n: GNode, name: string, fallback: number): number {
    return n.attrs.get(name)?.f ?? fallback;
  }

  attrString(n: GNode, name: string): string | undefined {
    const s = n.attrs.get(name)?.s;
    return s ? new TextDecoder().decode(s) : undefined;
  }

  /** The initializer behind a value, looking through Identity / Cast (no data is read). */
  initializerOf(value: string): TensorProto | undefined {
    const t = this.initializers.get(value);
    if (t) return t;
    const p = this.producer.get(value);
    if (p && (p.op === 'Identity' || p.op === 'Cast') && p.inputs[0]) return this.initializerOf(p.inputs[0]);
    return undefined;
  }

  /** Dims of a constant value without reading its data (initializers and Constant tensors). */
  constDims(value: string): number[] | undefined {
    const t = this.initializerOf(value);
    if (t) return (t.dims ?? []).map(Number);
    const p = this.producer.get(value);
    const attr = p?.op === 'Constant' ? p.attrs.get('value') : undefined;
    if (attr?.t) return (attr.t.dims ?? []).map(Number);
    return this.constValue(value)?.dims;
  }

  isConst(value: string): boolean {
    return this.initializerOf(value) !== undefined || this.constValue(value) !== undefined;
  }

  /** A constant's values, folded through Constant / Identity / Cast / Reshape / Unsqueeze / Squeeze / Transpose(2-D). */
  constValue(value: string): ConstValue | undefined {
    if (!this.folded.has(value)) this.folded.set(value, this.fold(value) ?? null);
    return this.folded.get(value) ?? undefined;
  }

  private tensorValue(t: TensorProto): ConstValue {
    const dims = (t.dims ?? []).map(Number);
    const values = isFloatTensor(t) ? readFloats(t, this.readExternal) : Float32Array.from(readInts(t, this.readExternal));
    if (values.length !== elementCount(t))
      throw new OnnxFormatError(`Constant "${t.name ?? ''}" has ${values.length} values for dims [${dims.join(', ')}].`);
    return { dims, values };
  }

  private fold(value: string): ConstValue | undefined {
    const t = this.initializers.get(value);
    if (t) return this.tensorValue(t);
    const p = this.producer.get(value);
    if (!p) return undefined;
    if (p.op === 'Constant') return this.constantNode(p);
    const x = p.inputs[0] ? this.constValue(p.inputs[0]) : undefined;
    if (!x) return undefined;
    switch (p.op) {
      case 'Identity':
      case 'Cast':
        return x;
      case 'Reshape': {
        const shape = p.inputs[1] ? this.constValue(p.inputs[1]) : undefined;
        if (!shape) return undefined;
        const dims = Array.from(shape.values);
        const known = dims.reduce((a, d) => (d > 0 ? a * d : a), 1);
        return { dims: dims.map((d, i) => (d === -1 ? x.values.length / known : d === 0 ? (x.dims[i] ?? 1) : d)), values: x.values };
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        const axes = this.attrInts(p, 'axes') ?? (p.inputs[1] ? Array.from(this.constValue(p.inputs[1])?.values ?? []) : []);
        return {
          dims:
            p.op === 'Squeeze'
              ? x.dims.filter((d, i) => !(axes.includes(i) || (axes.length === 0 && d === 1)))
              : unsqueezeDims(x.dims, axes),
          values: x.values,
        };
      }
      case 'Transpose': {
        if (x.dims.length !== 2) return undefined;
        const [r = 0, c = 0] = x.dims;
        const out = new Float32Array(r * c);
        for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x.values[i * c + j]!;
        return { dims: [c, r], values: out };
      }
      default:
        return undefined;
    }
  }

  private constantNode(p: GNode): ConstValue | undefined {
    const a =
      p.attrs.get('value') ??
      p.attrs.get('value_float') ??
      p.attrs.get('value_floats') ??
      p.attrs.get('value_int') ??
      p.attrs.get('value_ints');
    if (!a) return undefined;
    if (a.type === AttributeType.TENSOR && a.t) return this.tensorValue(a.t);
    if (a.type === AttributeType.FLOAT) return { dims: [], values: Float32Array.of(a.f ?? 0) };
    if (a.type === AttributeType.FLOATS) return { dims: [a.floats?.length ?? 0], values: Float32Array.from(a.floats ?? []) };
    if (a.type === AttributeType.INT) return { dims: [], values: Float32Array.of(Number(a.i ?? 0)) };
    if (a.type === AttributeType.INTS) return { dims: [a.ints?.length ?? 0], values: Float32Array.from((a.ints ?? []).map(Number)) };
    return undefined;
  }

  /** A scalar (one-element) constant, or undefined. */
  scalar(value: string): number | undefined {
    const dims = this.constDims(value);
    if (!dims || dims.reduce((a, b) => a * b, 1) !== 1) return undefined;
    return this.constValue(value)?.values[0];
  }

  /**
   * Entries of a shape vector: constants where known (a constant, or a Concat whose pieces are
   * constants or dynamic dims read from Shape), undefined for dynamic entries.
   */
  shapeEntries(value: string): (number | undefined)[] | undefined {
    const c = this.constValue(value);
    if (c) return Array.from(c.values);
    const p = this.producer.get(value);
    if (p?.op !== 'Concat') return undefined;
    const out: (number | undefined)[] = [];
    for (const i of p.inputs) {
      const piece = this.constValue(i);
      if (piece) out.push(...Array.from(piece.values));
      else out.push(undefined); // a dynamic dim (Unsqueeze(Gather(Shape(x)))): one entry
    }
    return out;
  }

  /** Whether a value is computed only from constants and tensor shapes (e.g. a dynamic 1/sqrt(head_dim)). */
  shapeDerived(value: string, depth = 0): boolean {
    const memo = this.shapeOnly.get(value);
    if (memo !== undefined) return memo;
    let result: boolean;
    if (this.initializers.has(value)) result = true;
    else {
      const p = this.producer.get(value);
      if (!p) result = false;
      else if (p.op === 'Shape' || p.op === 'Size' || p.op === 'Constant') result = true;
      else result = depth < 64 && p.inputs.every((i) => i === '' || this.shapeDerived(i, depth + 1));
    }
    this.shapeOnly.set(value, result);
    return result;
  }

  /** Marks every value computed from `start` (not through Shape / Size) as part of the stream. */
  markStream(start: string): void {
    this.stream.add(start);
    const from = this.producer.get(start)?.index ?? -1;
    for (const n of this.nodes) {
      if (n.index <= from || n.op === 'Shape' || n.op === 'Size') continue;
      // CastLike reads only the element type of its second input.
      const data = n.op === 'CastLike' ? n.inputs.slice(0, 1) : n.inputs;
      if (data.some((i) => this.stream.has(i))) for (const o of n.outputs) this.stream.add(o);
    }
  }

  isStream(value: string): boolean {
    return this.stream.has(value);
  }

  /**
   * Forward closure from `starts`: a node is passed when some input is in the region, its op is not
   * a stop op, and every other stream input is in the region too (else it is a join, an exit).
   */
  region(starts: readonly string[], stopOps: ReadonlySet<string>): Region {
    const values = new Set(starts);
    const nodes: GNode[] = [];
    const exits: Use[] = [];
    const first = Math.min(...starts.map((s) => this.producer.get(s)?.index ?? -1));
    for (let k = first + 1; k < this.nodes.length; k++) {
      const n = this.nodes[k]!;
      const slots = n.inputs.flatMap((i, slot) => (values.has(i) ? [slot] : []));
      if (slots.length === 0 || n.op === 'Shape' || n.op === 'Size') continue;
      const joins = n.inputs.some((i) => i !== '' && !values.has(i) && this.isStream(i));
      if (stopOps.has(n.op) || joins) {
        for (const slot of slots) exits.push({ node: n, slot });
        continue;
      }
      nodes.push(n);
      for (const o of n.outputs) values.add(o);
    }
    return { values, nodes, exits };
  }
}

function unsqueezeDims(dims: number[], axes: number[]): number[] {
  const rank = dims.length + axes.length;
  const norm = axes.map((a) => (a < 0 ? a + rank : a));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(norm.includes(i) ? 1 : (dims[k++] ?? 1));
  return out;
}
