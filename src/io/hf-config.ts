/**
 * Hugging Face config.json -> ArchSpec + per-layer shapes (the family-agnostic view of src/core/ir).
 * gpt2 keys (n_layer, n_head, n_embd, n_inner, n_positions, activation_function, ...) and llama-
 * family keys (hidden_size, num_attention_heads, num_key_value_heads, head_dim, intermediate_size,
 * rms_norm_eps, rope_theta, ...; model_type llama, qwen2, mistral). A config written by Prune Studio
 * for a pruned model carries per-layer shapes under `prune_studio.layers`, which are honoured.
 * Structural fields are required; the rest take the defaults of the transformers config classes.
 */
import { ConfigError, UnsupportedModelError } from '../core/errors';
import type { Activation, ArchSpec, Family, LayerShape } from '../core/ir';

/** model_type -> family. Adding a model type of a known family is one line here. */
export const MODEL_TYPES: Readonly<Record<string, Family>> = { gpt2: 'gpt2', llama: 'llama', qwen2: 'llama', mistral: 'llama' };

/** transformers ACT2FN names -> IR activation (gelu_pytorch_tanh and gelu_fast are the tanh form). */
export const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  gelu_fast: 'gelu_new',
  gelu: 'gelu',
  silu: 'silu',
  swish: 'silu',
  relu: 'relu',
};

export interface NormalizedConfig {
  spec: ArchSpec;
  /** One shape per layer present in the checkpoint. */
  layers: LayerShape[];
  /** Original index of each layer (identity unless the config describes a pruned model). */
  originalLayerIndex: number[];
}

type Config = Record<string, unknown>;
type Base = Omit<NormalizedConfig, 'originalLayerIndex'>;

export function normalizeConfig(raw: unknown): NormalizedConfig {
  if (!isObject(raw)) throw new ConfigError(`config.json must be a JSON object, got ${describe(raw)}.`);
  const modelType = raw.model_type;
  if (modelType === undefined) throw new ConfigError('config.json has no "model_type".', supportedHint());
  const family = typeof modelType === 'string' && Object.hasOwn(MODEL_TYPES, modelType) ? MODEL_TYPES[modelType] : undefined;
  if (!family) {
    throw new UnsupportedModelError(
      `model_type ${JSON.stringify(modelType)} is not supported; supported model types: ${Object.keys(MODEL_TYPES).join(', ')}.`,
    );
  }
  const base = family === 'gpt2' ? gpt2Config(raw) : llamaConfig(raw, modelType as string);
  return withPrunedLayers(raw, base);
}

function gpt2Config(c: Config): Base {
  for (const [key, bad, what] of [
    ['add_cross_attention', true, 'cross-attention'],
    ['scale_attn_weights', false, 'unscaled attention'],
    ['scale_attn_by_inverse_layer_idx', true, 'attention scaled by inverse layer index'],
  ] as const) {
    if (c[key] === bad) throw new UnsupportedModelError(`GPT-2 with ${what} (${key}: ${String(bad)}) is not supported.`);
  }
  const hidden = positiveInt(c, 'n_embd');
  const heads = positiveInt(c, 'n_head');
  const spec: ArchSpec = {
    family: 'gpt2',
    modelType: 'gpt2',
    numLayers: positiveInt(c, 'n_layer'),
    hiddenSize: hidden,
    headDim: dividedHeadDim(hidden, heads, 'n_embd', 'n_head'),
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: c.n_positions === undefined && c.n_ctx !== undefined ? positiveInt(c, 'n_ctx') : positiveInt(c, 'n_positions'),
    norm: 'layernorm',
    normEps: positiveNumber(c, 'layer_norm_epsilon', 1e-5),
    activation: activation(c, 'activation_function', 'gelu_new'),
    gatedMlp: false,
    positions: 'learned',
    tiedEmbeddings: bool(c, 'tie_word_embeddings', true),
  };
  const ffnSize = c.n_inner === null || c.n_inner === undefined ? 4 * hidden : positiveInt(c, 'n_inner');
  return { spec, layers: uniform(spec.numLayers, { numHeads: heads, numKvHeads: heads, ffnSize }) };
}

function llamaConfig(c: Config, modelType: string): Base {
  const hidden = positiveInt(c, 'hidden_size');
  const heads = positiveInt(c, 'num_attention_heads');
  const kvHeads = c.num_key_value_heads === undefined || c.num_key_value_heads === null ? heads : positiveInt(c, 'num_key_value_heads');
  if (heads % kvHeads !== 0) {
    throw new ConfigError(`num_key_value_heads (${kvHeads}) must divide num_attention_heads (${heads}).`);
  }
  checkRopeScaling(c);
  const rope = isObject(c.rope_parameters) ? c.rope_parameters : {};
  const spec: ArchSpec = {
    family: 'llama',
    modelType,
    numLayers: positiveInt(c, 'num_hidden_layers'),
    hiddenSize: hidden,
    headDim:
      c.head_dim === undefined || c.head_dim === null
        ? dividedHeadDim(hidden, heads, 'hidden_size', 'num_attention_heads')
        : positiveInt(c, 'head_dim'),
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: slidingWindowLimit(c, positiveInt(c, 'max_position_embeddings')),
    norm: 'rmsnorm',
    normEps: positiveNumber(c, 'rms_norm_eps', 1e-6),
    activation: activation(c, 'hidden_act', 'silu'),
    gatedMlp: true,
    positions: 'rotary',
    ropeTheta:
      c.rope_theta === undefined && rope.rope_theta !== undefined
        ? positiveNumber(rope, 'rope_theta', 10000)
        : positiveNumber(c, 'rope_theta', 10000),
    tiedEmbeddings: bool(c, 'tie_word_embeddings', false),
  };
  const ffnSize = positiveInt(c, 'intermediate_size');
  return { spec, layers: uniform(spec.numLayers, { numHeads: heads, numKvHeads: kvHeads, ffnSize }) };
}

/** Only plain RoPE is implemented; scaled variants (linear, dynamic, yarn, llama3) would give wrong logits. */
function checkRopeScaling(c: Config): void {
  for (const key of ['rope_scaling', 'rope_parameters'] as const) {
    const r = c[key];
    if (r === undefined || r === null) continue;
    const type = isObject(r) ? (r.rope_type ?? r.type ?? 'default') : r;
    if (type !== 'default')
      throw new UnsupportedModelError(`RoPE scaling ${JSON.stringify(type)} (${key}) is not supported; only plain rotary embeddings are.`);
  }
}

/**
 * Mistral / Qwen2 sliding-window attention equals full attention on sequences no longer than the
 * window, so the usable context is capped at the window instead of refusing the model.
 */
function slidingWindowLimit(c: Config, maxPositions: number): number {
  const window = c.sliding_window;
  const active = c.use_sliding_window ?? c.model_type === 'mistral';
  if (!active || window === undefined || window === null) return maxPositions;
  return Math.min(maxPositions, positiveInt(c, 'sliding_window'));
}

/** Per-layer shapes of a pruned model (`prune_studio.layers`, written by api/model-card.ts). */
function withPrunedLayers(c: Config, base: Base): NormalizedConfig {
  const identity = base.layers.map((_, i) => i);
  const ps = c.prune_studio;
  if (!isObject(ps) || ps.layers === undefined) return { ...base, originalLayerIndex: identity };
  if (!Array.isArray(ps.layers) || ps.layers.length !== base.spec.numLayers) {
    throw new ConfigError(`prune_studio.layers must list one entry per layer (${base.spec.numLayers}).`);
  }
  const gqa = base.spec.family !== 'gpt2';
  const layers: LayerShape[] = [];
  const originalLayerIndex: number[] = [];
  ps.layers.forEach((entry: unknown, i) => {
    const where = `prune_studio.layers[${i}]`;
    if (!isObject(entry)) throw new ConfigError(`${where} must be an object.`);
    const numHeads = nonNegativeInt(entry, 'num_heads', where);
    const numKvHeads = nonNegativeInt(entry, 'num_kv_heads', where);
    const ffnSize = nonNegativeInt(entry, 'ffn_size', where);
    if (gqa ? (numKvHeads === 0 ? numHeads !== 0 : numHeads % numKvHeads !== 0) : numKvHeads !== numHeads) {
      throw new ConfigError(`${where}: ${numKvHeads} key/value heads do not fit ${numHeads} query heads.`);
    }
    const orig = nonNegativeInt(entry, 'original_index', where);
    if (orig <= (originalLayerIndex.at(-1) ?? -1)) throw new ConfigError(`${where}: original_index ${orig} is not increasing.`);
    layers.push({ numHeads, numKvHeads, ffnSize });
    originalLayerIndex.push(orig);
  });
  return { spec: base.spec, layers, originalLayerIndex };
}

function uniform(n: number, shape: LayerShape): LayerShape[] {
  return Array.from({ length: n }, () => ({ ...shape }));
}

function dividedHeadDim(hidden: number, heads: number, hiddenKey: string, headsKey: string): number {
  if (hidden % heads !== 0) {
    throw new ConfigError(`${hiddenKey} (${hidden}) is not divisible by ${headsKey} (${heads}), and no head_dim is given.`);
  }
  return hidden / heads;
}

function positiveInt(c: Config, key: string): number {
  const v = c[key];
  if (v === undefined || v === null) throw new ConfigError(`config.json is missing "${key}".`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new ConfigError(`config.json "${key}" must be a positive integer, got ${JSON.stringify(v)}.`);
  }
  return v;
}

function nonNegativeInt(c: Config, key: string, where: string): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ConfigError(`${where}.${key} must be a non-negative integer, got ${JSON.stringify(v)}.`);
  }
  return v;
}

function positiveNumber(c: Config, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`config.json "${key}" must be a positive number, got ${JSON.stringify(v)}.`);
  }
  return v;
}

function bool(c: Config, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`config.json "${key}" must be true or false, got ${JSON.stringify(v)}.`);
  return v;
}

function activation(c: Config, key: string, fallback: string): Activation {
  const name = c[key] ?? fallback;
  const a = typeof name === 'string' && Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!a) {
    throw new UnsupportedModelError(
      `Activation ${JSON.stringify(name)} (${key}) is not supported; supported: ${Object.keys(ACTIVATIONS).join(', ')}.`,
    );
  }
  return a;
}

function supportedHint(): string {
  return `Supported model types: ${Object.keys(MODEL_TYPES).join(', ')}.`;
}

function isObject(v: unknown): v is Config {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}
