/**
 * A model's size from its shapes alone (config.json, before any weight is read): parameters per block
 * and in all, which linear layers carry a bias, the activations of one forward pass, and the size
 * rule for running a model block by block. Pure; the memory model (memory-model.ts) and the run
 * sizes (run-size.ts) are built on it.
 */
import type { ArchSpec, LayerShape } from './ir';

const F32 = 4;

/** What the model is: its shapes and how its weights are stored. */
export interface ModelShape {
  spec: ArchSpec;
  layers: readonly LayerShape[];
  /** Bytes per weight element in the files (config torch_dtype): 2 for bf16/fp16, 4 for fp32. */
  storedBytesPerWeight: number;
  /**
   * Whether loading holds the weight files whole (HTTP and Hub downloads: default) or reads them one
   * tensor at a time (picked files, local folders: FileSource.readRange).
   */
  filesHeldWhole?: boolean;
}

/** Models with at least this many fp32 weight bytes run block by block (graph/block-run.ts useBlockwise). */
export const BLOCKWISE_MIN_WEIGHT_BYTES = 256 * 2 ** 20;

/** The block-wise size rule from the shapes (graph/block-run.ts useBlockwise applies it to a loaded model). */
export function runsBlockwise(spec: ArchSpec, layers: readonly LayerShape[]): boolean {
  return spec.input !== 'patches' && layers.length > 1 && F32 * shapeParameters(spec, layers) >= BLOCKWISE_MIN_WEIGHT_BYTES;
}

/** Which linear layers carry a bias: GPT-2 all of them; Qwen2 q/k/v; Llama none. */
export function linearBiases(spec: Pick<ArchSpec, 'family' | 'modelType'>): 'all' | 'qkv' | 'none' {
  if (spec.family === 'gpt2') return 'all';
  return spec.modelType === 'qwen2' ? 'qkv' : 'none';
}

/** Parameters of one decoder block. */
export function layerParameters(spec: ArchSpec, l: LayerShape): number {
  const d = spec.hiddenSize;
  const q = l.numHeads * spec.headDim;
  const kv = l.numKvHeads * spec.headDim;
  const norm = spec.norm === 'layernorm' ? 2 * d : d;
  const bias = linearBiases(spec);
  const attn = q > 0 ? d * q + 2 * d * kv + q * d + norm + (bias === 'all' ? q + 2 * kv + d : bias === 'qkv' ? q + 2 * kv : 0) : 0;
  const mats = spec.gatedMlp ? 3 : 2;
  const mlp = l.ffnSize > 0 ? mats * d * l.ffnSize + norm + (bias === 'all' ? (mats - 1) * l.ffnSize + d : 0) : 0;
  return attn + mlp;
}

/** Parameters of the whole model from its shapes (embeddings, blocks, final norm, untied head). */
export function shapeParameters(spec: ArchSpec, layers: readonly LayerShape[]): number {
  const d = spec.hiddenSize;
  const embed = spec.vocabSize * d * (spec.tiedEmbeddings ? 1 : 2);
  const pos = spec.positions === 'learned' ? spec.maxPositions * d : 0;
  const finalNorm = spec.norm === 'layernorm' ? 2 * d : d;
  return embed + pos + finalNorm + layers.reduce((s, l) => s + layerParameters(spec, l), 0);
}

/** Float32 activations of one forward pass over [batch, seq] inside onnxruntime (peak of one block + the head). */
export function forwardActivationBytes(
  spec: ArchSpec,
  layers: readonly LayerShape[],
  batch: number,
  seq: number,
  logitCopies: number,
  logitColumns = spec.vocabSize,
): number {
  const rows = batch * seq;
  const widest = Math.max(3 * spec.hiddenSize, ...layers.map((l) => (spec.gatedMlp ? 2 : 1) * l.ffnSize));
  const heads = Math.max(0, ...layers.map((l) => l.numHeads));
  const hidden = rows * spec.hiddenSize * 4; // residual stream, normed input, attention output, block output
  const scores = 2 * batch * heads * seq * seq; // scores and probabilities
  const logits = logitCopies * rows * logitColumns;
  return F32 * (hidden + rows * widest + scores + logits);
}
