/**
 * Hugging Face config.json -> ArchSpec + per-layer shapes. gpt2 keys (n_layer, n_head, n_embd,
 * n_inner, ...) and llama-family keys (hidden_size, num_attention_heads, num_key_value_heads,
 * head_dim, intermediate_size, ...; model_type llama, qwen2, mistral).
 */
import { ConfigError, UnsupportedModelError } from '../core/errors';
import type { Activation, ArchSpec, Family, LayerShape } from '../core/ir';

export const MODEL_TYPES: Record<string, Family> = { gpt2: 'gpt2', llama: 'llama', qwen2: 'llama', mistral: 'llama' };
const ACTIVATIONS: Record<string, Activation> = {
  gelu_new: 'gelu_new', gelu_pytorch_tanh: 'gelu_new', gelu_fast: 'gelu_new', gelu: 'gelu', silu: 'silu', swish: 'silu', relu: 'relu',
};

type Config = Record<string, unknown>;

function positiveInt(c: Config, key: string, fallback?: number): number {
  const v = c[key] ?? fallback;
  if (v === undefined || v === null) throw new ConfigError(`config.json is missing "${key}".`);
  if (!Number.isInteger(v) || (v as number) <= 0) throw new ConfigError(`config.json "${key}" must be a positive integer, got ${JSON.stringify(v)}.`);
  return v as number;
}

function positiveNumber(c: Config, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !(v > 0)) throw new ConfigError(`config.json "${key}" must be a positive number, got ${JSON.stringify(v)}.`);
  return v;
}

function activation(name: unknown): Activation {
  const a = typeof name === 'string' ? ACTIVATIONS[name] : undefined;
  if (!a) throw new UnsupportedModelError(`Activation "${String(name)}" is not supported.`, `Supported: ${Object.keys(ACTIVATIONS).join(', ')}.`);
  return a;
}

function headDim(hidden: number, heads: number, explicit: unknown, key: string): number {
  if (explicit !== undefined && explicit !== null) return positiveInt({ [key]: explicit }, key);
  if (hidden % heads !== 0) {
    throw new ConfigError(`The hidden size ${hidden} is not divisible by the ${heads} attention heads.`, 'Check n_embd / hidden_size and the head count in config.json.');
  }
  return hidden / heads;
}

function gpt2Spec(c: Config): { spec: ArchSpec; layer: LayerShape } {
  const hidden = positiveInt(c, 'n_embd');
  const heads = positiveInt(c, 'n_head');
  const spec: ArchSpec = {
    family: 'gpt2',
    modelType: 'gpt2',
    numLayers: positiveInt(c, 'n_layer'),
    hiddenSize: hidden,
    headDim: headDim(hidden, heads, undefined, 'head_dim'),
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: positiveInt(c, 'n_positions', (c.n_ctx as number | undefined) ?? 1024),
    norm: 'layernorm',
    normEps: positiveNumber(c, 'layer_norm_epsilon', 1e-5),
    activation: activation(c.activation_function ?? 'gelu_new'),
    gatedMlp: false,
    positions: 'learned',
    tiedEmbeddings: c.tie_word_embeddings !== false,
  };
  const ffn = c.n_inner === null || c.n_inner === undefined ? 4 * hidden : positiveInt(c, 'n_inner');
  return { spec, layer: { numHeads: heads, numKvHeads: heads, ffnSize: ffn } };
}

function llamaSpec(c: Config, modelType: string): { spec: ArchSpec; layer: LayerShape } {
  const hidden = positiveInt(c, 'hidden_size');
  const heads = positiveInt(c, 'num_attention_heads');
  const kv = positiveInt(c, 'num_key_value_heads', heads);
  if (heads % kv !== 0) throw new ConfigError(`num_key_value_heads (${kv}) must divide num_attention_heads (${heads}).`);
  const spec: ArchSpec = {
    family: 'llama',
    modelType,
    numLayers: positiveInt(c, 'num_hidden_layers'),
    hiddenSize: hidden,
    headDim: headDim(hidden, heads, c.head_dim, 'head_dim'),
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: positiveInt(c, 'max_position_embeddings', 2048),
    norm: 'rmsnorm',
    normEps: positiveNumber(c, 'rms_norm_eps', 1e-6),
    activation: activation(c.hidden_act ?? 'silu'),
    gatedMlp: true,
    positions: 'rotary',
    ropeTheta: positiveNumber(c, 'rope_theta', 10000),
    tiedEmbeddings: c.tie_word_embeddings === true,
  };
  return { spec, layer: { numHeads: heads, numKvHeads: kv, ffnSize: positiveInt(c, 'intermediate_size') } };
}

export function normalizeConfig(raw: unknown): { spec: ArchSpec; layers: LayerShape[] } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError('config.json must be a JSON object.');
  const c = raw as Config;
  const modelType = c.model_type;
  const family = typeof modelType === 'string' ? MODEL_TYPES[modelType] : undefined;
  if (!family) {
    throw new UnsupportedModelError(
      `model_type ${JSON.stringify(modelType)} is not supported.`,
      `Supported model types: ${Object.keys(MODEL_TYPES).join(', ')}.`,
    );
  }
  const { spec, layer } = family === 'gpt2' ? gpt2Spec(c) : llamaSpec(c, modelType as string);
  return { spec, layers: Array.from({ length: spec.numLayers }, () => ({ ...layer })) };
}
