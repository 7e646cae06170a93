/**
 * boundedConcat: no Concat node takes more than MAX_CONCAT_INPUTS inputs (WebGPU's default of 8
 * storage buffers per shader stage, output included), and onnxruntime's result equals the parts
 * joined in order by plain JavaScript.
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, OnnxGraphBuilder } from '../io/onnx';
import { createNodeRunner } from '../runtime/ort-node';
import { boundedConcat, MAX_CONCAT_INPUTS } from './concat';

const runner = createNodeRunner({ threads: 1 });

async function joined(count: number, axis: 0 | 1) {
  const b = new OnnxGraphBuilder('concat');
  // part i: [2, 3] (axis 0) or [2, i + 1] (axis 1), value 1000 i + position
  const shapes = Array.from({ length: count }, (_, i) => (axis === 0 ? [2, 3] : [2, i + 1]));
  const names = shapes.map((s, i) => b.addInput(`x${i}`, 'float32', s));
  boundedConcat(b, names, axis, 'joined', 'y');
  const rows = axis === 0 ? 2 * count : 2;
  const cols = axis === 0 ? 3 : (count * (count + 1)) / 2;
  b.addOutput('y', 'float32', [rows, cols]);
  const model = b.toModel({ opset: 17 });
  const parts = shapes.map((s, i) => Float32Array.from({ length: s[0]! * s[1]! }, (_, k) => 1000 * i + k));
  const session = await runner.open(encodeModel(model));
  const out = await session.run(
    Object.fromEntries(parts.map((p, i) => [`x${i}`, { type: 'float32', data: p, dims: shapes[i]! }])) as never,
    ['y'],
  );
  await session.release();
  return { model, shapes, parts, y: Array.from(out.y!.data as Float32Array) };
}

describe('boundedConcat', () => {
  for (const [count, axis] of [
    [3, 0],
    [7, 1],
    [8, 0],
    [12, 0],
    [19, 1],
    [50, 0],
  ] as const) {
    it(`${count} parts along axis ${axis}: every Concat has <= ${MAX_CONCAT_INPUTS} inputs, values in order`, async () => {
      const { model, shapes, parts, y } = await joined(count, axis);
      const concats = model.graph!.node!.filter((n) => n.op_type === 'Concat');
      expect(concats.length).toBe(count <= MAX_CONCAT_INPUTS ? 1 : concats.length);
      for (const n of concats) expect(n.input!.length).toBeLessThanOrEqual(MAX_CONCAT_INPUTS);
      if (count > MAX_CONCAT_INPUTS) expect(concats.length).toBeGreaterThan(1);
      // the expected layout, by hand: axis 0 stacks the parts' rows; axis 1 puts each row's pieces side by side
      const expected: number[] =
        axis === 0
          ? parts.flatMap((p) => Array.from(p))
          : [0, 1].flatMap((r) => parts.flatMap((p, i) => Array.from(p.subarray(r * shapes[i]![1]!, (r + 1) * shapes[i]![1]!))));
      expect(y).toEqual(expected);
    });
  }
});
