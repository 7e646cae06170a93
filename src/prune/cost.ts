/**
 * Cost model: parameters and forward FLOPs of a (possibly pruned) model for a sequence length,
 * and the implied latency bound. FLOPs count 2 per multiply-add; attention scores and the
 * weighted sum add 4 * seq * headDim per head and token.
 */
import { parameterCount, type ModelIR } from '../core/ir';

export interface ModelCost {
  parameters: number;
  /** Weights of the blocks' linear layers only, without biases (what head/FFN pruning removes). */
  blockParameters: number;
  /** FLOPs of one forward pass over `seq` tokens (batch 1). */
  flops: number;
  /** Bytes of float32 weights. */
  weightBytes: number;
}

export function modelCost(ir: ModelIR, seq: number): ModelCost {
  const d = ir.spec.hiddenSize;
  const dh = ir.spec.headDim;
  const V = ir.spec.vocabSize;
  let block = 0;
  let flops = 0;
  for (const l of ir.layers) {
    const attn = d * dh * (2 * l.numHeads + 2 * l.numKvHeads);
    const mlp = d * l.ffnSize * (ir.spec.gatedMlp ? 3 : 2);
    block += attn + mlp;
    flops += 2 * seq * (attn + mlp) + 4 * seq * seq * dh * l.numHeads * 0.5;
  }
  flops += 2 * seq * d * V;
  const parameters = parameterCount(ir);
  return { parameters, blockParameters: block, flops, weightBytes: parameters * 4 };
}

/** Cost per prunable unit (FLOPs per token at `seq` context): used by latency-aware allocation. */
export function unitCosts(ir: ModelIR, seq: number) {
  const d = ir.spec.hiddenSize;
  const dh = ir.spec.headDim;
  return {
    kvGroup(layer: number) {
      const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
      const g = H / K;
      return 2 * (d * dh * (2 * g + 2)) + 2 * seq * dh * g;
    },
    neuron: 2 * d * (ir.spec.gatedMlp ? 3 : 2),
  };
}

/** Latency predicted from a dense measurement, scaled by the remaining FLOPs (compute-bound bound). */
export function predictedLatency(denseMs: number, dense: ModelCost, pruned: ModelCost): number {
  return denseMs * (pruned.flops / dense.flops);
}
