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
import { keepColumns, keepRows } from './slice';

/** Keeps the listed columns of a [rows, cols] tensor (an embedding table). */
function tableColumns(t: Tensor, cols: readonly number[]): Tensor {
  return keepColumns({ weight: t }, cols).weight;
}

function normEntries(n: Norm, keep: readonly number[]): Norm {
  const pick = (t: Tensor) =>
    tensor(
      [keep.length],
      Float32Array.from(keep, (c) => t.data[c]!),
    );
  return { weight: pick(n.weight), ...(n.bias ? { bias: pick(n.bias) } : {}) };
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
      tokenEmbedding: tableColumns(w.tokenEmbedding, keep),
      ...(w.positionEmbedding ? { positionEmbedding: tableColumns(w.positionEmbedding, keep) } : {}),
      layers: w.layers.map((l) => sliceLayerHidden(l, keep)),
      finalNorm: normEntries(w.finalNorm, keep),
      ...(w.lmHead ? { lmHead: tableColumns(w.lmHead, keep) } : {}),
    },
  };
}
