/** ONNX protobuf I/O: round trips through protobufjs, raw_data byte layout, builder naming rules, decode errors. */
import { describe, expect, it } from 'vitest';
import { OnnxFormatError } from '../../core/errors';
import { tensor } from '../../core/tensor';
import { attr, DataType, decodeModel, encodeModel, OnnxGraphBuilder, readFloatTensor, readInt64Tensor, AttributeType } from './index';

function smallModel() {
  const b = new OnnxGraphBuilder('g');
  const x = b.addInput('x', 'float32', ['batch', 3]);
  const w = b.addInitializer('w', tensor([3, 2], Float32Array.from([1, -2, 3.5, 0.25, -0, 1e-30])));
  const shape = b.addInitializer('shape', { int64: [-1, 2] });
  const [y] = b.node('MatMul', [x, w], { outputs: ['y'] });
  const z = b.op('Reshape', [y!, shape]);
  b.node('LayerNormalization', [z, b.constFloat([1, 1]), b.constFloat([0, 0])], {
    outputs: ['out'],
    attrs: { axis: -1, epsilon: attr.float(1e-5) },
  });
  b.addOutput('out', 'float32', ['batch', 2]);
  return b.toModel({ opset: 17, producer: 'test', metadata: { k: 'v' } });
}

describe('ONNX encode / decode', () => {
  it('round-trips a model (names, dims, attributes, raw_data, metadata)', () => {
    const bytes = encodeModel(smallModel());
    expect(bytes).toBeInstanceOf(Uint8Array);
    const m = decodeModel(bytes);
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ domain: '', version: 17 }]);
    expect(m.producer_name).toBe('test');
    expect(m.metadata_props).toEqual([{ key: 'k', value: 'v' }]);
    expect(m.graph.input[0]!.type?.tensor_type?.shape?.dim).toEqual([{ dim_param: 'batch' }, { dim_value: 3 }]);
    expect(m.graph.node.map((n) => n.op_type)).toEqual(['MatMul', 'Reshape', 'LayerNormalization']);
    const ln = m.graph.node[2]!;
    expect(ln.attribute?.find((a) => a.name === 'epsilon')).toMatchObject({ type: AttributeType.FLOAT });
    expect(ln.attribute?.find((a) => a.name === 'epsilon')?.f).toBeCloseTo(1e-5, 10);
    expect(ln.attribute?.find((a) => a.name === 'axis')).toMatchObject({ type: AttributeType.INT, i: -1 });
    const w = m.graph.initializer!.find((t) => t.name === 'w')!;
    expect(w.data_type).toBe(DataType.FLOAT);
    expect(w.dims).toEqual([3, 2]);
    expect(Array.from(readFloatTensor(w))).toEqual([1, -2, 3.5, 0.25, -0, Math.fround(1e-30)]);
    expect(readInt64Tensor(m.graph.initializer!.find((t) => t.name === 'shape')!)).toEqual([-1, 2]);
    expect(encodeModel(m)).toEqual(bytes);
  });

  it('stores floats as little-endian raw_data', () => {
    const t = smallModel().graph.initializer!.find((i) => i.name === 'w')!;
    expect(Array.from(t.raw_data!.subarray(0, 8))).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]); // 1.0f, -2.0f
  });

  it('rejects bytes that are not an ONNX model with OnnxFormatError', () => {
    expect(() => decodeModel(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]))).toThrow(OnnxFormatError);
    expect(() => decodeModel(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(OnnxFormatError);
    expect(() => decodeModel(new Uint8Array())).toThrow(/no graph/);
  });
});

describe('OnnxGraphBuilder', () => {
  it('generates unique names and refuses duplicates or undefined inputs', () => {
    const b = new OnnxGraphBuilder();
    const x = b.addInput('x', 'float32', [2]);
    const a = b.op('Relu', [x], undefined, 'act');
    const c = b.op('Relu', [a], undefined, 'act');
    expect([a, c]).toEqual(['act', 'act_1']);
    expect(() => b.node('Relu', [c], { outputs: ['act'] })).toThrow(/already used/);
    expect(() => b.op('Relu', ['nope'])).toThrow(/not defined/);
    expect(() => b.addOutput('missing', 'float32', [2])).toThrow(/not produced/);
    expect(() => b.op('Foo', [x], { alpha: 0.5 })).toThrow(/attr\.float/);
  });

  it('deduplicates constants by value and shape', () => {
    const b = new OnnxGraphBuilder();
    expect(b.constFloat([0.5], [])).toBe(b.constFloat([0.5], []));
    expect(b.constFloat([0.5], [])).not.toBe(b.constFloat([0.5], [1]));
    expect(b.constInt64([1, 2])).toBe(b.constInt64([1, 2]));
    const m = b.toModel({ opset: 17 });
    expect(m.graph.initializer).toHaveLength(3);
  });
});
