/**
 * Hidden-size (embedding-channel, residual-stream) slicing: keeps the listed channels of d_model
 * in every tensor that touches the residual stream, consistently across all blocks (NViT's EMB
 * unit). Token / position embeddings and an untied LM head lose columns (a tied LM head is the
 * token embedding, so it follows); every norm keeps the channels' weight / bias entries; q, k, v,
 * up and gate lose input columns; o and down lose output rows and their bias entries.
 * Note: LayerNorm / RMSNorm statistics are then taken over the kept channels only, so the sliced
 * model is not the dense model with channels zeroed (docs/METHODS.md, "Embedding channels").
 */
import type { LayerWeights, Linear, ModelIR, Norm } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import { keepColumns, keepRows } from './keep';

/** Keeps the listed columns of a [rows, cols] tensor (an embedding table). */
function tableColumns(t: Tensor, cols: readonly number[]): Tensor {
  return keepColumns({ weight: t }, cols).weight;
}

/** The listed entries of a [hidden] vector (a norm's weight or bias, the CLS token). */
function entries(t: Tensor, keep: readonly number[]): Tensor {
  return tensor(
    [keep.length],
    Float32Array.from(keep, (c) => t.data[c]!),
  );
}

function normEntries(n: Norm, keep: readonly number[]): Norm {
  return { weight: entries(n.weight, keep), ...(n.bias ? { bias: entries(n.bias, keep) } : {}) };
}

/** A patch embedding [hidden, C, p, p] (+ bias [hidden]) keeps the listed output channels. */
function patchRows(lin: Linear, keep: readonly number[]): Linear {
  const [d, ...rest] = lin.weight.shape;
  const per = rest.reduce((a, b) => a * b, 1);
  const flat = keepRows({ weight: tensor([d!, per], lin.weight.data), ...(lin.bias ? { bias: lin.bias } : {}) }, keep);
  return { ...flat, weight: tensor([keep.length, ...rest], flat.weight.data) };
}

const inputs = (lin: Linear, keep: readonly number[]): Linear => keepColumns(lin, keep);
const outputs = (lin: Linear, keep: readonly number[]): Linear => keepRows(lin, keep);

function sliceLayerHidden(w: LayerWeights, keep: readonly number[]): LayerWeights {
  const out: LayerWeights = {
    attnNorm: normEntries(w.attnNorm, keep),
    q: inputs(w.q, keep),
    k: inputs(w.k, keep),
    v: inputs(w.v, keep),
    o: outputs(w.o, keep),
    mlpNorm: normEntries(w.mlpNorm, keep),
    up: inputs(w.up, keep),
    down: outputs(w.down, keep),
  };
  if (w.gate) out.gate = inputs(w.gate, keep);
  return out;
}

/** The kept channels (ascending) of a hidden size with `removed` taken out. */
export function keptHidden(hiddenSize: number, removed: readonly number[]): number[] {
  const gone = new Set(removed);
  return Array.from({ length: hiddenSize }, (_, i) => i).filter((i) => !gone.has(i));
}

/** A copy of `ir` with only the `keep` channels of the residual stream (ascending, in range). */
export function sliceHidden(ir: ModelIR, keep: readonly number[]): ModelIR {
  const w = ir.weights;
  return {
    ...ir,
    spec: { ...ir.spec, hiddenSize: keep.length },
    weights: {
      ...(w.tokenEmbedding ? { tokenEmbedding: tableColumns(w.tokenEmbedding, keep) } : {}),
      ...(w.patchEmbedding ? { patchEmbedding: patchRows(w.patchEmbedding, keep) } : {}),
      ...(w.clsToken ? { clsToken: entries(w.clsToken, keep) } : {}),
      ...(w.lmHeadBias ? { lmHeadBias: w.lmHeadBias } : {}),
      ...(w.positionEmbedding ? { positionEmbedding: tableColumns(w.positionEmbedding, keep) } : {}),
      layers: w.layers.map((l) => sliceLayerHidden(l, keep)),
      finalNorm: normEntries(w.finalNorm, keep),
      ...(w.lmHead ? { lmHead: tableColumns(w.lmHead, keep) } : {}),
    },
  };
}
