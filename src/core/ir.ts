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
import type { Tensor } from './tensor';

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
/** lm: final norm + projection onto the vocabulary at every position. */
export type HeadKind = 'lm';

/** How a block is wired: declared by each family adapter, read by graph/. */
export interface BlockStructure {
  attention: AttentionKind;
  normPlacement: NormPlacement;
  norm: NormKind;
  positions: PositionKind;
  /** true: down(act(gate(x)) * up(x)) (SwiGLU); false: down(act(up(x))). */
  gatedMlp: boolean;
  head: HeadKind;
}

export interface ArchSpec extends BlockStructure {
  family: Family;
  /** model_type from config.json, e.g. "gpt2", "llama", "qwen2". */
  modelType: string;
  numLayers: number;
  hiddenSize: number;
  /** Per-head width (head_dim); never assumed to be 128 or hiddenSize / heads when the config says otherwise. */
  headDim: number;
  vocabSize: number;
  maxPositions: number;
  normEps: number;
  activation: Activation;
  ropeTheta?: number;
  tiedEmbeddings: boolean;
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
  /** [vocab, hidden] */
  tokenEmbedding: Tensor;
  /** [maxPositions, hidden], learned positions only */
  positionEmbedding?: Tensor;
  layers: LayerWeights[];
  finalNorm: Norm;
  /** [vocab, hidden]; absent when tied to tokenEmbedding */
  lmHead?: Tensor;
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
  const add = (t?: { data: Float32Array }) => {
    if (t) n += t.data.length;
  };
  const w = ir.weights;
  add(w.tokenEmbedding);
  add(w.positionEmbedding);
  add(w.lmHead);
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
