/** HF config.json normalisation: gpt2 and llama-family keys, defaults, and every rejection. */
import { describe, expect, it } from 'vitest';
import { ConfigError, UnsupportedModelError } from '../core/errors';
import { normalizeConfig } from '../arch/config';

const GPT2 = {
  model_type: 'gpt2',
  n_layer: 4,
  n_head: 8,
  n_embd: 256,
  n_inner: 1024,
  n_positions: 128,
  vocab_size: 4096,
  layer_norm_epsilon: 1e-5,
};
const LLAMA = {
  model_type: 'llama',
  hidden_size: 64,
  num_hidden_layers: 3,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  intermediate_size: 176,
  max_position_embeddings: 256,
  vocab_size: 1000,
  rms_norm_eps: 1e-5,
};

function expectThrow(config: unknown, cls: typeof ConfigError | typeof UnsupportedModelError, fragment: RegExp): void {
  let caught: unknown;
  try {
    normalizeConfig(config);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  expect((caught as Error).message).toMatch(fragment);
}

describe('normalizeConfig: gpt2', () => {
  it('reads the demo model config', () => {
    const { spec, layers, originalLayerIndex } = normalizeConfig({ ...GPT2, activation_function: 'gelu_new', tie_word_embeddings: true });
    expect(spec).toEqual({
      family: 'gpt2',
      modelType: 'gpt2',
      numLayers: 4,
      hiddenSize: 256,
      headDim: 32,
      vocabSize: 4096,
      maxPositions: 128,
      norm: 'layernorm',
      normEps: 1e-5,
      activation: 'gelu_new',
      gatedMlp: false,
      positions: 'learned',
      tiedEmbeddings: true,
      attention: 'causal',
      normPlacement: 'pre',
      head: 'lm',
    });
    expect(layers).toEqual(Array.from({ length: 4 }, () => ({ numHeads: 8, numKvHeads: 8, ffnSize: 1024 })));
    expect(originalLayerIndex).toEqual([0, 1, 2, 3]);
  });

  it('applies the GPT2Config defaults', () => {
    const { spec, layers } = normalizeConfig({ ...GPT2, n_inner: null, layer_norm_epsilon: undefined });
    expect(layers[0]!.ffnSize).toBe(1024);
    expect(spec.activation).toBe('gelu_new');
    expect(spec.normEps).toBe(1e-5);
    expect(spec.tiedEmbeddings).toBe(true);
    const { n_positions: _, ...noPositions } = GPT2;
    expect(normalizeConfig({ ...noPositions, n_ctx: 64 }).spec.maxPositions).toBe(64);
  });

  it('maps activation names and untied embeddings', () => {
    expect(normalizeConfig({ ...GPT2, activation_function: 'gelu_pytorch_tanh' }).spec.activation).toBe('gelu_new');
    expect(normalizeConfig({ ...GPT2, activation_function: 'gelu' }).spec.activation).toBe('gelu');
    expect(normalizeConfig({ ...GPT2, activation_function: 'relu' }).spec.activation).toBe('relu');
    expect(normalizeConfig({ ...GPT2, tie_word_embeddings: false }).spec.tiedEmbeddings).toBe(false);
  });

  it('reads per-layer shapes of a pruned model (prune_studio.layers)', () => {
    const layersIn = [
      { original_index: 0, num_heads: 8, num_kv_heads: 8, ffn_size: 1024 },
      { original_index: 2, num_heads: 5, num_kv_heads: 5, ffn_size: 700 },
      { original_index: 3, num_heads: 0, num_kv_heads: 0, ffn_size: 0 },
    ];
    const r = normalizeConfig({ ...GPT2, n_layer: 3, prune_studio: { layers: layersIn } });
    expect(r.layers).toEqual([
      { numHeads: 8, numKvHeads: 8, ffnSize: 1024 },
      { numHeads: 5, numKvHeads: 5, ffnSize: 700 },
      { numHeads: 0, numKvHeads: 0, ffnSize: 0 },
    ]);
    expect(r.originalLayerIndex).toEqual([0, 2, 3]);
    expectThrow({ ...GPT2, prune_studio: { layers: layersIn } }, ConfigError, /one entry per layer \(4\)/);
    expectThrow(
      { ...GPT2, n_layer: 3, prune_studio: { layers: [layersIn[0], { ...layersIn[1], num_kv_heads: 4 }, layersIn[2]] } },
      ConfigError,
      /\[1\]: 4 key\/value heads do not fit 5/,
    );
    expectThrow(
      { ...GPT2, n_layer: 3, prune_studio: { layers: [layersIn[1], layersIn[0], layersIn[2]] } },
      ConfigError,
      /original_index 0 is not increasing/,
    );
  });

  it('rejects missing and non-positive-integer fields', () => {
    const { n_layer: _, ...noLayers } = GPT2;
    expectThrow(noLayers, ConfigError, /missing "n_layer"/);
    expectThrow({ ...GPT2, n_head: 0 }, ConfigError, /"n_head" must be a positive integer, got 0/);
    expectThrow({ ...GPT2, n_embd: 25.5 }, ConfigError, /"n_embd" must be a positive integer, got 25.5/);
    expectThrow({ ...GPT2, vocab_size: '4096' }, ConfigError, /"vocab_size" must be a positive integer, got "4096"/);
    expectThrow({ ...GPT2, n_inner: -1 }, ConfigError, /"n_inner" must be a positive integer/);
    expectThrow({ ...GPT2, layer_norm_epsilon: 0 }, ConfigError, /"layer_norm_epsilon" must be a positive number/);
    expectThrow({ ...GPT2, tie_word_embeddings: 'yes' }, ConfigError, /"tie_word_embeddings" must be true or false/);
  });

  it('rejects heads that do not divide the hidden size', () => {
    expectThrow({ ...GPT2, n_head: 7 }, ConfigError, /n_embd \(256\) is not divisible by n_head \(7\)/);
  });

  it('rejects unknown activations and unsupported GPT-2 variants', () => {
    expectThrow(
      { ...GPT2, activation_function: 'mish' },
      UnsupportedModelError,
      /Activation "mish" \(activation_function\) is not supported; supported: gelu_new/,
    );
    expectThrow({ ...GPT2, scale_attn_by_inverse_layer_idx: true }, UnsupportedModelError, /inverse layer index/);
    expectThrow({ ...GPT2, add_cross_attention: true }, UnsupportedModelError, /cross-attention/);
  });
});

describe('normalizeConfig: llama family', () => {
  it('reads llama keys with GQA', () => {
    const { spec, layers } = normalizeConfig(LLAMA);
    expect(spec).toMatchObject({
      family: 'llama',
      modelType: 'llama',
      numLayers: 3,
      hiddenSize: 64,
      headDim: 8,
      norm: 'rmsnorm',
      normEps: 1e-5,
      activation: 'silu',
      gatedMlp: true,
      positions: 'rotary',
      ropeTheta: 10000,
      tiedEmbeddings: false,
      maxPositions: 256,
      vocabSize: 1000,
    });
    expect(layers).toEqual(Array.from({ length: 3 }, () => ({ numHeads: 8, numKvHeads: 2, ffnSize: 176 })));
  });

  it('maps qwen2 and mistral to the llama family and honours head_dim, rope_theta, tying', () => {
    const q = normalizeConfig({
      ...LLAMA,
      model_type: 'qwen2',
      head_dim: 16,
      rope_theta: 1e6,
      tie_word_embeddings: true,
      hidden_act: 'silu',
    });
    expect(q.spec).toMatchObject({ family: 'llama', modelType: 'qwen2', headDim: 16, ropeTheta: 1e6, tiedEmbeddings: true });
    expect(normalizeConfig({ ...LLAMA, model_type: 'mistral' }).spec.family).toBe('llama');
    expect(normalizeConfig({ ...LLAMA, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }).spec.ropeTheta).toBe(5e5);
  });

  it('reads pruned GQA layers only in whole kv groups', () => {
    const entry = (num_heads: number, num_kv_heads: number, original_index: number) => ({
      original_index,
      num_heads,
      num_kv_heads,
      ffn_size: 64,
    });
    const ok = normalizeConfig({ ...LLAMA, num_hidden_layers: 2, prune_studio: { layers: [entry(4, 1, 0), entry(0, 0, 2)] } });
    expect(ok.layers.map((l) => [l.numHeads, l.numKvHeads])).toEqual([
      [4, 1],
      [0, 0],
    ]);
    expectThrow(
      { ...LLAMA, num_hidden_layers: 1, prune_studio: { layers: [entry(6, 4, 0)] } },
      ConfigError,
      /4 key\/value heads do not fit 6 query heads/,
    );
  });

  it('defaults kv heads to the head count', () => {
    const { num_key_value_heads: _, ...noKv } = LLAMA;
    expect(normalizeConfig(noKv).layers[0]).toEqual({ numHeads: 8, numKvHeads: 8, ffnSize: 176 });
  });

  it('rejects bad head arithmetic and missing fields', () => {
    expectThrow({ ...LLAMA, num_key_value_heads: 3 }, ConfigError, /num_key_value_heads \(3\) must divide num_attention_heads \(8\)/);
    expectThrow({ ...LLAMA, num_attention_heads: 6 }, ConfigError, /hidden_size \(64\) is not divisible by num_attention_heads \(6\)/);
    expect(normalizeConfig({ ...LLAMA, num_attention_heads: 6, num_key_value_heads: 2, head_dim: 16 }).spec.headDim).toBe(16);
    const { intermediate_size: _, ...noFfn } = LLAMA;
    expectThrow(noFfn, ConfigError, /missing "intermediate_size"/);
    expectThrow({ ...LLAMA, hidden_act: 'gelu_10' }, UnsupportedModelError, /Activation "gelu_10" \(hidden_act\)/);
    expectThrow({ ...LLAMA, rope_scaling: { rope_type: 'llama3', factor: 8 } }, UnsupportedModelError, /RoPE scaling "llama3"/);
  });
});

describe('normalizeConfig: model_type', () => {
  it('rejects unknown or missing model types and non-objects', () => {
    expectThrow(
      { ...GPT2, model_type: 'bert' },
      UnsupportedModelError,
      /model_type "bert" is not supported; supported model types: gpt2, llama, qwen2, mistral/,
    );
    expectThrow({ ...GPT2, model_type: undefined }, ConfigError, /no "model_type"/);
    expectThrow({ ...GPT2, model_type: 'toString' }, UnsupportedModelError, /"toString" is not supported/);
    expectThrow([GPT2], ConfigError, /must be a JSON object, got an array/);
    expectThrow(null, ConfigError, /must be a JSON object, got null/);
  });
});
