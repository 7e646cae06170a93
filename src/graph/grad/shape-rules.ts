/**
 * Shape rules per ONNX op (opset 13-21 semantics) for the gradient builder's inference: output
 * element type, symbolic shape and, for integer tensors, propagated contents (Shape -> Gather ->
 * Concat -> Reshape chains). Covers every op the graph builder emits plus common extras.
 */
import type { NodeProto } from '../../io/onnx';
import { broadcastShapes, div, fixed, num, product, type MaybeDim, type Shape } from './dims';
import { ELEM, attribute, fixedValues, intAttr, intsAttr, type ShapeRule, type ValueFacts } from './facts';

const norm = (axis: number, rank: number) => (axis < 0 ? axis + rank : axis);

function same(_n: NodeProto, [x]: ValueFacts[]): ValueFacts[] {
  return [{ elem: x?.elem ?? null, shape: x?.shape ?? null, value: x?.value }];
}

function broadcast(elem: 'first' | 'bool' | 'second') {
  return (_n: NodeProto, inputs: ValueFacts[]): ValueFacts[] => {
    const data = inputs.filter((_, i) => elem !== 'second' || i > 0);
    const e = elem === 'bool' ? ELEM.BOOL : (data[0]?.elem ?? null);
    return [{ elem: e, shape: broadcastShapes(data.map((f) => f.shape)) }];
  };
}

/** Axes of a Reduce, Squeeze or Unsqueeze node: input 1 (newer opsets) or the `axes` attribute. */
function axesOf(node: NodeProto, inputs: ValueFacts[]): number[] | undefined {
  return intsAttr(node, 'axes') ?? (node.input[1] ? (fixedValues(inputs[1]) ?? undefined) : undefined);
}

function reduce(node: NodeProto, [x, axesIn]: ValueFacts[]): ValueFacts[] {
  const s = x?.shape ?? null;
  if (!s) return [{ elem: x?.elem ?? null, shape: null }];
  const given = axesOf(node, [x!, axesIn ?? { elem: null, shape: null }]);
  if (node.input[1] && !given) return [{ elem: x!.elem, shape: null }];
  const noop = intAttr(node, 'noop_with_empty_axes', 0) === 1;
  const axes = (given && given.length ? given : noop ? [] : s.map((_, i) => i)).map((a) => norm(a, s.length));
  const keep = intAttr(node, 'keepdims', 1) === 1;
  const shape = keep ? s.map((d, i) => (axes.includes(i) ? num(1) : d)) : s.filter((_, i) => !axes.includes(i));
  return [{ elem: x!.elem, shape }];
}

function reshape(_n: NodeProto, [x, target]: ValueFacts[]): ValueFacts[] {
  const xs = x?.shape ?? null;
  const t = target?.value;
  if (!t) return [{ elem: x?.elem ?? null, shape: null }];
  const out: MaybeDim[] = t.map((d, i) => (fixed(d) === 0 ? (xs?.[i] ?? null) : d));
  const neg = out.findIndex((d) => fixed(d) === -1);
  if (neg >= 0) out[neg] = xs ? div(product(xs), product(out.filter((_, i) => i !== neg))) : null;
  return [{ elem: x?.elem ?? null, shape: out, value: x?.value }];
}

function unsqueeze(node: NodeProto, inputs: ValueFacts[]): ValueFacts[] {
  const [x] = inputs;
  const s = x?.shape;
  const axes = axesOf(node, inputs);
  if (!s || !axes) return [{ elem: x?.elem ?? null, shape: null }];
  const rank = s.length + axes.length;
  const at = new Set(axes.map((a) => norm(a, rank)));
  const out: MaybeDim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(at.has(i) ? num(1) : (s[j++] ?? null));
  return [{ elem: x!.elem, shape: out, value: x!.value }];
}

function squeeze(node: NodeProto, inputs: ValueFacts[]): ValueFacts[] {
  const [x] = inputs;
  const s = x?.shape;
  if (!s) return [{ elem: x?.elem ?? null, shape: null }];
  const axes = axesOf(node, inputs);
  const drop = new Set(axes ? axes.map((a) => norm(a, s.length)) : s.flatMap((d, i) => (fixed(d) === 1 ? [i] : [])));
  return [{ elem: x!.elem, shape: s.filter((_, i) => !drop.has(i)), value: x!.value }];
}

function addDims(dims: readonly MaybeDim[]): MaybeDim {
  const first = dims[0];
  if (!first || dims.some((d) => !d)) return null;
  const key = JSON.stringify(Object.entries(first.e).sort());
  if (dims.some((d) => JSON.stringify(Object.entries(d!.e).sort()) !== key)) return null;
  return { k: dims.reduce((a, d) => a + d!.k, 0), e: first.e };
}

function concat(node: NodeProto, inputs: ValueFacts[]): ValueFacts[] {
  const shapes = inputs.map((f) => f.shape);
  const first = shapes[0];
  const elem = inputs[0]?.elem ?? null;
  const values = inputs.every((f) => f.value) ? inputs.flatMap((f) => f.value!) : undefined;
  if (!first || shapes.some((s) => !s || s.length !== first.length)) return [{ elem, shape: null, value: values }];
  const axis = norm(intAttr(node, 'axis', 0), first.length);
  const shape = first.map((d, i) => (i === axis ? addDims(shapes.map((s) => s![i]!)) : d));
  return [{ elem, shape, value: values }];
}

function split(node: NodeProto, inputs: ValueFacts[]): ValueFacts[] {
  const [x, sizes] = inputs;
  const s = x?.shape;
  const n = node.output.length;
  if (!s) return node.output.map(() => ({ elem: x?.elem ?? null, shape: null }));
  const axis = norm(intAttr(node, 'axis', 0), s.length);
  const given = intsAttr(node, 'split') ?? fixedValues(sizes);
  const parts: MaybeDim[] = given ? given.map(num) : Array.from({ length: n }, () => div(s[axis] ?? null, num(n)));
  return parts.map((d) => ({ elem: x!.elem, shape: s.map((v, i) => (i === axis ? d : v)) }));
}

function gather(node: NodeProto, [data, idx]: ValueFacts[]): ValueFacts[] {
  const ds = data?.shape;
  const is = idx?.shape;
  if (!ds || !is) return [{ elem: data?.elem ?? null, shape: null }];
  const axis = norm(intAttr(node, 'axis', 0), ds.length);
  const shape = [...ds.slice(0, axis), ...is, ...ds.slice(axis + 1)];
  const picks = fixedValues(idx);
  const value =
    data!.value && picks && ds.length === 1 ? picks.map((p) => data!.value![p < 0 ? p + data!.value!.length : p] ?? null) : undefined;
  return [{ elem: data!.elem, shape, value }];
}

function matmul(_n: NodeProto, [a, b]: ValueFacts[]): ValueFacts[] {
  const as = a?.shape;
  const bs = b?.shape;
  if (!as || !bs || as.length < 2 || bs.length < 2) return [{ elem: a?.elem ?? null, shape: null }];
  const batch = broadcastShapes([as.slice(0, -2), bs.slice(0, -2)]);
  return [{ elem: a!.elem, shape: batch && [...batch, as[as.length - 2] ?? null, bs[bs.length - 1] ?? null] }];
}

function gemm(node: NodeProto, [a, b]: ValueFacts[]): ValueFacts[] {
  const as = a?.shape;
  const bs = b?.shape;
  if (!as || !bs) return [{ elem: a?.elem ?? null, shape: null }];
  const m = intAttr(node, 'transA', 0) ? as[1] : as[0];
  const n = intAttr(node, 'transB', 0) ? bs[0] : bs[1];
  return [{ elem: a!.elem, shape: [m ?? null, n ?? null] }];
}

function transpose(node: NodeProto, [x]: ValueFacts[]): ValueFacts[] {
  const s = x?.shape;
  if (!s) return [{ elem: x?.elem ?? null, shape: null }];
  const perm = intsAttr(node, 'perm') ?? s.map((_, i) => s.length - 1 - i);
  return [{ elem: x!.elem, shape: perm.map((p) => s[p] ?? null) }];
}

function shapeOp(node: NodeProto, [x]: ValueFacts[]): ValueFacts[] {
  const s = x?.shape;
  if (!s) return [{ elem: ELEM.INT64, shape: [null] }];
  const r = s.length;
  const start = norm(intAttr(node, 'start', 0), r);
  const endRaw = attribute(node, 'end')?.i;
  const end = endRaw === undefined ? r : Math.min(norm(endRaw, r), r);
  const value = s.slice(start, end);
  return [{ elem: ELEM.INT64, shape: [num(value.length)], value }];
}

function range(_n: NodeProto, [start, limit, delta]: ValueFacts[]): ValueFacts[] {
  const s = fixedValues(start);
  const d = fixedValues(delta);
  const lim = limit?.value?.[0] ?? null;
  const len = s?.[0] === 0 && d?.[0] === 1 ? lim : null;
  return [{ elem: start?.elem ?? null, shape: [len] }];
}

function slice(_n: NodeProto, [x, starts, ends, axesIn, steps]: ValueFacts[]): ValueFacts[] {
  const s = x?.shape;
  const st = fixedValues(starts);
  const en = fixedValues(ends);
  if (!s || !st || !en) return [{ elem: x?.elem ?? null, shape: s ? s.map(() => null) : null }];
  const axes = (axesIn ? fixedValues(axesIn) : null) ?? st.map((_, i) => i);
  const step = (steps ? fixedValues(steps) : null) ?? st.map(() => 1);
  const out: MaybeDim[] = [...s];
  axes.forEach((a, i) => {
    const ax = norm(a, s.length);
    const dim = fixed(s[ax] ?? null);
    const b = st[i]!;
    const e = en[i]!;
    if (step[i] !== 1) out[ax] = null;
    else if (dim !== null) {
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
      out[ax] = num(Math.max(0, clamp(e) - clamp(b)));
    } else out[ax] = b === 0 && e >= 2 ** 31 - 1 ? (s[ax] ?? null) : b === 0 && e === 0 ? num(0) : null;
  });
  return [{ elem: x!.elem, shape: out }];
}

function expand(_n: NodeProto, [x, shape]: ValueFacts[]): ValueFacts[] {
  return [{ elem: x?.elem ?? null, shape: shape?.value ? broadcastShapes([x?.shape ?? null, shape.value]) : null }];
}

function cast(node: NodeProto, [x]: ValueFacts[]): ValueFacts[] {
  return [{ elem: intAttr(node, 'to', 1), shape: x?.shape ?? null, value: x?.value }];
}

function constantOfShape(node: NodeProto, [shape]: ValueFacts[]): ValueFacts[] {
  const t = attribute(node, 'value')?.t;
  return [{ elem: t?.data_type ?? ELEM.FLOAT, shape: (shape?.value as Shape) ?? null }];
}

function layerNorm(node: NodeProto, [x]: ValueFacts[]): ValueFacts[] {
  const s = x?.shape ?? null;
  const axis = s ? norm(intAttr(node, 'axis', -1), s.length) : 0;
  const stat: Shape = s && s.map((d, i) => (i < axis ? d : num(1)));
  return [
    { elem: x?.elem ?? null, shape: s },
    { elem: ELEM.FLOAT, shape: stat },
    { elem: ELEM.FLOAT, shape: stat },
  ];
}

const UNARY = [
  'Identity',
  'Neg',
  'Erf',
  'Tanh',
  'Sigmoid',
  'Relu',
  'Sqrt',
  'Reciprocal',
  'Exp',
  'Log',
  'Abs',
  'Cos',
  'Sin',
  'Softmax',
  'LogSoftmax',
  'Not',
  'Sign',
  'Floor',
];

export const SHAPE_RULES: Record<string, ShapeRule> = {
  ...Object.fromEntries(UNARY.map((op) => [op, same])),
  Add: broadcast('first'),
  Sub: broadcast('first'),
  Mul: broadcast('first'),
  Div: broadcast('first'),
  Max: broadcast('first'),
  Min: broadcast('first'),
  Pow: (n, inputs) => broadcast('first')(n, inputs),
  Greater: broadcast('bool'),
  Less: broadcast('bool'),
  Equal: broadcast('bool'),
  And: broadcast('bool'),
  Or: broadcast('bool'),
  Where: broadcast('second'),
  MatMul: matmul,
  Gemm: gemm,
  Transpose: transpose,
  Reshape: reshape,
  Flatten: (node, [x]) => {
    const s = x?.shape;
    if (!s) return [{ elem: x?.elem ?? null, shape: null }];
    const axis = norm(intAttr(node, 'axis', 1), s.length);
    return [{ elem: x!.elem, shape: [product(s.slice(0, axis)), product(s.slice(axis))] }];
  },
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Concat: concat,
  Split: split,
  Gather: gather,
  GatherElements: (_n, [data, idx]) => [{ elem: data?.elem ?? null, shape: idx?.shape ?? null }],
  Shape: shapeOp,
  Size: () => [{ elem: ELEM.INT64, shape: [] }],
  Range: range,
  Slice: slice,
  Expand: expand,
  Cast: cast,
  ConstantOfShape: constantOfShape,
  LayerNormalization: layerNorm,
  ReduceSum: reduce,
  ReduceMean: reduce,
  ReduceMax: reduce,
  ReduceLogSumExp: reduce,
};
