/**
 * Size-faithful model shapes (real layer counts, widths, heads, vocabularies) and their Hugging Face
 * config.json, tensor names and initialisation. Weights are random: normal(0, 0.02), residual
 * projections (attention output, MLP down) scaled by 1/sqrt(2 * layers) as GPT-2 does, norms ones,
 * biases zero, so activations stay O(1) and perplexity / OBS numbers are finite.
 */
import type { WriteDtype } from '../../src/io/safetensors';

export interface ModelShape {
  readonly name: string;
  readonly family: 'gpt2' | 'llama';
  readonly modelType: 'gpt2' | 'llama' | 'qwen2';
  /** How the weights are stored on disk. */
  readonly dtype: WriteDtype;
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly kvHeads: number;
  readonly headDim: number;
  readonly ffn: number;
  readonly vocab: number;
  readonly positions: number;
  readonly normEps: number;
  readonly ropeTheta?: number;
  /** Qwen2 has q/k/v biases. */
  readonly qkvBias?: boolean;
  /** The real model this shape copies, for the model card. */
  readonly original: string;
}

export type Init = { kind: 'normal'; std: number } | { kind: 'ones' } | { kind: 'zeros' };

export interface TensorPlan {
  readonly name: string;
  readonly shape: readonly number[];
  readonly init: Init;
}

export const STD = 0.02;

export const SHAPES: Readonly<Record<string, ModelShape>> = {
  'gpt2-124m': {
    name: 'gpt2-124m',
    family: 'gpt2',
    modelType: 'gpt2',
    dtype: 'F32',
    layers: 12,
    hidden: 768,
    heads: 12,
    kvHeads: 12,
    headDim: 64,
    ffn: 3072,
    vocab: 50257,
    positions: 1024,
    normEps: 1e-5,
    original: 'openai-community/gpt2',
  },
  'smollm2-135m': {
    name: 'smollm2-135m',
    family: 'llama',
    modelType: 'llama',
    dtype: 'BF16',
    layers: 30,
    hidden: 576,
    heads: 9,
    kvHeads: 3,
    headDim: 64,
    ffn: 1536,
    vocab: 49152,
    positions: 8192,
    normEps: 1e-5,
    ropeTheta: 100000,
    original: 'HuggingFaceTB/SmolLM2-135M',
  },
  'qwen2.5-0.5b': {
    name: 'qwen2.5-0.5b',
    family: 'llama',
    modelType: 'qwen2',
    dtype: 'BF16',
    layers: 24,
    hidden: 896,
    heads: 14,
    kvHeads: 2,
    headDim: 64,
    ffn: 4864,
    vocab: 151936,
    positions: 32768,
    normEps: 1e-6,
    ropeTheta: 1000000,
    qkvBias: true,
    original: 'Qwen/Qwen2.5-0.5B',
  },
};

export const MODEL_NAMES = Object.keys(SHAPES);

export function shapeOf(name: string): ModelShape {
  const s = SHAPES[name];
  if (!s) throw new Error(`Unknown scale model "${name}"; known: ${MODEL_NAMES.join(', ')}.`);
  return s;
}

const normal = (std: number): Init => ({ kind: 'normal', std });
const ones: Init = { kind: 'ones' };
const zeros: Init = { kind: 'zeros' };

/** Every tensor of the checkpoint (tied embeddings: no lm_head.weight), in no particular order. */
export function tensorPlan(s: ModelShape): TensorPlan[] {
  return s.family === 'gpt2' ? gpt2Tensors(s) : llamaTensors(s);
}

function residualStd(s: ModelShape): number {
  return STD / Math.sqrt(2 * s.layers);
}

/** HF GPT-2 names without the "transformer." prefix (as the demo model); Conv1D weights are [in, out]. */
function gpt2Tensors(s: ModelShape): TensorPlan[] {
  const d = s.hidden;
  const out: TensorPlan[] = [
    { name: 'wte.weight', shape: [s.vocab, d], init: normal(STD) },
    { name: 'wpe.weight', shape: [s.positions, d], init: normal(STD) },
    { name: 'ln_f.weight', shape: [d], init: ones },
    { name: 'ln_f.bias', shape: [d], init: zeros },
  ];
  for (let i = 0; i < s.layers; i++) {
    const p = `h.${i}.`;
    const conv = (name: string, nIn: number, nOut: number, std: number) =>
      out.push(
        { name: `${p}${name}.weight`, shape: [nIn, nOut], init: normal(std) },
        { name: `${p}${name}.bias`, shape: [nOut], init: zeros },
      );
    for (const ln of ['ln_1', 'ln_2'])
      out.push({ name: `${p}${ln}.weight`, shape: [d], init: ones }, { name: `${p}${ln}.bias`, shape: [d], init: zeros });
    conv('attn.c_attn', d, 3 * d, STD);
    conv('attn.c_proj', d, d, residualStd(s));
    conv('mlp.c_fc', d, s.ffn, STD);
    conv('mlp.c_proj', s.ffn, d, residualStd(s));
  }
  return out;
}

/** Llama / Qwen2 names; nn.Linear weights are [out, in]. */
function llamaTensors(s: ModelShape): TensorPlan[] {
  const d = s.hidden;
  const q = s.heads * s.headDim;
  const kv = s.kvHeads * s.headDim;
  const out: TensorPlan[] = [
    { name: 'model.embed_tokens.weight', shape: [s.vocab, d], init: normal(STD) },
    { name: 'model.norm.weight', shape: [d], init: ones },
  ];
  for (let i = 0; i < s.layers; i++) {
    const p = `model.layers.${i}.`;
    const linear = (name: string, nOut: number, nIn: number, std: number, bias = false) => {
      out.push({ name: `${p}${name}.weight`, shape: [nOut, nIn], init: normal(std) });
      if (bias) out.push({ name: `${p}${name}.bias`, shape: [nOut], init: zeros });
    };
    out.push({ name: `${p}input_layernorm.weight`, shape: [d], init: ones });
    out.push({ name: `${p}post_attention_layernorm.weight`, shape: [d], init: ones });
    linear('self_attn.q_proj', q, d, STD, s.qkvBias);
    linear('self_attn.k_proj', kv, d, STD, s.qkvBias);
    linear('self_attn.v_proj', kv, d, STD, s.qkvBias);
    linear('self_attn.o_proj', d, q, residualStd(s));
    linear('mlp.gate_proj', s.ffn, d, STD);
    linear('mlp.up_proj', s.ffn, d, STD);
    linear('mlp.down_proj', d, s.ffn, residualStd(s));
  }
  return out;
}

export function parameterCount(s: ModelShape): number {
  return tensorPlan(s).reduce((n, t) => n + t.shape.reduce((a, b) => a * b, 1), 0);
}

/** config.json as transformers writes it for the original model (eos = the tokenizer's last id). */
export function hfConfig(s: ModelShape): Record<string, unknown> {
  const eos = s.vocab - 1;
  const torchDtype = s.dtype === 'BF16' ? 'bfloat16' : 'float32';
  if (s.family === 'gpt2') {
    return {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      n_layer: s.layers,
      n_head: s.heads,
      n_embd: s.hidden,
      n_inner: s.ffn,
      n_positions: s.positions,
      n_ctx: s.positions,
      vocab_size: s.vocab,
      activation_function: 'gelu_new',
      layer_norm_epsilon: s.normEps,
      initializer_range: STD,
      bos_token_id: eos,
      eos_token_id: eos,
      tie_word_embeddings: true,
      resid_pdrop: 0,
      embd_pdrop: 0,
      attn_pdrop: 0,
      torch_dtype: torchDtype,
    };
  }
  return {
    model_type: s.modelType,
    architectures: [s.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    num_hidden_layers: s.layers,
    hidden_size: s.hidden,
    num_attention_heads: s.heads,
    num_key_value_heads: s.kvHeads,
    head_dim: s.headDim,
    intermediate_size: s.ffn,
    vocab_size: s.vocab,
    max_position_embeddings: s.positions,
    hidden_act: 'silu',
    rms_norm_eps: s.normEps,
    rope_theta: s.ropeTheta,
    rope_scaling: null,
    initializer_range: STD,
    tie_word_embeddings: true,
    attention_bias: s.qkvBias ?? false,
    ...(s.modelType === 'qwen2' ? { use_sliding_window: false, sliding_window: s.positions } : {}),
    bos_token_id: eos,
    eos_token_id: eos,
    torch_dtype: torchDtype,
  };
}
