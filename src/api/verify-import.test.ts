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
