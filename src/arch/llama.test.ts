/**
 * Llama family adapter: the Hub fixtures (llama GQA BF16 untied, llama tied with head_dim != d/H,
 * qwen2 with q/k/v biases in F16, gpt2 sharded and untied F16) load through the real loader and
 * reproduce the independent PyTorch golden logits; names round-trip; export refuses what a Llama
 * checkpoint cannot hold.
 */
import { describe, expect, it } from 'vitest';
import { ShapeMismatchError } from '../core/errors';
import { dirSource } from '../cli/dir-source';
import { createNodeRunner } from '../runtime/ort-node';
import { fixtureDir, fixtureModels } from '../test-util/model-fixtures';
import { irGoldenDiff } from '../test-util/golden-logits';
import { randomLlamaIR } from '../test-util/random-llama';
import { llamaAdapter } from './llama';
import { loadModelIR } from './load';

const runner = createNodeRunner({ threads: 1 });

describe('safetensors fixtures vs the PyTorch golden', () => {
  it.each(fixtureModels('safetensors').map((m) => [m.repo, m] as const))('%s', async (repo, m) => {
    const { ir } = await loadModelIR(dirSource(fixtureDir(repo)));
    expect(ir.spec.family).toBe(m.family);
    expect(ir.spec.modelType).toBe(m.model_type);
    expect(ir.spec.tiedEmbeddings).toBe(m.tied);
    expect(await irGoldenDiff(runner, ir, m.golden)).toBeLessThan(1e-3);
  });

  it('reads grouped-query attention, head_dim and biases from the checkpoint', async () => {
    const gqa = (await loadModelIR(dirSource(fixtureDir('tiny/llama-gqa-bf16')))).ir;
    expect(gqa.layers[0]).toEqual({ numHeads: 4, numKvHeads: 2, ffnSize: 64 });
    expect(gqa.weights.layers[0]!.k.weight.shape).toEqual([16, 32]);
    const tied = (await loadModelIR(dirSource(fixtureDir('tiny/llama-tied')))).ir;
    expect(tied.spec.headDim).toBe(16);
    expect(tied.weights.lmHead).toBeUndefined();
    const qwen = (await loadModelIR(dirSource(fixtureDir('tiny/qwen2-f16')))).ir;
    expect(qwen.layers[0]).toMatchObject({ numHeads: 4, numKvHeads: 1 });
    expect(qwen.weights.layers[1]!.v.bias?.shape).toEqual([8]);
  });
});

describe('llama adapter mapping', () => {
  it('round-trips HF names (untied, with q/k/v biases)', () => {
    const ir = randomLlamaIR({ qkvBias: true });
    const tensors = llamaAdapter.toTensors(ir);
    expect(Object.keys(tensors)).toContain('model.layers.1.self_attn.k_proj.bias');
    expect(Object.keys(tensors)).toContain('lm_head.weight');
    const back = llamaAdapter.fromTensors(ir.spec, ir.layers, (n) => tensors[n], ir.name);
    expect(back.weights).toEqual(ir.weights);
  });

  it('treats an lm_head equal to the embedding as tied', () => {
    const ir = randomLlamaIR();
    const tensors = llamaAdapter.toTensors(ir);
    tensors['lm_head.weight'] = tensors['model.embed_tokens.weight']!;
    expect(llamaAdapter.fromTensors(ir.spec, ir.layers, (n) => tensors[n], 'x').spec.tiedEmbeddings).toBe(true);
  });

  it('names a missing or misshapen tensor, and refuses to export an o_proj bias', () => {
    const ir = randomLlamaIR();
    const tensors = llamaAdapter.toTensors(ir);
    const without = (name: string) => (n: string) => (n === name ? undefined : tensors[n]);
    expect(() => llamaAdapter.fromTensors(ir.spec, ir.layers, without('model.layers.1.mlp.up_proj.weight'), 'x', 'f')).toThrow(
      /Tensor "model.layers.1.mlp.up_proj.weight" is missing from f/,
    );
    const wide = ir.layers.map((l) => ({ ...l, numKvHeads: 4 }));
    expect(() => llamaAdapter.fromTensors(ir.spec, wide, (n) => tensors[n], 'x')).toThrow(
      /"model.layers.0.self_attn.k_proj.weight" has shape \[16, 16\], but config.json implies \[32, 16\]/,
    );
    const compensated = randomLlamaIR();
    compensated.weights.layers[0]!.o.bias = { shape: [16], data: new Float32Array(16).fill(0.5) };
    expect(() => llamaAdapter.toTensors(compensated)).toThrow(ShapeMismatchError);
  });
});
