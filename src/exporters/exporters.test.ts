/**
 * The exporters room on tiny random models (gpt2 and llama): every registered format writes a
 * model that, re-loaded through the runner, reproduces the masked full-size reference of the same
 * plan; a model that does not match is refused; unknown formats and dtypes are named errors.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { emptyPlan, type PruningPlan } from '../core/plan';
import { planMasks } from '../prune/masks';
import { sliceModel } from '../prune/slice';
import { createNodeRunner } from '../runtime/ort-node';
import { maskFeeds } from '../saliency/calibrate';
import { onesMasks } from '../saliency/criteria/ablation';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { EXPORT_FORMATS, EXPORT_TOLERANCE, exporterFor, writeVerified } from './registry';
import type { ExportSubject } from './types';

const runner = createNodeRunner({ threads: 1 });

function plan(ir: ModelIR): PruningPlan {
  const p = emptyPlan(ir, 'test');
  p.layers[0]!.removedHeads = [1];
  p.layers[1]!.removedFfn = [0, 3, 5, 6, 7, 20];
  return p;
}

function subject(ir: ModelIR, masked = true): ExportSubject {
  const p = plan(ir);
  const [L, H, F] = [ir.layers.length, ir.layers[0]!.numHeads, ir.layers[0]!.ffnSize];
  const masks = masked ? planMasks(p) : onesMasks(L, H, F);
  return {
    ir: sliceModel(ir, p),
    reference: { ir, masks: true, feeds: maskFeeds(masks, L, H, F), label: 'masked reference' },
    probe: [3, 1, 4, 1, 5, 9, 2, 6],
  };
}

const models: [string, () => ModelIR][] = [
  ['gpt2', () => randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50, seed: 3 })],
  ['llama', () => randomLlamaIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 4, ffn: 32, vocab: 50, seed: 3 })],
];

describe.each(models)('%s', (_family, make) => {
  it.each(EXPORT_FORMATS.map((f) => [f]))('%s: writes, re-loads and matches the masked reference', async (format) => {
    const s = subject(make());
    const { files, verification } = await writeVerified({ format, dtype: 'fp32' }, s, runner);
    expect(files.map((f) => f.name)).toEqual([format === 'onnx' ? 'onnx/model.onnx' : 'model.safetensors']);
    expect(verification.positions).toBe(8);
    expect(verification.reference).toBe('masked reference');
    expect(verification.maxAbsLogitDiff).toBeLessThan(1e-4);
  });

  it.each(EXPORT_FORMATS.map((f) => [f]))('%s: a model that differs from its reference is refused', async (format) => {
    const s = subject(make(), false);
    const e = exporterFor({ format, dtype: 'fp32' });
    const v = await e.verify(e.write(s.ir, { format, dtype: 'fp32' }), s, runner);
    expect(v.maxAbsLogitDiff).toBeGreaterThan(EXPORT_TOLERANCE);
    await expect(writeVerified({ format, dtype: 'fp32' }, s, runner)).rejects.toThrow(/differs from the preview/);
  });
});

describe('registry', () => {
  it('names unknown formats and dtypes', () => {
    expect(() => exporterFor({ format: 'gguf' as 'onnx', dtype: 'fp32' })).toThrow(InputError);
    expect(() => exporterFor({ format: 'gguf' as 'onnx', dtype: 'fp32' })).toThrow(/Unknown export format "gguf"/);
    expect(() => exporterFor({ format: 'onnx', dtype: 'int4' as 'fp32' })).toThrow(/supports fp32(, [a-z0-9-]+)*, not "int4"/);
  });
});
