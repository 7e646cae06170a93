/**
 * Numeric guards at the api boundary: importance scores and calibration losses that are NaN or
 * infinite (a model whose weights are finite but overflow, e.g. float16 checkpoints with huge
 * values) are refused with a NumericError naming the unit, instead of silently ranking garbage.
 */
import { NumericError } from '../core/errors';
import type { UnitScores } from '../saliency/types';

export function assertFiniteScores(s: UnitScores, label: string): void {
  const parts: [string, Float64Array | null, number][] = [
    ['head', s.heads, s.numHeads],
    ['FFN neuron', s.ffn, s.ffnSize],
    ['layer', s.layers, 1],
  ];
  for (const [what, values, width] of parts) {
    if (!values) continue;
    const i = values.findIndex((x) => !Number.isFinite(x));
    if (i < 0) continue;
    const unit = what === 'layer' ? `layer ${i}` : `layer ${Math.floor(i / width)} ${what} ${i % width}`;
    throw new NumericError(
      `${label} gave a ${Number.isNaN(values[i]!) ? 'NaN' : 'infinite'} score (${unit}); the scores were not kept.`,
      'The model overflows on the calibration text (non-finite activations); check its weights or use another checkpoint.',
    );
  }
}

export function assertFiniteLoss(loss: number, what: string): void {
  if (!Number.isFinite(loss)) {
    throw new NumericError(
      `${what} is ${Number.isNaN(loss) ? 'NaN' : 'infinite'}: the model produces non-finite logits on this text.`,
      'Check the model weights (overflowing values) or use another checkpoint.',
    );
  }
}
