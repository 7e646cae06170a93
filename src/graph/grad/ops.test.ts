/**
 * One VJP rule at a time: a tiny graph (random inputs, one op, loss = Σ y ⊙ (y + 0.3)) is
 * differentiated by appendGradients and run in onnxruntime-node; every input gradient is
 * compared with central finite differences of the same graph's loss (float32, ε = 1e-2 and 5e-3,
 * Richardson-extrapolated).
 */
import { describe, expect, it } from 'vitest';
import type { Feeds } from '../../core/runner';
import { encodeModel, OnnxGraphBuilder, attr } from '../../io/onnx';
import { createNodeRunner } from '../../runtime/ort-node';
import { seededRandom } from '../../test-util/random-ir';
import { appendGradients } from './autodiff';

const runner = createNodeRunner({ threads: 1 });

interface Case {
  name: string;
  inputs: { shape: number[]; positive?: boolean }[];
  build(b: OnnxGraphBuilder, x: string[]): string;
}

const op =
  (type: string, attrs?: Parameters<OnnxGraphBuilder['op']>[2]) =>
  (b: OnnxGraphBuilder, x: string[]): string =>
    b.op(type, x, attrs);

const unary = (type: string, positive = false): Case => ({ name: type, inputs: [{ shape: [2, 3], positive }], build: op(type) });

const CASES: Case[] = [
  { name: 'Add (bias broadcast)', inputs: [{ shape: [2, 3, 4] }, { shape: [4] }], build: op('Add') },
  { name: 'Add (middle axis broadcast)', inputs: [{ shape: [2, 3, 4] }, { shape: [3, 1] }], build: op('Add') },
  { name: 'Sub', inputs: [{ shape: [2, 3] }, { shape: [1, 3] }], build: op('Sub') },
  { name: 'Mul (scalar)', inputs: [{ shape: [2, 3, 4] }, { shape: [] }], build: op('Mul') },
  { name: 'Mul (mask-like [H,1,1])', inputs: [{ shape: [2, 3, 4, 2] }, { shape: [3, 1, 1] }], build: op('Mul') },
  { name: 'Div', inputs: [{ shape: [2, 3] }, { shape: [3], positive: true }], build: op('Div') },
  { name: 'Pow (constant exponent 3)', inputs: [{ shape: [2, 3] }], build: (b, [x]) => b.op('Pow', [x!, b.constFloat([3], [])]) },
  {
    name: 'Where',
    inputs: [{ shape: [2, 3] }, { shape: [3] }],
    build: (b, [x, y]) => b.op('Where', [b.op('Greater', [b.constFloat([0.5, -0.5, 0.1], [3]), b.constFloat([0], [])]), x!, y!]),
  },
  { name: 'Expand', inputs: [{ shape: [3, 1] }], build: (b, [x]) => b.op('Expand', [x!, b.constInt64([2, 3, 4])]) },
  ...['Identity', 'Neg', 'Tanh', 'Sigmoid', 'Erf', 'Relu', 'Exp', 'Abs', 'Sin', 'Cos'].map((t) => unary(t)),
  ...['Sqrt', 'Reciprocal', 'Log'].map((t) => unary(t, true)),
  { name: 'Cast (float to float)', inputs: [{ shape: [2, 3] }], build: op('Cast', { to: 1 }) },
  { name: 'MatMul (activations x weight)', inputs: [{ shape: [2, 3, 4] }, { shape: [4, 5] }], build: op('MatMul') },
  { name: 'MatMul (matrices)', inputs: [{ shape: [3, 4] }, { shape: [4, 5] }], build: op('MatMul') },
  { name: 'MatMul (batched, broadcast group axis)', inputs: [{ shape: [2, 2, 3, 4] }, { shape: [2, 1, 4, 5] }], build: op('MatMul') },
  { name: 'Gemm (transB, bias)', inputs: [{ shape: [3, 4] }, { shape: [5, 4] }, { shape: [5] }], build: op('Gemm', { transB: 1 }) },
  {
    name: 'Gemm (transA, alpha, beta)',
    inputs: [{ shape: [4, 3] }, { shape: [4, 5] }, { shape: [3, 5] }],
    build: op('Gemm', { transA: 1, alpha: attr.float(0.7), beta: attr.float(1.5) }),
  },
  { name: 'Reshape', inputs: [{ shape: [2, 3, 4] }], build: (b, [x]) => b.op('Reshape', [x!, b.constInt64([0, -1, 2])]) },
  { name: 'Transpose', inputs: [{ shape: [2, 3, 4] }], build: op('Transpose', { perm: [1, 2, 0] }) },
  { name: 'Unsqueeze', inputs: [{ shape: [2, 3] }], build: (b, [x]) => b.op('Unsqueeze', [x!, b.constInt64([1])]) },
  { name: 'Squeeze', inputs: [{ shape: [2, 1, 3] }], build: (b, [x]) => b.op('Squeeze', [x!, b.constInt64([1])]) },
  { name: 'Flatten', inputs: [{ shape: [2, 3, 2] }], build: op('Flatten', { axis: 1 }) },
  {
    name: 'Split (one part unused)',
    inputs: [{ shape: [2, 6] }],
    build: (b, [x]) => b.node('Split', [x!, b.constInt64([2, 4])], { attrs: { axis: 1 }, outputs: 2 })[1]!,
  },
  { name: 'Concat', inputs: [{ shape: [2, 3] }, { shape: [2, 2] }], build: op('Concat', { axis: 1 }) },
  {
    name: 'Slice',
    inputs: [{ shape: [4, 5] }],
    build: (b, [x]) => b.op('Slice', [x!, b.constInt64([1, 0]), b.constInt64([3, 4]), b.constInt64([0, 1])]),
  },
  {
    name: 'Gather (constant scalar row)',
    inputs: [{ shape: [4, 3, 1] }],
    build: (b, [x]) => b.op('Gather', [x!, b.constInt64([2], [])], { axis: 0 }),
  },
  {
    name: 'Gather (repeated rows)',
    inputs: [{ shape: [4, 3] }],
    build: (b, [x]) => b.op('Gather', [x!, b.constInt64([0, 2, 0])], { axis: 0 }),
  },
  {
    name: 'GatherElements (label pick)',
    inputs: [{ shape: [2, 3, 5] }],
    build: (b, [x]) => b.op('GatherElements', [x!, b.addInitializer('idx', { int64: [4, 0, 2, 1, 1, 3], dims: [2, 3, 1] })], { axis: -1 }),
  },
  {
    name: 'GatherElements (axis 0, repeats)',
    inputs: [{ shape: [3, 2] }],
    build: (b, [x]) => b.op('GatherElements', [x!, b.addInitializer('idx', { int64: [0, 1, 0, 1], dims: [2, 2] })], { axis: 0 }),
  },
  {
    name: 'ReduceSum (axis 1)',
    inputs: [{ shape: [2, 3, 4] }],
    build: (b, [x]) => b.op('ReduceSum', [x!, b.constInt64([1])], { keepdims: 0 }),
  },
  { name: 'ReduceMean (last, keepdims)', inputs: [{ shape: [2, 3, 4] }], build: op('ReduceMean', { axes: [-1], keepdims: 1 }) },
  { name: 'ReduceLogSumExp', inputs: [{ shape: [2, 3, 4] }], build: op('ReduceLogSumExp', { axes: [-1], keepdims: 1 }) },
  { name: 'ReduceSum (all)', inputs: [{ shape: [2, 3] }], build: op('ReduceSum', { keepdims: 0 }) },
  { name: 'Softmax', inputs: [{ shape: [2, 3, 4] }], build: op('Softmax', { axis: -1 }) },
  { name: 'LogSoftmax', inputs: [{ shape: [2, 4] }], build: op('LogSoftmax', { axis: -1 }) },
  {
    name: 'LayerNormalization',
    inputs: [{ shape: [2, 3, 4] }, { shape: [4] }, { shape: [4] }],
    build: op('LayerNormalization', { axis: -1, epsilon: attr.float(1e-5) }),
  },
];

function buildCase(c: Case) {
  const b = new OnnxGraphBuilder('case');
  const names = c.inputs.map((inp, i) => b.addInput(`x${i}`, 'float32', inp.shape));
  const y = c.build(b, names);
  const shifted = b.op('Add', [y, b.constFloat([0.3], [])]);
  b.node('ReduceSum', [b.op('Mul', [y, shifted])], { attrs: { keepdims: 0 }, outputs: ['loss'] });
  b.addOutput('loss', 'float32', []);
  const forward = b.toModel({ opset: 17 });
  const grad = appendGradients(forward, { loss: 'loss', wrt: names.map((n) => ({ value: n, output: `grad.${n}` })) });
  return { names, forward: encodeModel(forward), grad: encodeModel(grad) };
}

describe('VJP rules vs finite differences', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const { names, forward, grad } = buildCase(c);
      const rnd = seededRandom(c.name.length * 31 + 7);
      const data = c.inputs.map((inp) =>
        Float32Array.from({ length: inp.shape.reduce((a, v) => a * v, 1) }, () => (inp.positive ? 0.5 + rnd() + 0.5 : 2 * rnd())),
      );
      const feeds = (): Feeds =>
        Object.fromEntries(names.map((n, i) => [n, { type: 'float32' as const, dims: c.inputs[i]!.shape, data: data[i]! }]));
      const gs = await runner.open(grad);
      const out = await gs.run(feeds());
      await gs.release();
      const fs = await runner.open(forward);
      const loss = async () => ((await fs.run(feeds())).loss!.data as Float32Array)[0]!;
      const eps = 1e-2;
      for (const [i, n] of names.entries()) {
        const g = out[`grad.${n}`]!.data as Float32Array;
        expect(g.length).toBe(data[i]!.length);
        let worst = 0;
        let scale = 1e-3;
        for (let k = 0; k < g.length; k++) {
          const orig = data[i]![k]!;
          const central = async (h: number) => {
            data[i]![k] = orig + h;
            const up = await loss();
            data[i]![k] = orig - h;
            const down = await loss();
            data[i]![k] = orig;
            return (up - down) / (2 * h);
          };
          // Richardson extrapolation cancels the O(eps^2) truncation error of central differences.
          const fd = (4 * (await central(eps / 2)) - (await central(eps))) / 3;
          worst = Math.max(worst, Math.abs(fd - g[k]!));
          scale = Math.max(scale, Math.abs(fd));
        }
        expect(worst / scale, `d loss / d ${n}`).toBeLessThan(2e-3);
      }
      await fs.release();
    });
  }
});

describe('errors', () => {
  it('names an op without a gradient rule on a differentiable path', () => {
    const b = new OnnxGraphBuilder('case');
    const x = b.addInput('x', 'float32', [2, 3]);
    b.node('ReduceSum', [b.op('Max', [x, b.constFloat([0], [])], undefined, 'my_max')], { attrs: { keepdims: 0 }, outputs: ['loss'] });
    b.addOutput('loss', 'float32', []);
    expect(() => appendGradients(b.toModel({ opset: 17 }), { loss: 'loss', wrt: [{ value: 'x', output: 'grad.x' }] })).toThrow(
      /Cannot differentiate through ONNX op Max \(node "my_max#\d+"\)/,
    );
  });

  it('ignores ops off the differentiable path (integer shape arithmetic)', async () => {
    const b = new OnnxGraphBuilder('case');
    const x = b.addInput('x', 'float32', ['n', 3]);
    const n = b.op('Gather', [b.op('Shape', [x]), b.constInt64([0], [])], { axis: 0 });
    const scale = b.op('Cast', [b.op('Max', [n, b.constInt64([1], [])])], { to: 1 });
    b.node('ReduceSum', [b.op('Mul', [x, scale])], { attrs: { keepdims: 0 }, outputs: ['loss'] });
    b.addOutput('loss', 'float32', []);
    const model = appendGradients(b.toModel({ opset: 17 }), { loss: 'loss', wrt: [{ value: 'x', output: 'grad.x' }] });
    const s = await runner.open(encodeModel(model));
    const out = await s.run({ x: { type: 'float32', dims: [4, 3], data: new Float32Array(12).fill(1) } });
    expect(Array.from(out['grad.x']!.data as Float32Array)).toEqual(new Array(12).fill(4));
    await s.release();
  });
});
