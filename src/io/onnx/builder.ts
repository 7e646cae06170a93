/**
 * OnnxGraphBuilder: a small, typed way to assemble an ONNX graph without hand-writing protobuf
 * objects. Every value name is unique (generated names get a counter; explicit names are checked),
 * scalar/vector constants are deduplicated, and `toModel` returns a ModelProto for encodeModel.
 * A builder made with `deferWeights` keeps deferred weights (addDeferredWeight) as recipes: their
 * TensorProtos have no raw_data and `encodeModel(model, b.deferredWeights)` computes them into the
 * encoded bytes; any other builder computes them at once.
 */
import type { Tensor } from '../../core/tensor';
import { materialize, type DeferredFloats } from './deferred';
import { floatTensorProto, int64TensorProto } from './tensor';
import {
  AttributeType,
  DataType,
  ELEM_TYPE_CODE,
  type AttributeProto,
  type Dimension,
  type ElemType,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  type ValueInfoProto,
} from './types';

/** A dimension: a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

/** Attribute values: integers, integer lists and strings are written as is; floats and tensors need a tag (see `attr`). */
export type AttrValue =
  | number
  | readonly number[]
  | string
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'tensor'; readonly value: TensorProto };

export const attr = {
  float: (value: number) => ({ kind: 'float', value }) as const,
  floats: (value: readonly number[]) => ({ kind: 'floats', value }) as const,
  tensor: (value: TensorProto) => ({ kind: 'tensor', value }) as const,
};

export interface NodeOptions {
  /** Explicit output names, or the number of outputs to name automatically (default 1). */
  outputs?: readonly string[] | number;
  attrs?: Record<string, AttrValue>;
  /** Prefix for generated names (default: the op type). */
  name?: string;
  domain?: string;
}

export interface ModelOptions {
  opset: number;
  producer?: string;
  producerVersion?: string;
  /** IR version; 8 matches opset 17 (ONNX 1.12). */
  irVersion?: number;
  docString?: string;
  metadata?: Record<string, string>;
}

function toAttribute(name: string, v: AttrValue): AttributeProto {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new TypeError(`attribute ${name}=${v}: use attr.float() for float attributes`);
    return { name, type: AttributeType.INT, i: v };
  }
  if (typeof v === 'string') return { name, type: AttributeType.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) {
    const ints = v as readonly number[];
    if (!ints.every(Number.isInteger)) throw new TypeError(`attribute ${name}: use attr.floats() for float lists`);
    return { name, type: AttributeType.INTS, ints: [...ints] };
  }
  const tagged = v as Exclude<AttrValue, number | string | readonly number[]>;
  switch (tagged.kind) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: tagged.value };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...tagged.value] };
    case 'tensor':
      return { name, type: AttributeType.TENSOR, t: tagged.value };
  }
}

function valueInfo(name: string, dtype: ElemType, dims: readonly Dim[]): ValueInfoProto {
  const dim: Dimension[] = dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d }));
  return { name, type: { tensor_type: { elem_type: ELEM_TYPE_CODE[dtype], shape: { dim } } } };
}

export class OnnxGraphBuilder {
  private readonly names = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly constants = new Map<string, string>();
  private readonly nodes: NodeProto[] = [];
  private readonly initializers: TensorProto[] = [];
  private readonly inputs: ValueInfoProto[] = [];
  private readonly outputs: ValueInfoProto[] = [];
  private readonly deferred = new Map<TensorProto, DeferredFloats>();

  constructor(
    readonly graphName = 'main',
    private readonly options: { deferWeights?: boolean } = {},
  ) {}

  /** The deferred weights of `toModel()`'s initializers (empty unless the builder defers weights). */
  get deferredWeights(): ReadonlyMap<TensorProto, DeferredFloats> {
    return this.deferred;
  }

  /** Reserves `name` exactly; throws if it is taken. */
  reserve(name: string): string {
    if (!name) throw new Error('ONNX value names must not be empty');
    if (this.names.has(name)) throw new Error(`ONNX value name "${name}" is already used`);
    this.names.add(name);
    return name;
  }

  /** Reserves and returns a fresh name starting with `hint` ("hint" if free, else "hint_1", "hint_2", ...). */
  uniqueName(hint: string): string {
    return this.reserve(this.freshName(hint));
  }

  private freshName(hint: string): string {
    let n = this.counters.get(hint) ?? 0;
    let name = n === 0 ? hint : `${hint}_${n}`;
    while (this.names.has(name)) name = `${hint}_${++n}`;
    this.counters.set(hint, n + 1);
    return name;
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  addInput(name: string, dtype: ElemType, dims: readonly Dim[]): string {
    this.inputs.push(valueInfo(this.reserve(name), dtype, dims));
    return name;
  }

  /** Declares an existing value as a graph output (its producer must name it exactly). */
  addOutput(name: string, dtype: ElemType, dims: readonly Dim[]): string {
    if (!this.names.has(name)) throw new Error(`graph output "${name}" is not produced by any node`);
    this.outputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Adds a weight. A Tensor is stored as FLOAT raw_data; `{ int64, dims }` as INT64. Returns the exact name. */
  addInitializer(name: string, value: Tensor | { int64: ArrayLike<number>; dims?: readonly number[] }): string {
    this.reserve(name);
    if ('int64' in value) {
      this.initializers.push(int64TensorProto(name, value.int64, value.dims ?? [value.int64.length]));
    } else {
      this.initializers.push(floatTensorProto(name, value.data, value.shape));
    }
    return name;
  }

  /** Adds a float weight under a fresh name derived from `hint`; returns that name. */
  addWeight(hint: string, value: Tensor): string {
    return this.addInitializer(this.freshName(hint), value);
  }

  /** Adds a float weight computed row by row under a fresh name from `hint`: kept deferred or computed now (see the header). */
  addDeferredWeight(hint: string, d: DeferredFloats): string {
    if (!this.options.deferWeights) return this.addWeight(hint, { shape: d.dims, data: materialize(d) });
    const name = this.reserve(this.freshName(hint));
    const proto: TensorProto = { name, dims: [...d.dims], data_type: DataType.FLOAT };
    this.initializers.push(proto);
    this.deferred.set(proto, d);
    return name;
  }

  /** A float32 constant (deduplicated by value); `dims` [] makes a scalar. */
  constFloat(values: readonly number[] | Float32Array, dims: readonly number[] = [values.length]): string {
    const data = Float32Array.from(values);
    const key = `f32:${dims.join('x')}:${Array.from(data).join(',')}`;
    return this.cached(key, () => this.addWeight('const_f32', { shape: dims, data }));
  }

  /** An int64 constant (deduplicated by value); `dims` [] makes a scalar. */
  constInt64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    return this.cached(key, () => {
      const name = this.uniqueName('const_i64');
      this.initializers.push(int64TensorProto(name, values, dims));
      return name;
    });
  }

  private cached(key: string, make: () => string): string {
    const hit = this.constants.get(key);
    if (hit) return hit;
    const name = make();
    this.constants.set(key, name);
    return name;
  }

  /** Adds a node and returns its output names. Empty input names ('') mark omitted optional inputs. */
  node(opType: string, inputs: readonly string[], opts: NodeOptions = {}): string[] {
    for (const i of inputs) if (i !== '' && !this.names.has(i)) throw new Error(`${opType}: input "${i}" is not defined`);
    const hint = opts.name ?? opType;
    const outputs =
      typeof opts.outputs === 'object'
        ? opts.outputs.map((o) => this.reserve(o))
        : Array.from({ length: opts.outputs ?? 1 }, () => this.uniqueName(hint));
    const attribute = Object.entries(opts.attrs ?? {}).map(([k, v]) => toAttribute(k, v));
    this.nodes.push({
      name: `${hint}#${this.nodes.length}`,
      op_type: opType,
      ...(opts.domain ? { domain: opts.domain } : {}),
      input: [...inputs],
      output: outputs,
      ...(attribute.length ? { attribute } : {}),
    });
    return outputs;
  }

  /** Single-output shorthand for `node`. */
  op(opType: string, inputs: readonly string[], attrs?: Record<string, AttrValue>, name?: string): string {
    return this.node(opType, inputs, { ...(attrs ? { attrs } : {}), ...(name ? { name } : {}) })[0]!;
  }

  toModel(opts: ModelOptions): ModelProto {
    return {
      ir_version: opts.irVersion ?? 8,
      opset_import: [{ domain: '', version: opts.opset }],
      producer_name: opts.producer ?? 'prune-studio',
      ...(opts.producerVersion ? { producer_version: opts.producerVersion } : {}),
      ...(opts.docString ? { doc_string: opts.docString } : {}),
      graph: {
        name: this.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      ...(opts.metadata ? { metadata_props: Object.entries(opts.metadata).map(([key, value]) => ({ key, value })) } : {}),
    };
  }
}
