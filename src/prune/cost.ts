/**
 * The one shape-only cost model: what a plan leaves (layer shapes after the plan, exactly as
 * slicing produces them), forward FLOPs of a model from its spec and layer shapes, parameters and
 * FLOPs of a ModelIR, and the FLOPs per prunable unit. Used by target solving (target.ts),
 * latency-aware allocation, the api's applied-model cost (which the bench reports) and the UI's
 * live numbers (ui/plan-cost.ts). FLOPs count 2 per multiply-add; attention scores and the
 * weighted sum add 4 · seq · headDim per head and token, halved for causality (not for a
 * bidirectional encoder). A ViT (`spec.vision`) adds its patch projection and applies its
 * classifier to one pooled vector instead of every position; `seq` is then 1 + patches.
 */
import { parameterCount, type ArchSpec, type LayerShape, type ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';

/** The part of the spec the cost model reads. */
export type CostSpec = Pick<ArchSpec, 'hiddenSize' | 'headDim' | 'vocabSize' | 'gatedMlp'> &
  Partial<Pick<ArchSpec, 'attention' | 'head' | 'vision'>>;

export interface ModelCost {
  parameters: number;
  /** Weights of the blocks' linear layers only, without biases (what head/FFN pruning removes). */
  blockParameters: number;
  /** FLOPs of one forward pass over `seq` tokens (batch 1). */
  flops: number;
  /** Bytes of float32 weights. */
  weightBytes: number;
}

/** The sequence length FLOP targets and unit costs use: 128 tokens for a language model, an image's 1 + patches for a ViT. */
export function defaultCostSeq(spec: Pick<ArchSpec, 'input' | 'maxPositions'>): number {
  return spec.input === 'patches' ? spec.maxPositions : 128;
}

/** Weights of one block's linear layers (without biases). */
function blockWeights(spec: CostSpec, l: LayerShape): { attn: number; mlp: number } {
  const { hiddenSize: d, headDim: dh, gatedMlp } = spec;
  return { attn: d * dh * (2 * l.numHeads + 2 * l.numKvHeads), mlp: d * l.ffnSize * (gatedMlp ? 3 : 2) };
}

/** FLOPs of one block over `seq` tokens. */
export function layerFlops(spec: CostSpec, l: LayerShape, seq: number): number {
  const { attn, mlp } = blockWeights(spec, l);
  const causal = spec.attention !== 'bidirectional';
  return 2 * seq * (attn + mlp) + 4 * seq * seq * spec.headDim * l.numHeads * (causal ? 0.5 : 1);
}

/** FLOPs of one forward pass over `seq` tokens (batch 1): the blocks and the LM head (a ViT: patch projection + classifier). */
export function forwardFlops(spec: CostSpec, layers: readonly LayerShape[], seq: number): number {
  let flops = 0;
  for (const l of layers) flops += layerFlops(spec, l, seq);
  const v = spec.vision;
  const patches = v ? 2 * (seq - 1) * v.numChannels * v.patchSize * v.patchSize * spec.hiddenSize : 0;
  const headRows = spec.head === 'classifier' ? 1 : seq;
  return flops + patches + 2 * headRows * spec.hiddenSize * spec.vocabSize;
}

/** Kv groups of a layer that keep at least one query head (slicing keeps exactly these). */
function keptKvGroups(shape: LayerShape, removedHeads: readonly number[]): number {
  if (shape.numKvHeads <= 0 || shape.numHeads <= 0) return 0;
  const group = shape.numHeads / shape.numKvHeads;
  const gone = new Set(removedHeads);
  let kept = 0;
  for (let g = 0; g < shape.numKvHeads; g++) {
    for (let h = g * group; h < (g + 1) * group; h++) {
      if (!gone.has(h)) {
        kept++;
        break;
      }
    }
  }
  return kept;
}

/**
 * Per-layer shapes after the plan, as prune/slice.ts produces them (a removed layer becomes
 * all-zero; a kv group stays while any of its query heads does). Layers the plan does not list stay.
 */
export function shapesAfter(layers: readonly LayerShape[], plan: PruningPlan | null): LayerShape[] {
  return layers.map((shape, i) => {
    const entry = plan?.layers[i];
    if (!entry) return shape;
    if (entry.removed) return { numHeads: 0, numKvHeads: 0, ffnSize: 0 };
    return {
      numHeads: shape.numHeads - entry.removedHeads.length,
      numKvHeads: keptKvGroups(shape, entry.removedHeads),
      ffnSize: shape.ffnSize - entry.removedFfn.length,
    };
  });
}

export function modelCost(ir: ModelIR, seq: number): ModelCost {
  let block = 0;
  for (const l of ir.layers) {
    const { attn, mlp } = blockWeights(ir.spec, l);
    block += attn + mlp;
  }
  const parameters = parameterCount(ir);
  return { parameters, blockParameters: block, flops: forwardFlops(ir.spec, ir.layers, seq), weightBytes: parameters * 4 };
}

/** Cost per prunable unit (FLOPs per token at `seq` context): used by latency-aware allocation. */
export function unitCosts(ir: ModelIR, seq: number) {
  const perToken = (a: LayerShape, b: LayerShape) => (layerFlops(ir.spec, a, seq) - layerFlops(ir.spec, b, seq)) / seq;
  const unit: LayerShape = { numHeads: 0, numKvHeads: 0, ffnSize: 1 };
  return {
    kvGroup(layer: number) {
      const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
      return perToken({ numHeads: H / K, numKvHeads: 1, ffnSize: 0 }, { numHeads: 0, numKvHeads: 0, ffnSize: 0 });
    },
    neuron: perToken(unit, { numHeads: 0, numKvHeads: 0, ffnSize: 0 }),
  };
}
