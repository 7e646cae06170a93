/**
 * ModelIR: a family-agnostic Transformer (architecture spec + weights).
 *
 * Every family adapter maps its checkpoint onto this one canonical layout, so the graph builder,
 * the saliency criteria and the pruning code never see family-specific tensor names.
 * Linear weights use the PyTorch convention W[out, in], y = W x + b (GPT-2's Conv1D [in, out]
 * is transposed by its adapter on import and back on export).
 * The block structure is declared by flags (`BlockStructure`) that graph/ reads; which values it
 * can build is checked there (graph/structure.ts), so a new value is refused by name, not misbuilt.
 */
import { UnsupportedModelError } from './errors';
import { elementCount, type Tensor } from './tensor';

/** A family id, owned by its adapter (src/arch/registry.ts lists them), e.g. "gpt2", "llama". */
export type Family = string;
export type NormKind = 'layernorm' | 'rmsnorm';
/** gelu_new = tanh approximation (GPT-2); gelu = exact erf; silu for SwiGLU MLPs. */
export type Activation = 'gelu_new' | 'gelu' | 'silu' | 'relu';
export type PositionKind = 'learned' | 'rotary';
/** causal: a decoder (each position sees itself and the past); bidirectional: an encoder. */
export type AttentionKind = 'causal' | 'bidirectional';
/** pre: h += f(norm(h)) (GPT-2, Llama); post: h = norm(h + f(h)) (BERT). */
export type NormPlacement = 'pre' | 'post';
/** lm: final norm + projection onto the vocabulary at every position; classifier: final norm, pooling, one projection onto the labels. */
export type HeadKind = 'lm' | 'classifier';
/** tokens: input_ids through an embedding table; patches: pixel_values cut into p×p patches, each mapped linearly, a CLS token first (ViT). */
export type InputKind = 'tokens' | 'patches';
/** What a classifier head reads: the CLS token (ViT), or the mean of the patch tokens (CLS excluded). */
export type Pooling = 'cls' | 'mean';

/** How a block is wired: declared by each family adapter, read by graph/. */
export interface BlockStructure {
  attention: AttentionKind;
  normPlacement: NormPlacement;
  norm: NormKind;
  positions: PositionKind;
  /** true: down(act(gate(x)) * up(x)) (SwiGLU); false: down(act(up(x))). */
  gatedMlp: boolean;
  head: HeadKind;
  /** Absent = 'tokens' (every decoder family). */
  input?: InputKind;
  /** Classifier heads only; absent = 'cls'. */
  pooling?: Pooling;
}

/** Image geometry and labels of a patch-input model (ViT); `vocabSize` is then the number of labels. */
export interface VisionSpec {
  imageSize: number;
  patchSize: number;
  numChannels: number;
  /** Label names by class index (config.json id2label). */
  labels: string[];
}

export interface ArchSpec extends BlockStructure {
  family: Family;
  /** model_type from config.json, e.g. "gpt2", "llama", "qwen2". */
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  /** Per-head width (head_dim); never assumed to be 128 or hiddenSize / heads when the config says otherwise. */
  headDim: number;
  /** Output width: the vocabulary of an LM, the number of labels of a classifier. */
  vocabSize: number;
  /** Learned positions: rows of positionEmbedding (a ViT: patches + 1 for the CLS token). */
  maxPositions: number;
  normEps: number;
  activation: Activation;
  ropeTheta?: number;
  tiedEmbeddings: boolean;
  /** Patch-input models only. */
  vision?: VisionSpec;
}

/** Shape of one decoder block; pruning changes these per layer. */
export interface LayerShape {
  /** Query heads still present (0 = the attention sublayer is gone). */
  numHeads: number;
  /** Key/value heads (== numHeads without grouped-query attention). */
  numKvHeads: number;
  /** FFN width (0 = the MLP sublayer is gone). */
  ffnSize: number;
}

export interface Linear {
  /** [out, in] */
  weight: Tensor;
  /** [out] */
  bias?: Tensor;
}

export interface Norm {
  weight: Tensor;
  bias?: Tensor;
}

export interface LayerWeights {
  attnNorm: Norm;
  /** q: [numHeads*headDim, hidden]; k, v: [numKvHeads*headDim, hidden]; o: [hidden, numHeads*headDim] */
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  mlpNorm: Norm;
  /** up (GPT-2 c_fc): [ffn, hidden]; gate: [ffn, hidden] when gatedMlp; down: [hidden, ffn] */
  up: Linear;
  gate?: Linear;
  down: Linear;
}

export interface ModelWeights {
  /** [vocab, hidden]; token-input models only */
  tokenEmbedding?: Tensor;
  /** Patch-input models: weight [hidden, channels, patch, patch] (the Conv2d layout), bias [hidden]. */
  patchEmbedding?: Linear;
  /** Patch-input models: the CLS token [hidden], prepended to the patch sequence. */
  clsToken?: Tensor;
  /** [maxPositions, hidden], learned positions only */
  positionEmbedding?: Tensor;
  layers: LayerWeights[];
  finalNorm: Norm;
  /** [vocab, hidden]; absent when tied to tokenEmbedding (a classifier's weight [labels, hidden]) */
  lmHead?: Tensor;
  /** [vocab]: the output head's bias (classifiers). */
  lmHeadBias?: Tensor;
}

export interface ModelIR {
  /** Display name, e.g. "demo-gpt2" or a Hub repo id. */
  name: string;
  spec: ArchSpec;
  /** One entry per layer of this model (after pruning, fewer/narrower). */
  layers: LayerShape[];
  /** For a pruned model: original index of each remaining layer. Identity for a dense model. */
  originalLayerIndex: number[];
  weights: ModelWeights;
}

export function parameterCount(ir: ModelIR): number {
  let n = 0;
  const add = (t?: Tensor) => {
    // from the shape (tensor() checks it against the data), so a spilled tensor is not read back
    if (t) n += elementCount(t.shape);
  };
  const w = ir.weights;
  add(w.tokenEmbedding);
  add(w.positionEmbedding);
  add(w.lmHead);
  add(w.lmHeadBias);
  add(w.patchEmbedding?.weight);
  add(w.patchEmbedding?.bias);
  add(w.clsToken);
  add(w.finalNorm.weight);
  add(w.finalNorm.bias);
  for (const l of w.layers) {
    for (const lin of [l.q, l.k, l.v, l.o, l.up, l.gate, l.down]) {
      add(lin?.weight);
      add(lin?.bias);
    }
    for (const nrm of [l.attnNorm, l.mlpNorm]) {
      add(nrm.weight);
      add(nrm.bias);
    }
  }
  return n;
}

export function isUniform(ir: ModelIR): boolean {
  const first = ir.layers[0];
  return ir.layers.every((l) => l.numHeads === first?.numHeads && l.numKvHeads === first.numKvHeads && l.ffnSize === first.ffnSize);
}

/** The token embedding of a token-input model (every decoder); a named error for a patch-input one (ViT). */
export function tokenEmbeddingOf(ir: Pick<ModelIR, 'name' | 'weights'>): Tensor {
  const t = ir.weights.tokenEmbedding;
  if (!t)
    throw new UnsupportedModelError(`${ir.name} reads images, not tokens: it has no token embedding.`, 'This step needs a language model.');
  return t;
}
