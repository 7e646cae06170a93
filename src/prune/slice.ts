/**
 * Physical slicing: builds a smaller ModelIR from a plan. A head takes its q/k/v rows (+ bias
 * entries) and its o-projection columns with it; an FFN neuron its up/gate row (+ bias) and its
 * down column; a removed layer disappears; removed hidden channels leave every tensor on the
 * residual stream (slice-hidden.ts). Output biases (o, down) stay. Weights are copied, so
 * the dense model is untouched.
 */
import type { LayerShape, LayerWeights, ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import { copy, keepColumns, keepRows } from './keep';
import { keptHidden, sliceHidden } from './slice-hidden';

export { keepColumns, keepRows };

function keptIndices(total: number, removed: readonly number[]): number[] {
  const gone = new Set(removed);
  return Array.from({ length: total }, (_, i) => i).filter((i) => !gone.has(i));
}

/** Channel indices (within the o-projection input) of the given heads. */
export function headChannels(heads: readonly number[], headDim: number): number[] {
  return heads.flatMap((h) => Array.from({ length: headDim }, (_, j) => h * headDim + j));
}

export function sliceLayer(
  ir: ModelIR,
  layer: number,
  removedHeads: readonly number[],
  removedFfn: readonly number[],
): { shape: LayerShape; weights: LayerWeights } {
  const shape = ir.layers[layer]!;
  const w = ir.weights.layers[layer]!;
  const dh = ir.spec.headDim;
  const heads = keptIndices(shape.numHeads, removedHeads);
  const group = shape.numHeads / shape.numKvHeads;
  const kvHeads = keptIndices(shape.numKvHeads, []).filter((g) => heads.some((h) => Math.floor(h / group) === g));
  const qRows = headChannels(heads, dh);
  const kvRows = headChannels(kvHeads, dh);
  const ffn = keptIndices(shape.ffnSize, removedFfn);
  const weights: LayerWeights = {
    attnNorm: { weight: copy(w.attnNorm.weight), ...(w.attnNorm.bias ? { bias: copy(w.attnNorm.bias) } : {}) },
    q: keepRows(w.q, qRows),
    k: keepRows(w.k, kvRows),
    v: keepRows(w.v, kvRows),
    o: keepColumns(w.o, qRows),
    mlpNorm: { weight: copy(w.mlpNorm.weight), ...(w.mlpNorm.bias ? { bias: copy(w.mlpNorm.bias) } : {}) },
    up: keepRows(w.up, ffn),
    down: keepColumns(w.down, ffn),
  };
  if (w.gate) weights.gate = keepRows(w.gate, ffn);
  return { shape: { numHeads: heads.length, numKvHeads: kvHeads.length, ffnSize: ffn.length }, weights };
}

/**
 * `ir` sliced by `plan`. `layerSource(l)` gives the model whose layer l is sliced (default `ir`):
 * compensatedSlice (compensate.ts) passes one compensated layer at a time.
 */
export function sliceModel(
  ir: ModelIR,
  plan: PruningPlan,
  layerSource: (layer: number) => ModelIR = () => ir,
  /** Called with each kept layer's sliced weights as soon as they are made (e.g. to spill them). */
  onLayer?: (weights: LayerWeights) => void,
): ModelIR {
  const layers: LayerShape[] = [];
  const layerWeights: LayerWeights[] = [];
  const originalLayerIndex: number[] = [];
  for (const entry of plan.layers) {
    if (entry.removed) continue;
    const { shape, weights } = sliceLayer(layerSource(entry.index), entry.index, entry.removedHeads, entry.removedFfn);
    layers.push(shape);
    layerWeights.push(weights);
    onLayer?.(weights);
    originalLayerIndex.push(ir.originalLayerIndex[entry.index] ?? entry.index);
  }
  const sliced: ModelIR = {
    ...ir,
    spec: { ...ir.spec, numLayers: layers.length },
    layers,
    originalLayerIndex,
    weights: { ...ir.weights, layers: layerWeights },
  };
  const removedHidden = plan.removedHidden ?? [];
  return removedHidden.length ? sliceHidden(sliced, keptHidden(ir.spec.hiddenSize, removedHidden)) : sliced;
}
