/**
 * What every pruning method (compensation, recovery, allocation) declares about itself, shaped like
 * saliency's `Criterion`: a name, a one-paragraph explanation, its source and what it needs before
 * it can run. The engine checks `needs` (requireNeeds), the UI greys out and the CLI calibrates from
 * it (unmetNeed): nobody restates the rule.
 */
import { InputError } from '../core/errors';
import { hasHessians, type CalibrationStats } from '../core/stats';

export interface MethodNeeds {
  /** Calibration statistics (channel sums) of the dense model. */
  calibration: boolean;
  /** X^T X of the o / down projection inputs (calibration with Hessians; implies `calibration`). */
  hessians: boolean;
  /** Gradients of the calibration loss (the gradient graph). */
  gradients?: boolean;
  /** Recovery training: the distillation gradient graph over every block linear weight and the dense model's logits. */
  training?: boolean;
}

export interface MethodInfo<Name extends string = string> {
  name: Name;
  /** Short display name used in messages, e.g. 'OBS'. */
  label: string;
  /** One sentence a student understands, shown first (the precise `what` and the source follow). */
  plain: string;
  /** One paragraph: what it does (shown beside the control). */
  what: string;
  /** Primary source. */
  source: string;
  needs: MethodNeeds;
}

/** What a calibration (null: none yet) lacks for `needs`: 'calibration', 'hessians' or null when nothing. */
export function unmetNeed(
  needs: MethodNeeds,
  calibration: { withHessians: boolean } | null | undefined,
): 'calibration' | 'hessians' | null {
  if (needs.calibration && !calibration) return 'calibration';
  if (needs.hessians && !calibration?.withHessians) return 'hessians';
  return null;
}

/** Throws an actionable InputError when `stats` do not satisfy `needs` (`what`: e.g. 'OBS compensation'). */
export function requireNeeds(what: string, needs: MethodNeeds, stats: CalibrationStats | undefined): void {
  if ((needs.calibration || needs.hessians) && !stats)
    throw new InputError(`${what} needs calibration statistics.`, 'Run calibration first.');
  if (needs.hessians && !hasHessians(stats))
    throw new InputError(`${what} needs Hessians (X^T X).`, 'Re-run calibration with Hessians enabled.');
}
