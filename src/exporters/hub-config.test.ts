/**
 * config.json of a bundle (hub-config.ts): Hub-layout top-level keys exactly when the layers share
 * one shape the family's transformers config class can describe, per-layer shapes always; and the
 * keys written are ones the transformers config classes read. No transformers here (no python
 * torch/transformers on the dev machines), so the check is against the keys of the config classes'
 * sources: GPT2Config.__init__ and the LlamaConfig dataclass fields (transformers main, 2025;
 * LlamaConfig also validates hidden_size % num_attention_heads == 0), plus PretrainedConfig's own.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../core/ir';
import { emptyPlan } from '../core/plan';
import { sliceModel } from '../prune/slice';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { adapterFor } from '../arch/registry';
import { bundleConfig, hubLayout } from './hub-config';

const PRETRAINED = ['model_type', 'architectures', 'tie_word_embeddings', 'bos_token_id', 'eos_token_id', 'pad_token_id', 'torch_dtype'];
const GPT2_CONFIG = [
  ...PRETRAINED,
  'vocab_size',
  'n_positions',
  'n_embd',
  'n_layer',
  'n_head',
  'n_inner',
  'activation_function',
  'layer_norm_epsilon',
];
const LLAMA_CONFIG = [
  ...PRETRAINED,
  'vocab_size',
  'hidden_size',
  'intermediate_size',
  'num_hidden_layers',
  'num_attention_heads',
  'num_key_value_heads',
  'hidden_act',
  'max_position_embeddings',
  'rms_norm_eps',
  'rope_parameters',
  // read by transformers < 5 (5 converts it into rope_parameters)
  'rope_theta',
  'head_dim',
];

function pruned(ir: ModelIR, edit: (p: ReturnType<typeof emptyPlan>) => void): ModelIR {
  const p = emptyPlan(ir, 'test');
  edit(p);
  return sliceModel(ir, p);
}

const gpt2 = () => randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50, seed: 3 });
const llama = () => randomLlamaIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 2, ffn: 32, vocab: 50, seed: 3, headDim: 4 });

describe('hubLayout / bundleConfig', () => {
  it('GPT-2: uniform FFN pruning keeps the Hub layout (n_inner rewritten); pruned heads cannot (no head_dim key)', () => {
    const ffn = pruned(gpt2(), (p) => p.layers.forEach((l) => (l.removedFfn = [0, 1, 2, 3])));
    expect(hubLayout(ffn)).toEqual({ ok: true });
    const c = bundleConfig({ base: { model_type: 'gpt2', n_head: 4, n_inner: null, extra: 1 }, ir: ffn, pruneStudio: { format: 'x' } });
    expect(c).toMatchObject({ n_layer: 2, n_head: 4, n_inner: 28, n_embd: 16, extra: 1 });
    const written = Object.keys(adapterFor(ffn.spec).writeConfig(ffn));
    expect(written.filter((k) => !GPT2_CONFIG.includes(k))).toEqual([]);
    const heads = pruned(gpt2(), (p) => p.layers.forEach((l) => (l.removedHeads = [1])));
    const layout = hubLayout(heads);
    expect(layout.ok).toBe(false);
    expect(!layout.ok && layout.reason).toMatch(/no head_dim: transformers derives it as n_embd \/ n_head/);
    const c2 = bundleConfig({ base: { model_type: 'gpt2', n_head: 4, n_layer: 2 }, ir: heads, pruneStudio: {} });
    // The source geometry stays (our loader derives head_dim = n_embd / n_head); shapes are per layer.
    expect(c2).toMatchObject({ n_head: 4, prune_studio: { hub_layout: false, layers: [{ num_heads: 3 }, { num_heads: 3 }] } });
  });

  it('Llama: uniform pruning writes num_attention_heads / num_key_value_heads / intermediate_size / head_dim', () => {
    const ir = pruned(llama(), (p) =>
      p.layers.forEach((l) => {
        l.removedHeads = [2, 3];
        l.removedFfn = [5, 6];
      }),
    );
    expect(hubLayout(ir)).toEqual({ ok: true });
    const c = bundleConfig({
      base: { model_type: 'llama', num_attention_heads: 4, 'transformers.js_config': { dtype: 'q4' } },
      ir,
      pruneStudio: {},
      exporter: { pruneStudio: { attention_scale_folded: true } },
    });
    expect(c).toMatchObject({ num_attention_heads: 2, num_key_value_heads: 1, intermediate_size: 30, head_dim: 4, hidden_size: 16 });
    expect(c).not.toHaveProperty('transformers.js_config');
    expect(c.prune_studio).toMatchObject({ hub_layout: true, attention_scale_folded: true });
    const written = Object.keys(adapterFor(ir.spec).writeConfig(ir));
    expect(written.filter((k) => !LLAMA_CONFIG.includes(k))).toEqual([]);
  });

  it('Llama: layers of different shapes, or heads that do not divide hidden_size, keep the per-layer config only', () => {
    const mixed = pruned(llama(), (p) => (p.layers[1]!.removedHeads = [2, 3]));
    const layout = hubLayout(mixed);
    expect(!layout.ok && layout.reason).toMatch(/layers differ in shape \(layer 0: 4 heads \/ 2 kv heads \/ FFN 32; layer 1: 2 heads/);
    const c = bundleConfig({ base: { model_type: 'llama', num_attention_heads: 4, num_hidden_layers: 2 }, ir: mixed, pruneStudio: {} });
    expect(c).toMatchObject({ num_attention_heads: 4, prune_studio: { hub_layout: false } });
    const three = randomLlamaIR({ layers: 1, hidden: 16, heads: 3, kvHeads: 3, ffn: 8, vocab: 20, seed: 1, headDim: 4 });
    expect(hubLayout(three)).toMatchObject({ ok: false, reason: expect.stringMatching(/divisible by num_attention_heads \(3\)/) });
  });
});
