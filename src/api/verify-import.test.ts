/**
 * The numeric check of ONNX imports (api/verify-import.ts): every ONNX fixture (inline and external
 * data, with past inputs, GQA, rotary) imports and its rebuilt model matches the file on seeded
 * random sequences; the audit's two mutants of the gpt2 export (layer 0's ln_2 Div bypassed, the
 * causal mask's LessOrEqual inputs swapped) import structurally but are refused by the check, with
 * the largest logit difference and the first layer whose output differs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OnnxImportMismatchError } from '../core/errors';
import { dirSource } from '../cli/dir-source';
import { loadModelIR } from '../arch/load';
import { loadOnnxIR } from '../arch/load-onnx';
import { decodeModel, encodeModel } from '../io/onnx';
import type { ModelProto } from '../io/onnx/types';
import { createNodeRunner } from '../runtime/ort-node';
import { fixtureDir, fixtureModels } from '../test-util/model-fixtures';
import { memSource } from '../test-util/tiny-gpt2';
import { adapterFor } from '../arch/registry';
import { buildOnnx } from '../graph/build';
import { quantizeOnnx } from '../quantize/quantize';
import { randomIR } from '../test-util/random-ir';
import { verifyOnnxImport } from './verify-import';

const runner = createNodeRunner({ threads: 1 });
const GPT2 = 'tiny-onnx/gpt2-past';

function gpt2(): ModelProto {
  return decodeModel(new Uint8Array(readFileSync(`${fixtureDir(GPT2)}/model.onnx`)));
}

async function check(m: ModelProto): Promise<unknown> {
  const { ir, onnxSource } = await loadOnnxIR(memSource({ 'model.onnx': encodeModel(m) }, 'mem/mutant'), 'model.onnx', { name: 'mutant' });
  return verifyOnnxImport(runner, ir, onnxSource).then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('numeric check of ONNX imports', () => {
  it.each(fixtureModels('onnx').map((m) => [m.repo] as const))('%s imports and matches its file', async (repo) => {
    const { ir, onnxSource } = await loadModelIR(dirSource(fixtureDir(repo)));
    const r = await verifyOnnxImport(runner, ir, onnxSource!);
    expect(r.maxAbsDiff).toBeLessThan(r.tolerance);
  });

  it("refuses layer 0's ln_2 with its Div bypassed", async () => {
    const m = gpt2();
    const div = m.graph.node.find((n) => n.name === '/transformer/h.0/ln_2/Div')!;
    const mul = m.graph.node.find((n) => n.name === '/transformer/h.0/ln_2/Mul')!;
    mul.input = mul.input.map((i) => (i === div.output[0] ? div.input[0]! : i));
    const e = await check(m);
    expect(e).toBeInstanceOf(OnnxImportMismatchError);
    expect((e as Error).message).toMatch(/logits differ from the rebuilt model's by up to [\d.e+-]+ .*first differs after layer 0/);
    expect((e as OnnxImportMismatchError).firstLayer).toBe(0);
  });

  it('refuses a causal mask with its LessOrEqual inputs swapped', async () => {
    const m = gpt2();
    const le = m.graph.node.find((n) => n.op_type === 'LessOrEqual')!;
    le.input = [le.input[1]!, le.input[0]!];
    const e = await check(m);
    expect(e).toBeInstanceOf(OnnxImportMismatchError);
    expect((e as OnnxImportMismatchError).maxAbsDiff).toBeGreaterThan(1e-2);
  });

  it('accepts the unmutated file through the same path', async () => {
    expect(await check(gpt2())).toBeUndefined();
  });
});

describe("int8 files: each dequantized weight is checked on the file's own quantized activations", () => {
  const int8 = async () => {
    const ir = randomIR({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 96, seed: 7 });
    const bytes = await quantizeOnnx(buildOnnx(ir, { logits: true }), { variant: 'int8' });
    const config = adapterFor(ir.spec).writeConfig(ir);
    const files = {
      'model.onnx': bytes,
      'config.json': { ...config, prune_studio: { ...(config.prune_studio as object), attention_scale_folded: true } },
    };
    return loadOnnxIR(memSource(files, 'mem/int8'), 'model.onnx', { name: 'int8' });
  };

  it('accepts the file and checks every MatMulInteger and the quantized table', async () => {
    const { ir, onnxSource } = await int8();
    const rederived = onnxSource.dequantized!.rederived;
    expect(rederived.filter((r) => r.activation).length).toBe(ir.layers.length * 4 + 1);
    expect(await verifyOnnxImport(runner, ir, onnxSource).then(() => undefined)).toBeUndefined();
  });

  it('refuses a dequantized weight whose one column is 1% off', async () => {
    const { ir, onnxSource } = await int8();
    const fake = onnxSource.dequantized!.fakeQuantized;
    const w = fake.graph.initializer!.find((t) => t.name?.endsWith('.dequantized'))!;
    const data = new Float32Array(w.raw_data!.slice().buffer);
    const N = Number(w.dims![1]);
    for (let r = 0; r < data.length / N; r++) data[r * N + 3] = data[r * N + 3]! * 1.01;
    w.raw_data = new Uint8Array(data.buffer);
    const e = await verifyOnnxImport(runner, ir, onnxSource).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(OnnxImportMismatchError);
    expect((e as Error).message).toMatch(
      /quantized weights were not read as the file computes with them: ".+", computed from the dequantized weights/,
    );
  });
});
