/**
 * ViT family adapter (Hugging Face ViTForImageClassification names): the patch embedding
 * vit.embeddings.patch_embeddings.projection (Conv2d [d, C, p, p] + bias, kept in that layout),
 * vit.embeddings.cls_token [1, 1, d] and position_embeddings [1, 1 + (S/p)², d] (CLS first),
 * per layer vit.encoder.layer.{i}.layernorm_before / attention.attention.{query,key,value} /
 * attention.output.dense / layernorm_after / intermediate.dense / output.dense (nn.Linear, already
 * [out, in]), vit.layernorm, and the classifier [num_labels, d] + bias on the CLS token.
 * The IR holds the classifier as lmHead + lmHeadBias, vocabSize = number of labels.
 * config.json keys: hidden_size, num_hidden_layers, num_attention_heads, intermediate_size,
 * hidden_act (gelu = exact erf GELU), layer_norm_eps (1e-12), image_size, patch_size,
 * num_channels, qkv_bias, id2label / num_labels. Image normalisation lives in
 * preprocessor_config.json (io/image-preprocess.ts).
 */
import { ConfigError, ShapeMismatchError, UnsupportedModelError } from '../core/errors';
import type { ArchSpec, BlockStructure, LayerShape, LayerWeights, Linear, ModelIR, Norm, VisionSpec } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
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
import { checkFinite, checkTensor } from './tensors';

const FAMILY = 'vit';
const P = 'vit.';
const EMB = `${P}embeddings.`;
const layerPrefix = (i: number) => `${P}encoder.layer.${i}.`;

/** Pre-LayerNorm bidirectional encoder on image patches, learned positions (CLS first), GELU MLP, classifier on CLS. */
const STRUCTURE: BlockStructure = {
  attention: 'bidirectional',
  normPlacement: 'pre',
  norm: 'layernorm',
  positions: 'learned',
  gatedMlp: false,
  head: 'classifier',
  input: 'patches',
  pooling: 'cls',
};

/** id2label as a list by class index; `num_labels` (or its default 2) when id2label is absent. */
export function readLabels(c: ConfigObject): string[] {
  const raw = c.id2label;
  if (raw === undefined) {
    const n = positiveIntOr(c, 'num_labels', () => 2);
    return Array.from({ length: n }, (_, i) => `LABEL_${i}`);
  }
  if (!isObject(raw)) throw new ConfigError('config.json "id2label" must be an object mapping class indices to names.');
  const n = Object.keys(raw).length;
  const labels = Array.from({ length: n }, (_, i) => raw[String(i)]);
  if (n === 0 || labels.some((l) => typeof l !== 'string'))
    throw new ConfigError(`config.json "id2label" must name every class 0..${n - 1} with a string.`);
  if (c.num_labels !== undefined && c.num_labels !== n)
    throw new ConfigError(`config.json "num_labels" (${JSON.stringify(c.num_labels)}) disagrees with id2label (${n} classes).`);
  return labels as string[];
}

function readVision(c: ConfigObject): VisionSpec {
  const imageSize = positiveIntOr(c, 'image_size', () => 224);
  const patchSize = positiveIntOr(c, 'patch_size', () => 16);
  if (imageSize % patchSize !== 0)
    throw new UnsupportedModelError(`image_size ${imageSize} is not a multiple of patch_size ${patchSize}; such a ViT is not supported.`);
  return { imageSize, patchSize, numChannels: positiveIntOr(c, 'num_channels', () => 3), labels: readLabels(c) };
}

function readConfig(c: ConfigObject): FamilyConfig {
  if (c.use_mask_token === true) throw new UnsupportedModelError('A ViT with a mask token (masked image modelling) is not supported.');
  const hidden = positiveInt(c, 'hidden_size');
  const heads = positiveInt(c, 'num_attention_heads');
  const vision = readVision(c);
  const spec: ArchSpec = {
    ...STRUCTURE,
    family: FAMILY,
    modelType: 'vit',
    numLayers: positiveInt(c, 'num_hidden_layers'),
    hiddenSize: hidden,
    headDim: dividedHeadDim(hidden, heads, 'hidden_size', 'num_attention_heads'),
    vocabSize: vision.labels.length,
    maxPositions: (vision.imageSize / vision.patchSize) ** 2 + 1,
    normEps: positiveNumber(c, 'layer_norm_eps', 1e-12),
    activation: activation(c, 'hidden_act', 'gelu'),
    tiedEmbeddings: false,
    vision,
  };
  // qkv_bias is checked here so a wrong value fails before any tensor is read.
  bool(c, 'qkv_bias', true);
  const ffnSize = positiveIntOr(c, 'intermediate_size', () => 4 * hidden);
  return { spec, layers: uniform(spec.numLayers, { numHeads: heads, numKvHeads: heads, ffnSize }) };
}

function writeConfig(ir: ModelIR): Record<string, unknown> {
  const s = ir.spec;
  const v = s.vision;
  if (!v) throw new ShapeMismatchError(`${ir.name} has no image geometry; it cannot be written as a ViT config.`);
  const l = ir.layers[0]!;
  const q = ir.weights.layers[0]?.q;
  return {
    model_type: 'vit',
    architectures: ['ViTForImageClassification'],
    hidden_size: s.hiddenSize,
    num_hidden_layers: ir.layers.length,
    num_attention_heads: l.numHeads,
    intermediate_size: l.ffnSize,
    hidden_act: s.activation,
    layer_norm_eps: s.normEps,
    image_size: v.imageSize,
    patch_size: v.patchSize,
    num_channels: v.numChannels,
    qkv_bias: q ? q.bias !== undefined : true,
    id2label: Object.fromEntries(v.labels.map((name, i) => [String(i), name])),
    label2id: Object.fromEntries(v.labels.map((name, i) => [name, i])),
  };
}

/** transformers' ViTSelfAttention derives head size = hidden_size / num_attention_heads. */
function hubIncompatibility(ir: ModelIR): string | undefined {
  const d = ir.spec.hiddenSize;
  const l = ir.layers.find((x) => x.numHeads * ir.spec.headDim !== d);
  if (!l) return undefined;
  return `ViT's config has no head_dim: transformers derives it as hidden_size / num_attention_heads, so ${l.numHeads} heads of ${ir.spec.headDim} in a ${d}-wide model cannot be described (FFN widths and layer counts can).`;
}

type Req = (name: string, shape: readonly number[]) => Tensor;

/** A tensor with the checkpoint's leading 1-dims dropped (cls_token [1, 1, d] -> [d]); the data is shared. */
function squeezed(t: Tensor, shape: readonly number[]): Tensor {
  return tensor([...shape], t.data);
}

function readLayer(req: Req, get: TensorGetter, spec: ArchSpec, shape: LayerShape, i: number, files?: string): LayerWeights {
  if (shape.numKvHeads !== shape.numHeads)
    throw new ShapeMismatchError(
      `ViT layer ${i} has ${shape.numHeads} query heads but ${shape.numKvHeads} key/value heads; ViT has no grouped-query attention.`,
    );
  const d = spec.hiddenSize;
  const inner = shape.numHeads * spec.headDim;
  const f = shape.ffnSize;
  const p = layerPrefix(i);
  const linear = (name: string, nOut: number, nIn: number, bias: 'required' | 'optional' = 'required'): Linear => {
    const weight = req(`${p}${name}.weight`, [nOut, nIn]);
    // Asked for once: a checkpoint read tensor by tensor hands each tensor out once (arch/shard-read.ts).
    const n = `${p}${name}.bias`;
    const found = get(n);
    const b = bias === 'optional' && !found ? undefined : checkTensor(found, n, [nOut], files);
    return b ? { weight, bias: b } : { weight };
  };
  const norm = (name: string): Norm => ({ weight: req(`${p}${name}.weight`, [d]), bias: req(`${p}${name}.bias`, [d]) });
  return {
    attnNorm: norm('layernorm_before'),
    q: linear('attention.attention.query', inner, d, 'optional'),
    k: linear('attention.attention.key', inner, d, 'optional'),
    v: linear('attention.attention.value', inner, d, 'optional'),
    o: linear('attention.output.dense', d, inner),
    mlpNorm: norm('layernorm_after'),
    up: linear('intermediate.dense', f, d),
    down: linear('output.dense', d, f),
  };
}

function fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR {
  if (spec.family !== FAMILY || !spec.vision) throw new ShapeMismatchError(`The ViT adapter cannot read a ${spec.family} model.`);
  const { hiddenSize: d, vision: v } = spec;
  const req: Req = (n, shape) => checkTensor(get(n), n, shape, files);
  const weights = {
    patchEmbedding: {
      weight: req(`${EMB}patch_embeddings.projection.weight`, [d, v.numChannels, v.patchSize, v.patchSize]),
      bias: req(`${EMB}patch_embeddings.projection.bias`, [d]),
    },
    clsToken: squeezed(req(`${EMB}cls_token`, [1, 1, d]), [d]),
    positionEmbedding: squeezed(req(`${EMB}position_embeddings`, [1, spec.maxPositions, d]), [spec.maxPositions, d]),
    layers: layers.map((shape, i) => readLayer(req, get, spec, shape, i, files)),
    finalNorm: { weight: req(`${P}layernorm.weight`, [d]), bias: req(`${P}layernorm.bias`, [d]) },
    lmHead: req('classifier.weight', [spec.vocabSize, d]),
    lmHeadBias: req('classifier.bias', [spec.vocabSize]),
  };
  return {
    name,
    spec: { ...spec },
    layers: layers.map((l) => ({ ...l })),
    originalLayerIndex: layers.map((_, i) => i),
    weights,
  };
}

function toTensors(ir: ModelIR): Record<string, Tensor> {
  const { spec, weights: w } = ir;
  if (spec.family !== FAMILY) throw new ShapeMismatchError(`The ViT adapter cannot export a ${spec.family} model.`);
  const d = spec.hiddenSize;
  if (!w.patchEmbedding || !w.clsToken || !w.positionEmbedding || !w.lmHead)
    throw new ShapeMismatchError(`${ir.name} lacks a ViT's patch embedding, CLS token, positions or classifier.`);
  const zeros = (n: number) => tensor([n]);
  const out: Record<string, Tensor> = {
    [`${EMB}patch_embeddings.projection.weight`]: w.patchEmbedding.weight,
    [`${EMB}patch_embeddings.projection.bias`]: w.patchEmbedding.bias ?? zeros(d),
    [`${EMB}cls_token`]: tensor([1, 1, d], w.clsToken.data),
    [`${EMB}position_embeddings`]: tensor([1, ...w.positionEmbedding.shape], w.positionEmbedding.data),
    [`${P}layernorm.weight`]: w.finalNorm.weight,
    [`${P}layernorm.bias`]: w.finalNorm.bias ?? zeros(d),
    'classifier.weight': w.lmHead,
    'classifier.bias': w.lmHeadBias ?? zeros(spec.vocabSize),
  };
  w.layers.forEach((l, i) => {
    if (l.gate) throw new ShapeMismatchError('A ViT checkpoint has no gated MLP; this model cannot be exported as ViT.');
    const p = layerPrefix(i);
    const put = (name: string, x: Linear | Norm, n: number, bias: 'always' | 'if-present' = 'always') => {
      out[`${p}${name}.weight`] = x.weight;
      if (x.bias || bias === 'always') out[`${p}${name}.bias`] = x.bias ?? zeros(n);
    };
    const inner = l.q.weight.shape[0] ?? 0;
    put('layernorm_before', l.attnNorm, d);
    put('attention.attention.query', l.q, inner, 'if-present');
    put('attention.attention.key', l.k, inner, 'if-present');
    put('attention.attention.value', l.v, inner, 'if-present');
    put('attention.output.dense', l.o, d);
    put('layernorm_after', l.mlpNorm, d);
    put('intermediate.dense', l.up, l.up.weight.shape[0] ?? 0);
    put('output.dense', l.down, d);
  });
  for (const [name, t] of Object.entries(out)) checkFinite(t, name);
  return out;
}

export const vitAdapter: FamilyAdapter = {
  family: FAMILY,
  modelTypes: ['vit'],
  structure: STRUCTURE,
  groupedQuery: false,
  layerCountKey: 'num_hidden_layers',
  // ViTModel's pooler (absent from ViTForImageClassification) is not used by the classifier.
  ignoredTensors: /^vit\.pooler\./,
  readConfig,
  writeConfig,
  hubIncompatibility,
  fromTensors,
  toTensors,
};
