/**
 * Quantization: the packed int4 format against a straightforward reference written here; GPTQ
 * against round-to-nearest on the layer reconstruction error; every variant of tiny gpt2 / llama
 * models runs in onnxruntime-node next to the fp32 graph; bad input is refused by name.
 */
import { describe, expect, it } from 'vitest';
import { NumericError } from '../core/errors';
import { asFloat32, int64Tensor } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { decodeModel, encodeModel, floatTensorProto } from '../io/onnx';
import { createNodeRunner } from '../runtime/ort-node';
import { mulberry32 } from '../eval/generate';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { checkBlockSize, dequantizeInt4, packInt4, quantizeRtn, SYM_DIVISOR } from './blocks';
import { quantizeGptq } from './gptq';
import { fromHalfBits, toHalfBits } from './scalar';
import { applyTables, quantizeOnnx, quantizeTables } from './quantize';
import { findTargets, transpose } from './targets';
import { QUANT_VARIANTS, quantMethod } from './registry';

const runner = createNodeRunner({ threads: 1 });

/** Reference dequantization straight from the byte layout: B[n][blk][j] low nibble = even k. */
function referenceDequant(b: Uint8Array, scales: Float32Array, zp: Uint8Array, n: number, k: number, bs: number): Float64Array {
  const nb = Math.ceil(k / bs);
  const out = new Float64Array(n * k);
  for (let row = 0; row < n; row++)
    for (let col = 0; col < k; col++) {
      const blk = Math.floor(col / bs);
      const within = col % bs;
      const byte = b[row * nb * (bs / 2) + blk * (bs / 2) + Math.floor(within / 2)]!;
      const code = within % 2 === 0 ? byte & 0x0f : byte >> 4;
      const zbyte = zp[row * Math.ceil(nb / 2) + Math.floor(blk / 2)]!;
      const zero = blk % 2 === 0 ? zbyte & 0x0f : zbyte >> 4;
      out[row * k + col] = (code - zero) * scales[row * nb + blk]!;
    }
  return out;
}

function randomMatrix(n: number, k: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * k }, () => (r() - 0.5) * (1 + 3 * r()));
}

const models = [
  ['gpt2', () => randomIR({ layers: 2, hidden: 64, heads: 2, ffn: 80, vocab: 50, seed: 3 })],
  ['llama', () => randomLlamaIR({ layers: 2, hidden: 64, heads: 2, kvHeads: 2, ffn: 96, vocab: 50, seed: 3 })],
] as const;

describe('int4 packed format', () => {
  it.each([
    [5, 64],
    [3, 80],
    [4, 96],
  ])('dequantizes like the reference (N=%i, K=%i, padded when K %% 32 != 0)', (n, k) => {
    const w = randomMatrix(n, k, n * k);
    const q = quantizeRtn(w, n, k, 32);
    const { b, zeroPoints } = packInt4(q);
    const ref = referenceDequant(b, q.scales, zeroPoints, n, k, 32);
    const ours = dequantizeInt4(q);
    let maxErr = 0;
    for (let i = 0; i < ours.length; i++) {
      expect(ours[i]).toBeCloseTo(ref[i]!, 6);
      maxErr = Math.max(maxErr, Math.abs(ours[i]! - w[i]!));
    }
    // rounding error is at most half a step of the coarsest block
    expect(maxErr).toBeLessThanOrEqual((Math.max(...q.scales) / 2) * 1.0001);
  });

  it('refuses block sizes MatMulNBits cannot run', () => {
    expect(() => checkBlockSize(24)).toThrow(/power of two/);
    expect(() => checkBlockSize(8)).toThrow(/Block size 8/);
  });
});

describe('symmetric int4 (zero point 8, no zero_points input)', () => {
  it('rounds a hand-computed block: scale = absmax / 7, codes q - 8 in -7..7, padding = 8', () => {
    expect(SYM_DIVISOR).toBe(7);
    // row 0: absmax 1.4 -> scale 0.2; 1.4 -> 7 (code 15), -0.8 -> -4 (4), 0.25 -> 1.25 -> 1 (9),
    // -0.45 -> -2.25 -> -2 (6), -1.22 -> -6.1 -> -6 (2), 0 -> 8. Row 1: all zero -> scale 1.
    const k = 40; // two blocks of 32, the second padded
    const w = new Float32Array(2 * k);
    w.set([1.4, -0.8, 0.25, -0.45, -1.22], 0);
    w[33] = -0.35; // block 2 of row 0: absmax 0.35 -> scale 0.05, -0.35 -> -7 (code 1)
    const q = quantizeRtn(w, 2, k, 32, true);
    expect(q.symmetric).toBe(true);
    expect(Array.from(q.scales)).toEqual([Math.fround(Math.fround(1.4) / 7), Math.fround(Math.fround(0.35) / 7), 1, 1]);
    expect(Array.from(q.zeros)).toEqual([8, 8, 8, 8]);
    expect(Array.from(q.codes.slice(0, 6))).toEqual([15, 4, 9, 6, 2, 8]);
    expect(q.codes[33]).toBe(1);
    expect(Array.from(q.codes.slice(40, 64))).toEqual(new Array(24).fill(8)); // padding of row 0, block 2
    expect(Array.from(q.codes.slice(64))).toEqual(new Array(64).fill(8));
    const d = dequantizeInt4(q);
    expect(d[0]).toBeCloseTo(1.4, 6);
    expect(d[4]).toBeCloseTo(-1.2, 6);
    expect(d[33]).toBeCloseTo(-0.35, 6);
    // the packed codes read back with the default zero point 8
    const ref = referenceDequant(packInt4(q).b, q.scales, new Uint8Array(2).fill(0x88), 2, k, 32);
    for (let i = 0; i < d.length; i++) expect(d[i]).toBeCloseTo(ref[i]!, 6);
  });

  it.each(models)(
    '%s: GPTQ symmetric file has no zero points, runs in onnxruntime-node and matches its dequantized fp32 graph',
    async (_family, make) => {
      const fp32 = decodeModel(buildOnnx(make(), { logits: true }));
      const calibration = [Array.from({ length: 16 }, (_, i) => (i * 7 + 1) % 50), Array.from({ length: 16 }, (_, i) => (i * 13 + 5) % 50)];
      const tables = await quantizeTables(fp32, { variant: 'int4-gptq', int4Symmetric: true, calibration, runner });
      const bytes = applyTables(encodeModel(fp32), tables);
      const graph = decodeModel(bytes).graph;
      const nbits = graph.node.filter((n) => n.op_type === 'MatMulNBits');
      expect(nbits.length).toBeGreaterThan(0);
      expect(nbits.every((n) => n.input.length === 3)).toBe(true);
      expect((graph.initializer ?? []).some((t) => t.name?.endsWith('.zp'))).toBe(false);
      // the same graph with every table's dequantized weights in float32 (a MatMul's B is Wᵀ)
      const matmul = new Set(
        findTargets(fp32)
          .filter((t) => t.uses.includes('matmul'))
          .map((t) => t.name),
      );
      const deq = {
        ...fp32,
        graph: {
          ...fp32.graph,
          initializer: (fp32.graph.initializer ?? []).map((t) => {
            const table = tables.tables.get(t.name ?? '');
            if (table?.kind !== 'int4') return t;
            const w = dequantizeInt4(table.q);
            const [d0, d1] = [t.dims![0]!, t.dims![1]!];
            return floatTensorProto(t.name!, matmul.has(t.name!) ? transpose(w, d1, d0) : w, [d0, d1]);
          }),
        },
      };
      const probe = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
      const run = async (b: Uint8Array) => {
        const s = await runner.open(b);
        try {
          return asFloat32((await s.run({ input_ids: int64Tensor(probe, [1, probe.length]) }, ['logits'])).logits, 'logits');
        } finally {
          await s.release();
        }
      };
      const [a, b] = [await run(encodeModel(deq)), await run(bytes)];
      let diff = 0;
      let maxAbs = 0;
      for (let i = 0; i < a.length; i++) {
        diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
        maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
      }
      expect(diff).toBeLessThan(1e-4 * Math.max(1, maxAbs));
    },
  );
});

describe('GPTQ', () => {
  it('reconstructs W X better than round-to-nearest on correlated inputs', () => {
    const [n, k, tokens] = [16, 96, 400];
    const r = mulberry32(7);
    const w = randomMatrix(n, k, 11);
    // correlated inputs: x = A z with a random mixing matrix
    const mix = Float64Array.from({ length: k * 8 }, () => r() - 0.5);
    const x = new Float64Array(tokens * k);
    for (let t = 0; t < tokens; t++) {
      const z = Array.from({ length: 8 }, () => r() - 0.5);
      for (let i = 0; i < k; i++) {
        let s = 0.05 * (r() - 0.5);
        for (let m = 0; m < 8; m++) s += mix[i * 8 + m]! * z[m]!;
        x[t * k + i] = s;
      }
    }
    const gram = new Float64Array(k * k);
    for (let t = 0; t < tokens; t++)
      for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) gram[i * k + j] = gram[i * k + j]! + x[t * k + i]! * x[t * k + j]!;
    const err = (q: Float32Array) => {
      let e = 0;
      for (let t = 0; t < tokens; t++)
        for (let row = 0; row < n; row++) {
          let d = 0;
          for (let i = 0; i < k; i++) d += (w[row * k + i]! - q[row * k + i]!) * x[t * k + i]!;
          e += d * d;
        }
      return e;
    };
    const rtn = err(dequantizeInt4(quantizeRtn(w, n, k, 32)));
    const gptq = err(dequantizeInt4(quantizeGptq(w, n, k, gram, tokens, 32)));
    expect(gptq).toBeLessThan(0.7 * rtn);
  });
});

describe.each(models)('%s: every variant runs in onnxruntime-node', (_family, make) => {
  const ir = make();
  const fp32 = buildOnnx(ir, { logits: true });
  const probe = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
  const feeds = { input_ids: int64Tensor(probe, [1, probe.length]) };
  const calibration = [Array.from({ length: 16 }, (_, i) => (i * 7 + 1) % 50), Array.from({ length: 16 }, (_, i) => (i * 13 + 5) % 50)];
  const logits = async (bytes: Uint8Array) => {
    const s = await runner.open(bytes);
    try {
      return asFloat32((await s.run(feeds, ['logits'])).logits, 'logits');
    } finally {
      await s.release();
    }
  };
  it.each(QUANT_VARIANTS.map((v) => [v]))('%s', async (variant) => {
    const q = await quantizeOnnx(fp32, { variant, calibration, runner });
    expect(q.length).toBeLessThan(fp32.length);
    const [a, b] = [await logits(fp32), await logits(q)];
    let maxAbs = 0;
    let diff = 0;
    for (let i = 0; i < a.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(a[i]!));
      diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
    }
    expect(diff).toBeLessThan(quantMethod(variant).tolerance);
    if (variant === 'fp16') expect(diff).toBeLessThan(1e-2 * Math.max(1, maxAbs));
  });
});

describe('bad input', () => {
  it('refuses NaN weights by name', async () => {
    const ir = randomIR({ layers: 1, hidden: 32, heads: 2, ffn: 32, vocab: 20, seed: 1 });
    const model = decodeModel(buildOnnx(ir, { logits: true }));
    const w = model.graph.initializer!.find((t) => t.name?.includes('up.weight_t'))!;
    new DataView(w.raw_data!.buffer, w.raw_data!.byteOffset).setFloat32(0, NaN, true);
    await expect(quantizeOnnx(encodeModel(model), { variant: 'int4-rtn' })).rejects.toThrow(NumericError);
    await expect(quantizeOnnx(encodeModel(model), { variant: 'int8' })).rejects.toThrow(/holds NaN/);
  });
  it('names unknown variants and GPTQ without calibration', async () => {
    const bytes = buildOnnx(randomIR({ layers: 1, hidden: 32, heads: 2, ffn: 32, vocab: 20, seed: 1 }), { logits: true });
    await expect(quantizeOnnx(bytes, { variant: 'int3' as 'int8' })).rejects.toThrow(/Unknown quantization variant "int3"/);
    await expect(quantizeOnnx(bytes, { variant: 'int4-gptq' })).rejects.toThrow(/needs calibration/);
  });
});

describe('half floats', () => {
  it('rounds to binary16 like IEEE 754 (nearest even, overflow to Inf, subnormals)', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00);
    expect(toHalfBits(2 ** -24)).toBe(0x0001);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    for (const x of [0.1, -3.14159, 1e-5, 1234.5])
      expect(Math.abs(fromHalfBits(toHalfBits(x)) - x)).toBeLessThanOrEqual(Math.max(Math.abs(x) * 2 ** -11, 2 ** -25));
  });
});
