/**
 * The sized encoder (io/onnx/encode.ts) against protobufjs's encoder, the independent reference:
 * byte-for-byte equal output on small models that use every kind of field the project writes
 * (negative and 64-bit integers, floats, non-ASCII strings, empty and external tensors, nested
 * graphs), decoded models that round-trip, and graphs whose fused / transposed weights are
 * written from deferred recipes (OnnxGraphBuilder deferWeights) equal to the eagerly built ones.
 */
import { describe, expect, it } from 'vitest';
import { tensor } from '../../core/tensor';
import { buildModelProto, buildOnnx } from '../../graph/build';
import { buildKvCacheOnnx, buildKvCacheProto } from '../../graph/kv-cache';
import { randomIR } from '../../test-util/random-ir';
import { randomLlamaIR } from '../../test-util/random-llama';
import { encodeModelProtobufjs } from './proto';
import { materialize } from './deferred';
import {
  attr,
  AttributeType,
  DataType,
  decodeModel,
  encodeModel,
  encodeModelTo,
  OnnxGraphBuilder,
  readFloatTensor,
  type ModelProto,
} from './index';

function edgeCaseModel(): ModelProto {
  const b = new OnnxGraphBuilder('gräph ✓');
  const x = b.addInput('x', 'float32', ['batch', 3]);
  const w = b.addInitializer('w', tensor([3, 2], Float32Array.from([1, -2, 3.5, 0.25, -0, 1e-30])));
  const shape = b.addInitializer('shape', { int64: [-1, 2, 2 ** 40, -(2 ** 35)] });
  const [y] = b.node('MatMul', [x, w], { outputs: ['y'] });
  const z = b.op('Reshape', [y!, shape], { allowzero: 0 });
  b.node('LayerNormalization', [z, b.constFloat([1, 1]), b.constFloat([0, 0])], {
    outputs: ['out'],
    attrs: {
      axis: -1,
      epsilon: attr.float(1e-5),
      perm: [-3, 0, 2 ** 33],
      alphas: attr.floats([0, -0, 0.1, NaN, Infinity]),
      note: 'ünïcode 𝄞',
    },
  });
  b.op('Identity', [z], { value: attr.tensor({ name: 't', dims: [0], data_type: DataType.FLOAT, raw_data: new Uint8Array() }) });
  b.addOutput('out', 'float32', ['batch', 2]);
  const m = b.toModel({ opset: 17, producer: 'test', producerVersion: '1.0', docString: 'doc ✓', metadata: { k: 'v', '': 'empty key' } });
  m.graph.initializer!.push(
    { name: 'listed', dims: [3], data_type: DataType.FLOAT, float_data: [1.5, -2, 0] },
    { name: 'i64', dims: [2], data_type: DataType.INT64, int64_data: [-1, 2 ** 50] },
    { name: 'i32', dims: [2], data_type: DataType.INT32, int32_data: [-7, 300] },
    {
      name: 'ext',
      dims: [4],
      data_type: DataType.FLOAT,
      data_location: 1,
      external_data: [
        { key: 'location', value: 'model.onnx.data' },
        { key: 'offset', value: '4096' },
      ],
    },
  );
  m.graph.value_info = [
    { name: 'y', type: { tensor_type: { elem_type: DataType.FLOAT, shape: { dim: [{ dim_param: 'batch' }, { dim_value: 0 }] } } } },
  ];
  m.model_version = 0;
  return m;
}

/** A model with a nested graph attribute and fields the project's types leave untyped (decoded as extras). */
function nestedGraphModel(): ModelProto {
  const outer = edgeCaseModel();
  const inner = edgeCaseModel().graph;
  const node = outer.graph.node[0]!;
  (node.attribute ??= []).push({ name: 'then_branch', type: 5, g: inner } as unknown as NonNullable<typeof node.attribute>[number]);
  return outer;
}

const tinyIr = randomIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 2, ffn: 32, vocab: 50 });

describe('sized ONNX encoder', () => {
  const cases: [string, () => ModelProto][] = [
    ['edge cases', edgeCaseModel],
    ['a nested graph attribute', nestedGraphModel],
    ['the with-past decoder of a tiny model', () => buildKvCacheProto(tinyIr)],
    ['the logits graph of a tiny model', () => buildModelProto(tinyIr, { logits: true })],
  ];

  it.each(cases)('writes the same bytes as protobufjs for %s', (_, make) => {
    const bytes = encodeModel(make());
    const reference = encodeModelProtobufjs(make());
    expect(bytes.byteLength).toBe(reference.byteLength);
    expect(Buffer.from(bytes).equals(Buffer.from(reference))).toBe(true);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength); // one buffer of exactly the output's size
  });

  it.each(cases)('round-trips a decoded model (%s)', (_, make) => {
    const bytes = encodeModel(make());
    const decoded = decodeModel(bytes);
    const again = encodeModel(decoded);
    expect(Buffer.from(again).equals(Buffer.from(bytes))).toBe(true);
    expect(Buffer.from(again).equals(Buffer.from(encodeModelProtobufjs(decoded)))).toBe(true);
  });

  it('keeps values through a decode (64-bit ints, float lists, strings, raw_data)', () => {
    const m = decodeModel(encodeModel(edgeCaseModel()));
    const init = (n: string) => m.graph.initializer!.find((t) => t.name === n)!;
    expect(Array.from(readFloatTensor(init('w')))).toEqual([1, -2, 3.5, 0.25, -0, Math.fround(1e-30)]);
    expect(init('i64').int64_data).toEqual([-1, 2 ** 50]);
    expect(init('i32').int32_data).toEqual([-7, 300]);
    expect(init('listed').float_data).toEqual([1.5, -2, 0]);
    expect(init('ext').external_data).toEqual([
      { key: 'location', value: 'model.onnx.data' },
      { key: 'offset', value: '4096' },
    ]);
    const ln = m.graph.node.find((n) => n.op_type === 'LayerNormalization')!;
    const a = (n: string) => ln.attribute!.find((x) => x.name === n)!;
    expect(a('perm')).toMatchObject({ type: AttributeType.INTS, ints: [-3, 0, 2 ** 33] });
    expect(new TextDecoder().decode(a('note').s)).toBe('ünïcode 𝄞');
    expect(m.graph.name).toBe('gräph ✓');
    expect(m.metadata_props).toEqual([
      { key: 'k', value: 'v' },
      { key: '', value: 'empty key' },
    ]);
  });

  it.each([
    ['gpt2', tinyIr],
    ['llama (gate/up, grouped kv heads)', randomLlamaIR({ vocab: 50 })],
  ])("%s: deferred weights encode to the eagerly built graph's protobufjs bytes", (_, ir) => {
    const b = new OnnxGraphBuilder(ir.name, { deferWeights: true });
    const deferredModel = buildKvCacheProto(ir, {}, b);
    expect(b.deferredWeights.size).toBeGreaterThanOrEqual(3 * ir.layers.length); // qkv, o, down (+ up or gate/up) per layer
    expect(deferredModel.graph.initializer!.filter((t) => !t.raw_data)).toHaveLength(b.deferredWeights.size);
    const eager = (bytes: Uint8Array, reference: Uint8Array) => expect(Buffer.from(bytes).equals(Buffer.from(reference))).toBe(true);
    eager(buildKvCacheOnnx(ir), encodeModelProtobufjs(buildKvCacheProto(ir)));
    eager(buildOnnx(ir, { logits: true }), encodeModelProtobufjs(buildModelProto(ir, { logits: true })));
    eager(buildOnnx(ir, { masks: true, taps: true }), encodeModelProtobufjs(buildModelProto(ir, { masks: true, taps: true })));
  });

  /** The sink's writes laid out at their offsets (they must come in order, without gaps). */
  function streamed(model: ModelProto, deferred: Parameters<typeof encodeModelTo>[2], window: number) {
    const chunks: Uint8Array[] = [];
    let end = 0;
    const out = encodeModelTo(
      model,
      (bytes, at) => {
        expect(at).toBe(end);
        chunks.push(bytes.slice()); // the window is reused after the call
        end += bytes.length;
      },
      deferred,
      window,
    );
    return { bytes: Buffer.concat(chunks), placed: out.placed, total: out.bytes };
  }

  it.each([64, 1000, 1 << 22])('streams the same bytes through a %i-byte window, raw_data placed where it lies', (window) => {
    // protobufjs's bytes of the eager graph are the reference; the streamed graph's weights are deferred recipes
    for (const make of [edgeCaseModel, nestedGraphModel]) {
      const got = streamed(make(), undefined, window);
      expect(got.bytes.equals(Buffer.from(encodeModelProtobufjs(make())))).toBe(true);
    }
    const ir = randomLlamaIR({ vocab: 50 });
    const b = new OnnxGraphBuilder(ir.name, { deferWeights: true });
    const model = buildKvCacheProto(ir, {}, b);
    const got = streamed(model, b.deferredWeights, window);
    expect(got.total).toBe(got.bytes.length);
    expect(got.bytes.equals(Buffer.from(encodeModelProtobufjs(buildKvCacheProto(ir))))).toBe(true);
    // every initializer's data is found at its placement: raw_data as given, deferred ones as their recipe computes
    const inits = model.graph.initializer!;
    let checked = 0;
    for (const t of inits) {
      const where = got.placed.get(t);
      const d = b.deferredWeights.get(t);
      const expected = d ? new Uint8Array(materialize(d).buffer) : t.raw_data;
      if (!expected) continue;
      expect(where).toBeDefined();
      expect(where!.length).toBe(expected.byteLength);
      expect(got.bytes.subarray(where!.offset, where!.offset + where!.length).equals(Buffer.from(expected))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(b.deferredWeights.size);
  });
});
