/**
 * GradEmitter: appends gradient nodes to an existing graph through an OnnxGraphBuilder whose
 * names are pre-reserved (so every new value name is fresh), with opset-aware helpers the VJP
 * rules share: reductions, un-broadcasting a gradient back to an input's shape, zeros, scalars.
 */
import { OnnxGraphBuilder, type AttrValue, type GraphProto } from '../../io/onnx';
import { fixed, isOne, sameDim, shapeKey, type Shape } from './dims';
import type { ShapeTable } from './shapes';

export class GradEmitter {
  readonly b: OnnxGraphBuilder;
  private readonly shapeNodes = new Map<string, string>();

  constructor(
    graph: GraphProto,
    readonly shapes: ShapeTable,
  ) {
    this.b = new OnnxGraphBuilder('grad');
    const names = new Set<string>();
    for (const t of graph.initializer ?? []) if (t.name) names.add(t.name);
    for (const i of graph.input) names.add(i.name);
    for (const n of graph.node) for (const o of n.output) if (o) names.add(o);
    for (const n of names) this.b.reserve(n);
  }

  get opset(): number {
    return this.shapes.opset;
  }

  op(type: string, inputs: readonly string[], attrs?: Record<string, AttrValue>, hint?: string): string {
    return this.b.op(type, inputs, attrs, `grad/${hint ?? type}`);
  }

  scalar(v: number): string {
    return this.b.constFloat([v], []);
  }

  ints(values: readonly number[]): string {
    return this.b.constInt64(values);
  }

  shapeOf(x: string): string {
    let s = this.shapeNodes.get(x);
    if (!s) {
      s = this.op('Shape', [x], undefined, 'shape');
      this.shapeNodes.set(x, s);
    }
    return s;
  }

  shape(x: string): Shape {
    return this.shapes.facts(x).shape;
  }

  rank(x: string): number {
    return this.shapes.rank(x);
  }

  /** ReduceSum over `axes` (opset 13+: axes as an input). */
  reduceSum(x: string, axes: readonly number[], keepdims: boolean): string {
    if (!axes.length) return x;
    return this.op('ReduceSum', [x, this.ints(axes)], { keepdims: keepdims ? 1 : 0 }, 'reduce_sum');
  }

  /** ReduceMean over `axes` (axes as an attribute before opset 18, as an input from 18). */
  reduceMean(x: string, axes: readonly number[], keepdims: boolean): string {
    const k = keepdims ? 1 : 0;
    return this.opset >= 18
      ? this.op('ReduceMean', [x, this.ints(axes)], { keepdims: k }, 'reduce_mean')
      : this.op('ReduceMean', [x], { axes: [...axes], keepdims: k }, 'reduce_mean');
  }

  /** Reshapes `g` to the (run-time) shape of `like`. */
  reshapeLike(g: string, like: string): string {
    return this.op('Reshape', [g, this.shapeOf(like)], undefined, 'reshape_like');
  }

  /** Zeros with the shape of `like`. */
  zerosLike(like: string): string {
    return this.op('ConstantOfShape', [this.shapeOf(like)], undefined, 'zeros');
  }

  /**
   * Sums a gradient `g` (shape `gShape`, the broadcast result) back to the shape of input `x`:
   * leading axes that x lacks are summed away, axes where x has size 1 are summed with keepdims.
   */
  unbroadcast(g: string, gShape: Shape, x: string): string {
    const xs = this.shape(x);
    if (!gShape || !xs) throw new Error(`gradient builder: cannot un-broadcast to "${x}" (unknown shape)`);
    if (shapeKey(gShape) === shapeKey(xs)) return g;
    const lead = gShape.length - xs.length;
    if (lead < 0) throw new Error(`gradient builder: "${x}" has a higher rank than its broadcast result`);
    const keepAxes: number[] = [];
    xs.forEach((d, i) => {
      const gd = gShape[lead + i] ?? null;
      if (isOne(d) && !isOne(gd)) keepAxes.push(lead + i);
      else if (!sameDim(d, gd) && !(fixed(d) !== null && fixed(d) === fixed(gd))) {
        throw new Error(`gradient builder: cannot tell how "${x}" ${shapeKey(xs)} broadcasts to ${shapeKey(gShape)}`);
      }
    });
    let out = this.reduceSum(g, keepAxes, true);
    out = this.reduceSum(
      out,
      Array.from({ length: lead }, (_, i) => i),
      false,
    );
    return out;
  }

  /** Swaps the last two axes of a rank-`rank` tensor. */
  transposeLast2(x: string, rank: number): string {
    const perm = Array.from({ length: rank }, (_, i) => i);
    perm[rank - 2] = rank - 1;
    perm[rank - 1] = rank - 2;
    return this.op('Transpose', [x], { perm }, 'transpose');
  }

  /** Sum of several gradient contributions of the same shape. */
  sum(parts: readonly string[]): string {
    let acc = parts[0]!;
    for (let i = 1; i < parts.length; i++) acc = this.op('Add', [acc, parts[i]!], undefined, 'accumulate');
    return acc;
  }
}
