/**
 * Llama family adapter (Hugging Face LlamaForCausalLM / Qwen2ForCausalLM / MistralForCausalLM names):
 * model.embed_tokens.weight, model.layers.{i}.input_layernorm / post_attention_layernorm (RMSNorm
 * weights), self_attn.{q,k,v,o}_proj.{weight,bias?} (Qwen2: q/k/v biases), mlp.{gate,up,down}_proj,
 * model.norm.weight, lm_head.weight (absent, or equal to the embedding, when tied).
 * nn.Linear weights are already [out, in], the IR convention, so nothing is transposed.
 * Grouped-query attention: k/v have numKvHeads * headDim rows.
 * config.json keys: hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads,
 * head_dim, intermediate_size, max_position_embeddings (capped by an active sliding_window),
 * vocab_size, rms_norm_eps, rope_theta (or rope_parameters.rope_theta), hidden_act, tie_word_embeddings.
 */
import { ConfigError, ShapeMismatchError, UnsupportedModelError } from '../core/errors';
import { tokenEmbeddingOf } from '../core/ir';
import type { ArchSpec, BlockStructure, LayerShape, LayerWeights, Linear, ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';
import {
  activation,
  bool,
  dividedHeadDim,
  isObject,
  positiveInt,
  positiveIntOr,
  positiveNumber,
  uniform,
  type ConfigObject,
  type FamilyConfig,
} from '../io/hf-config';
import type { FamilyAdapter, TensorGetter } from './adapter';
import { checkFinite, checkTensor, denseIR, readLmHead } from './tensors';

const FAMILY = 'llama';
const EMBED = 'model.embed_tokens.weight';
const NORM = 'model.norm.weight';
const HEAD = 'lm_head.weight';
const layerPrefix = (i: number) => `model.layers.${i}.`;

type Get = (name: string, shape: readonly number[]) => Tensor;

/** Pre-RMSNorm causal decoder, rotary positions, SwiGLU MLP, LM head. */
const STRUCTURE: BlockStructure = {
  attention: 'causal',
  normPlacement: 'pre',
  norm: 'rmsnorm',
  positions: 'rotary',
  gatedMlp: true,
  head: 'lm',
};

function readConfig(c: ConfigObject, modelType: string): FamilyConfig {
  const hidden = positiveInt(c, 'hidden_size');
  const heads = positiveInt(c, 'num_attention_heads');
  const kvHeads = positiveIntOr(c, 'num_key_value_heads', () => heads);
  if (heads % kvHeads !== 0) {
    throw new ConfigError(`num_key_value_heads (${kvHeads}) must divide num_attention_heads (${heads}).`);
  }
  checkRopeScaling(c);
  const rope = isObject(c.rope_parameters) ? c.rope_parameters : {};
  const spec: ArchSpec = {
    ...STRUCTURE,
    family: FAMILY,
    modelType,
    numLayers: positiveInt(c, 'num_hidden_layers'),
    hiddenSize: hidden,
    headDim: positiveIntOr(c, 'head_dim', () => dividedHeadDim(hidden, heads, 'hidden_size', 'num_attention_heads')),
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: slidingWindowLimit(c, positiveInt(c, 'max_position_embeddings')),
    normEps: positiveNumber(c, 'rms_norm_eps', 1e-6),
    activation: activation(c, 'hidden_act', 'silu'),
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
function checkRopeScaling(c: ConfigObject): void {
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
function slidingWindowLimit(c: ConfigObject, maxPositions: number): number {
  const window = c.sliding_window;
  const active = c.use_sliding_window ?? c.model_type === 'mistral';
  if (!active || window === undefined || window === null) return maxPositions;
  return Math.min(maxPositions, positiveInt(c, 'sliding_window'));
}

const ARCHITECTURES: Readonly<Record<string, string>> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mistral: 'MistralForCausalLM',
};

/**
 * An o / down bias (bias compensation) has no slot in these checkpoints (toTensors refuses it too);
 * transformers 5's strict LlamaConfig also requires hidden_size divisible by num_attention_heads.
 */
function hubIncompatibility(ir: ModelIR): string | undefined {
  const heads = ir.layers[0]?.numHeads ?? 0;
  if (heads > 0 && ir.spec.hiddenSize % heads !== 0)
    return `transformers' config class requires hidden_size (${ir.spec.hiddenSize}) divisible by num_attention_heads (${heads}).`;
  const i = ir.weights.layers.findIndex((l) => [l.o.bias, l.down.bias].some((b) => b?.data.some((x) => x !== 0)));
  return i < 0
    ? undefined
    : `layer ${i} has an output-projection bias (bias compensation), which ${ARCHITECTURES[ir.spec.modelType] ?? 'LlamaForCausalLM'} has no slot for.`;
}

function writeConfig(ir: ModelIR): Record<string, unknown> {
  const s = ir.spec;
  const l = ir.layers[0]!;
  return {
    model_type: s.modelType,
    architectures: [ARCHITECTURES[s.modelType] ?? 'LlamaForCausalLM'],
    hidden_size: s.hiddenSize,
    intermediate_size: l.ffnSize,
    num_hidden_layers: ir.layers.length,
    num_attention_heads: l.numHeads,
    num_key_value_heads: l.numKvHeads,
    head_dim: s.headDim,
    max_position_embeddings: s.maxPositions,
    rms_norm_eps: s.normEps,
    rope_theta: s.ropeTheta,
    // transformers >= 5 reads rope_parameters; older versions read rope_theta.
    rope_parameters: { rope_type: 'default', rope_theta: s.ropeTheta },
    hidden_act: s.activation,
    tie_word_embeddings: s.tiedEmbeddings,
    vocab_size: s.vocabSize,
  };
}

function readLayer(get: Get, opt: TensorGetter, spec: ArchSpec, shape: LayerShape, i: number, files?: string): LayerWeights {
  const d = spec.hiddenSize;
  const p = layerPrefix(i);
  const q = shape.numHeads * spec.headDim;
  const kv = shape.numKvHeads * spec.headDim;
  const f = shape.ffnSize;
  const linear = (name: string, out: number, inp: number): Linear => {
    const weight = get(`${p}${name}.weight`, [out, inp]);
    const raw = opt(`${p}${name}.bias`);
    return raw ? { weight, bias: checkTensor(raw, `${p}${name}.bias`, [out], files) } : { weight };
  };
  return {
    attnNorm: { weight: get(`${p}input_layernorm.weight`, [d]) },
    q: linear('self_attn.q_proj', q, d),
    k: linear('self_attn.k_proj', kv, d),
    v: linear('self_attn.v_proj', kv, d),
    o: linear('self_attn.o_proj', d, q),
    mlpNorm: { weight: get(`${p}post_attention_layernorm.weight`, [d]) },
    gate: linear('mlp.gate_proj', f, d),
    up: linear('mlp.up_proj', f, d),
    down: linear('mlp.down_proj', d, f),
  };
}

function fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR {
  if (spec.family !== FAMILY) throw new ShapeMismatchError(`The Llama adapter cannot read a ${spec.family} model.`);
  const req: Get = (n, shape) => checkTensor(get(n), n, shape, files);
  const d = spec.hiddenSize;
  const tokenEmbedding = req(EMBED, [spec.vocabSize, d]);
  const layerWeights = layers.map((shape, i) => readLayer(req, get, spec, shape, i, files));
  const lmHead = readLmHead(get, HEAD, spec, tokenEmbedding, files);
  return denseIR(name, spec, layers, { tokenEmbedding, layers: layerWeights, finalNorm: { weight: req(NORM, [d]) } }, lmHead);
}

/** undefined = tied to the embedding. An untied config requires lm_head.weight. */
function writeLayer(out: Record<string, Tensor>, i: number, l: LayerWeights): void {
  if (!l.gate) throw new ShapeMismatchError(`Layer ${i} has no gate projection; a Llama checkpoint needs a SwiGLU MLP.`);
  const p = layerPrefix(i);
  const linear = (name: string, lin: Linear) => {
    out[`${p}${name}.weight`] = lin.weight;
    if (lin.bias) out[`${p}${name}.bias`] = lin.bias;
  };
  out[`${p}input_layernorm.weight`] = l.attnNorm.weight;
  linear('self_attn.q_proj', l.q);
  linear('self_attn.k_proj', l.k);
  linear('self_attn.v_proj', l.v);
  linear('self_attn.o_proj', l.o);
  out[`${p}post_attention_layernorm.weight`] = l.mlpNorm.weight;
  linear('mlp.gate_proj', l.gate);
  linear('mlp.up_proj', l.up);
  linear('mlp.down_proj', l.down);
}

/**
 * The inverse mapping. An o/down bias (added by FLAP compensation) has no slot in a Llama
 * checkpoint; such a model is refused here rather than silently changed.
 */
function toTensors(ir: ModelIR): Record<string, Tensor> {
  if (ir.spec.family !== FAMILY) throw new ShapeMismatchError(`The Llama adapter cannot export a ${ir.spec.family} model.`);
  const w = ir.weights;
  const out: Record<string, Tensor> = { [EMBED]: tokenEmbeddingOf(ir), [NORM]: w.finalNorm.weight };
  w.layers.forEach((l, i) => {
    for (const [what, lin] of [
      ['o_proj', l.o],
      ['down_proj', l.down],
    ] as const) {
      if (lin.bias && lin.bias.data.some((x) => x !== 0)) {
        throw new ShapeMismatchError(
          `Layer ${i} ${what} has a bias (from bias compensation), which a Llama checkpoint cannot hold.`,
          'Export as ONNX instead, or apply the plan without bias compensation.',
        );
      }
    }
    writeLayer(out, i, { ...l, o: { weight: l.o.weight }, down: { weight: l.down.weight } });
  });
  if (w.lmHead) out[HEAD] = w.lmHead;
  for (const [name, t] of Object.entries(out)) checkFinite(t, name);
  return out;
}

export const llamaAdapter: FamilyAdapter = {
  family: FAMILY,
  modelTypes: ['llama', 'qwen2', 'mistral'],
  structure: STRUCTURE,
  groupedQuery: true,
  layerCountKey: 'num_hidden_layers',
  // Rotary caches some conversions saved with the weights (recomputed from rope_theta).
  ignoredTensors: /(^|\.)rotary_emb\.inv_freq$/,
  readConfig,
  writeConfig,
  hubIncompatibility,
  fromTensors,
  toTensors,
};
