/**
 * Plan -> mask inputs of the preview graph (1 keeps a unit, 0 removes it). Hidden (embedding)
 * channels have no mask: removing them changes the norms' statistics (docs/METHODS.md,
 * "Embedding channels"), so a plan with `removedHidden` is refused by name rather than previewed
 * as if they stayed.
 */
import { InputError } from '../core/errors';
import type { PruningPlan } from '../core/plan';
import type { MaskSet } from '../saliency/types';

export function planMasks(plan: PruningPlan): MaskSet {
  if (plan.removedHidden?.length) {
    throw new InputError(
      `Plan "${plan.name}" removes ${plan.removedHidden.length} hidden channels, which the masked preview (and mask-based recovery) cannot express.`,
      'Apply the plan and evaluate the applied model instead.',
    );
  }
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
