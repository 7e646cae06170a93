/**
 * quantizeApplied: the variant file is the one exportModel writes for that dtype, scored on the
 * tokens of the applied model's perplexity (its fp32 number is the session's), with bytes and
 * latency next to the fp32 file; GPTQ without calibration and a model without a measured
 * perplexity are named errors.
 */
import { describe, expect, it } from 'vitest';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR } from '../test-util/golden';
import { readFileSync } from 'node:fs';
import { createStudioApi } from './studio';
import { InputError } from '../core/errors';

const TEXT = readFileSync('public/data/evaluation.txt', 'utf8');

describe('quantizeApplied', () => {
  it('measures the int8 file export writes, on the applied model’s tokens', async () => {
    let clock = 0;
    const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource, now: () => (clock += 3) });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    expect((await api.quantVariants()).map((v) => [v.name, v.needsCalibration])).toEqual([
      ['fp16', false],
      ['int8', false],
      ['int4-rtn', false],
      ['int4-gptq', true],
    ]);
    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.25, ffn: 0.25, layers: 0 });
    await api.applyPlan({ plan, compensation: 'none' });
    await expect(api.quantizeApplied({ variant: 'int8' })).rejects.toThrow(/no measured perplexity/);
    const fp32 = await api.evaluatePerplexity({
      text: TEXT,
      textName: 'evaluation.txt',
      contextLength: 128,
      stride: 64,
      maxTokens: 300,
      target: 'pruned',
    });
    await expect(api.quantizeApplied({ variant: 'int4-gptq' })).rejects.toBeInstanceOf(InputError);

    const q = await api.quantizeApplied({ variant: 'int8', latency: { seq: 16, warmup: 1, runs: 3 } });
    expect(q.file).toBe('onnx/model_quantized.onnx');
    expect(q.plan).toBe(plan.name);
    expect(Math.abs(q.perplexity.session - fp32.perplexity)).toBe(0);
    expect(q.perplexity.tokensScored).toBe(fp32.protocol.tokensScored);
    expect(Math.abs(q.perplexity.perplexity / fp32.perplexity - 1)).toBeLessThan(0.01);
    expect(q.bytes).toBeLessThan(q.fp32Bytes / 3);
    expect(q.latency.samplesMs).toEqual([3, 3, 3]);
    expect(q.fp32Latency.samplesMs).toEqual([3, 3, 3]);

    const bundle = await api.exportModel({ format: 'onnx', dtype: 'int8' });
    const file = bundle.files.find((f) => f.name === q.file)!;
    expect(file.bytes.length).toBe(q.bytes);
    const fp32Bundle = await api.exportModel({ format: 'onnx', dtype: 'fp32' });
    expect(fp32Bundle.files.find((f) => f.name === 'onnx/model.onnx')!.bytes.length).toBe(q.fp32Bytes);
  }, 120_000);
});
