/** Plan -> mask inputs of the preview graph (1 keeps a unit, 0 removes it). */
import type { PruningPlan } from '../core/plan';
import type { MaskSet } from '../saliency/types';

export function planMasks(plan: PruningPlan): MaskSet {
  const { numLayers: L, numHeads: H, ffnSize: F } = plan.model;
  const heads = new Float32Array(L * H).fill(1);
  const ffn = new Float32Array(L * F).fill(1);
  const layers = new Float32Array(L).fill(1);
  for (const l of plan.layers) {
    if (l.removed) layers[l.index] = 0;
    for (const h of l.removedHeads) heads[l.index * H + h] = 0;
    for (const j of l.removedFfn) ffn[l.index * F + j] = 0;
  }
  return { heads, ffn, layers };
}
