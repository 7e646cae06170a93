/**
 * GPT-2 family adapter (Hugging Face GPT2LMHeadModel names, with or without the "transformer."
 * prefix). Conv1D weights are stored [in, out] and transposed to the IR's [out, in]; c_attn
 * [d, 3·H·dh] splits into q | k | v with their bias thirds; attn.c_proj -> o, mlp.c_fc -> up,
 * mlp.c_proj -> down, ln_1 / ln_2 / ln_f -> attnNorm / mlpNorm / finalNorm, wte / wpe embeddings.
 * The LM head is tied to wte unless lm_head.weight is present and different.
 * config.json keys: n_layer, n_head, n_embd, n_inner, n_positions (or n_ctx), vocab_size,
 * activation_function, layer_norm_epsilon, tie_word_embeddings.
 */
import { ShapeMismatchError, UnsupportedModelError } from '../core/errors';
import { tokenEmbeddingOf } from '../core/ir';
import type { ArchSpec, BlockStructure, LayerShape, LayerWeights, Linear, ModelIR, Norm } from '../core/ir';
import { allocatingPlain, tensor, type Tensor } from '../core/tensor';
import {
  activation,
  bool,
  dividedHeadDim,
  positiveInt,
  positiveIntOr,
  positiveNumber,
  uniform,
  type ConfigObject,
  type FamilyConfig,
} from '../io/hf-config';
import type { FamilyAdapter, TensorGetter } from './adapter';
import { checkFinite, checkTensor, concat1d, concatTransposed, denseIR, readLmHead, slice1d, transposeColumns } from './tensors';

const PREFIX = 'transformer.';
const FAMILY = 'gpt2';

/** Pre-LayerNorm causal decoder, learned positions, plain GELU MLP, LM head. */
const STRUCTURE: BlockStructure = {
  attention: 'causal',
  normPlacement: 'pre',
  norm: 'layernorm',
  positions: 'learned',
  gatedMlp: false,
  head: 'lm',
};

function readConfig(c: ConfigObject): FamilyConfig {
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
    ...STRUCTURE,
    family: FAMILY,
    modelType: 'gpt2',
    numLayers: positiveInt(c, 'n_layer'),
    hiddenSize: hidden,
    headDim: dividedHeadDim(hidden, heads, 'n_embd', 'n_head'),
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: c.n_positions === undefined && c.n_ctx !== undefined ? positiveInt(c, 'n_ctx') : positiveInt(c, 'n_positions'),
    normEps: positiveNumber(c, 'layer_norm_epsilon', 1e-5),
    activation: activation(c, 'activation_function', 'gelu_new'),
    tiedEmbeddings: bool(c, 'tie_word_embeddings', true),
  };
  const ffnSize = positiveIntOr(c, 'n_inner', () => 4 * hidden);
  return { spec, layers: uniform(spec.numLayers, { numHeads: heads, numKvHeads: heads, ffnSize }) };
}

function writeConfig(ir: ModelIR): Record<string, unknown> {
  const s = ir.spec;
  const l = ir.layers[0]!;
  return {
    model_type: 'gpt2',
    architectures: ['GPT2LMHeadModel'],
    n_layer: ir.layers.length,
    n_head: l.numHeads,
    n_embd: s.hiddenSize,
    n_inner: l.ffnSize,
    n_positions: s.maxPositions,
    vocab_size: s.vocabSize,
    activation_function: s.activation === 'gelu_new' ? 'gelu_new' : s.activation,
    layer_norm_epsilon: s.normEps,
    tie_word_embeddings: s.tiedEmbeddings,
  };
}

/** transformers' GPT2Attention derives head_dim = n_embd / n_head and sizes c_attn [n_embd, 3 * n_embd]. */
function hubIncompatibility(ir: ModelIR): string | undefined {
  const d = ir.spec.hiddenSize;
  const l = ir.layers.find((x) => x.numHeads * ir.spec.headDim !== d);
  if (!l) return undefined;
  return `GPT-2's config has no head_dim: transformers derives it as n_embd / n_head and sizes the attention as n_embd = n_head * head_dim, so ${l.numHeads} heads of ${ir.spec.headDim} in a ${d}-wide model cannot be described (FFN widths and layer counts can).`;
}

type Req = (name: string, shape: readonly number[]) => Tensor;

function readLayer(req: Req, spec: ArchSpec, shape: LayerShape, i: number): LayerWeights {
  if (shape.numKvHeads !== shape.numHeads) {
    throw new ShapeMismatchError(
      `GPT-2 layer ${i} has ${shape.numHeads} query heads but ${shape.numKvHeads} key/value heads; GPT-2 has no grouped-query attention.`,
    );
  }
  const d = spec.hiddenSize;
  const inner = shape.numHeads * spec.headDim;
  const f = shape.ffnSize;
  const p = `h.${i}.`;
  // transposed or sliced into the IR: read into plain memory (core/tensor.ts allocatingPlain)
  const qkv = allocatingPlain(() => req(`${p}attn.c_attn.weight`, [d, 3 * inner]));
  const qkvBias = allocatingPlain(() => req(`${p}attn.c_attn.bias`, [3 * inner]));
  const part = (k: number): Linear => ({ weight: transposeColumns(qkv, k * inner, inner), bias: slice1d(qkvBias, k * inner, inner) });
  const conv = (name: string, nIn: number, nOut: number): Linear => ({
    weight: transposeColumns(
      allocatingPlain(() => req(`${p}${name}.weight`, [nIn, nOut])),
      0,
      nOut,
    ),
    bias: req(`${p}${name}.bias`, [nOut]),
  });
  const norm = (name: string): Norm => ({ weight: req(`${p}${name}.weight`, [d]), bias: req(`${p}${name}.bias`, [d]) });
  return {
    attnNorm: norm('ln_1'),
    q: part(0),
    k: part(1),
    v: part(2),
    o: conv('attn.c_proj', inner, d),
    mlpNorm: norm('ln_2'),
    up: conv('mlp.c_fc', d, f),
    down: conv('mlp.c_proj', f, d),
  };
}

/** wte, and the name prefix the checkpoint uses ("" for GPT2Model files, "transformer." for GPT2LMHeadModel). */
function findEmbedding(get: TensorGetter): { prefix: string; wte: Tensor | undefined } {
  const prefixed = get(`${PREFIX}wte.weight`);
  return prefixed ? { prefix: PREFIX, wte: prefixed } : { prefix: '', wte: get('wte.weight') };
}

function fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR {
  if (spec.family !== FAMILY) throw new ShapeMismatchError(`The GPT-2 adapter cannot read a ${spec.family} model.`);
  const d = spec.hiddenSize;
  const { prefix, wte } = findEmbedding(get);
  const req: Req = (n, shape) => checkTensor(get(prefix + n), prefix + n, shape, files);
  const tokenEmbedding = checkTensor(wte, `${prefix}wte.weight`, [spec.vocabSize, d], files);
  const layerWeights = layers.map((shape, i) => readLayer(req, spec, shape, i));
  const lmHead = readLmHead(get, 'lm_head.weight', spec, tokenEmbedding, files);
  const weights = {
    tokenEmbedding,
    positionEmbedding: req('wpe.weight', [spec.maxPositions, d]),
    layers: layerWeights,
    finalNorm: { weight: req('ln_f.weight', [d]), bias: req('ln_f.bias', [d]) },
  };
  return denseIR(name, spec, layers, weights, lmHead);
}

/** undefined = tied to wte. A config that unties the embeddings requires lm_head.weight. */
function biasOr(b: Tensor | undefined, n: number): Tensor {
  return b ?? tensor([n]);
}

function writeLayer(out: Record<string, Tensor>, p: string, l: LayerWeights, d: number): void {
  if (l.gate) throw new ShapeMismatchError('A GPT-2 checkpoint has no gated MLP; this model cannot be exported as GPT-2.');
  const conv = (name: string, lin: Linear) => {
    out[`${p}${name}.weight`] = concatTransposed([lin.weight]);
    out[`${p}${name}.bias`] = biasOr(lin.bias, lin.weight.shape[0] ?? 0);
  };
  out[`${p}ln_1.weight`] = l.attnNorm.weight;
  out[`${p}ln_1.bias`] = biasOr(l.attnNorm.bias, d);
  out[`${p}attn.c_attn.weight`] = concatTransposed([l.q.weight, l.k.weight, l.v.weight]);
  out[`${p}attn.c_attn.bias`] = concat1d([l.q, l.k, l.v].map((lin) => biasOr(lin.bias, lin.weight.shape[0] ?? 0)));
  conv('attn.c_proj', l.o);
  out[`${p}ln_2.weight`] = l.mlpNorm.weight;
  out[`${p}ln_2.bias`] = biasOr(l.mlpNorm.bias, d);
  conv('mlp.c_fc', l.up);
  conv('mlp.c_proj', l.down);
}

/**
 * Tied models are written without a prefix (the Hub's gpt2 layout, like the demo model); untied
 * ones with "transformer." + lm_head.weight, which transformers loads into GPT2LMHeadModel intact.
 */
function toTensors(ir: ModelIR): Record<string, Tensor> {
  if (ir.spec.family !== FAMILY) throw new ShapeMismatchError(`The GPT-2 adapter cannot export a ${ir.spec.family} model.`);
  const w = ir.weights;
  if (!w.positionEmbedding) throw new ShapeMismatchError('A GPT-2 model needs learned position embeddings (wpe).');
  const p = w.lmHead ? PREFIX : '';
  const d = ir.spec.hiddenSize;
  const out: Record<string, Tensor> = {
    [`${p}wte.weight`]: tokenEmbeddingOf(ir),
    [`${p}wpe.weight`]: w.positionEmbedding,
    [`${p}ln_f.weight`]: w.finalNorm.weight,
    [`${p}ln_f.bias`]: biasOr(w.finalNorm.bias, d),
  };
  w.layers.forEach((l, i) => writeLayer(out, `${p}h.${i}.`, l, d));
  if (w.lmHead) out['lm_head.weight'] = w.lmHead;
  for (const [name, t] of Object.entries(out)) checkFinite(t, name);
  return out;
}

export const gpt2Adapter: FamilyAdapter = {
  family: FAMILY,
  modelTypes: ['gpt2'],
  structure: STRUCTURE,
  groupedQuery: false,
  layerCountKey: 'n_layer',
  // Causal-mask buffers that old transformers versions saved with the weights.
  ignoredTensors: /(^|\.)attn\.(bias|masked_bias)$/,
  readConfig,
  writeConfig,
  hubIncompatibility,
  fromTensors,
  toTensors,
};
