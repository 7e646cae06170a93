/**
 * The recovery contract of iterative prune-and-recover (prune/iterative.ts): after a round has
 * picked its units, a recovery method updates the full-size masked model's o / down projections
 * (only those change, so the masked model stays equal to the sliced one). One file per method next
 * to this one, listed in registry.ts.
 */
import type { ModelIR } from '../../core/ir';
import type { PlanLayer } from '../../core/plan';
import type { CalibrationStats } from '../../core/stats';
import type { MaskSet } from '../../saliency/types';
import type { MethodInfo } from '../method';
import type { CurvePoint, DistillEngine, DistillHooks, DistillOptions } from '../distill';

/** What recovery needs from the inference engine, evaluated at (ir weights, masks). */
export interface RecoveryEngine {
  /** Mean calibration loss (forward only). */
  loss(ir: ModelIR, masks: MaskSet): Promise<number>;
  /** Mean calibration loss and its gradients (outputs named grad.o.l / grad.down.l). */
  weightGradients(ir: ModelIR, masks: MaskSet): Promise<{ loss: number; grads: Map<string, Float64Array> }>;
  /** Distillation training steps (every block linear weight); present when the recovery trains. */
  distill?: DistillEngine;
}

export interface RecoveryInput {
  /** The model before this round's recovery (its own o / down copies). */
  ir: ModelIR;
  /** Units this round removes, per layer. */
  removed: readonly Pick<PlanLayer, 'removedHeads' | 'removedFfn'>[];
  /** Statistics taken just before this round's units were masked (with X^T X when needs.hessians). */
  stats?: CalibrationStats;
  /** The masks after this round. */
  masks: MaskSet;
  engine: RecoveryEngine;
  sgdSteps: number;
  sgdLearningRate: number;
  /** Step budget and learning rate of distillation training ('distill'). */
  training?: DistillOptions;
  /** The run's optimizer, learning rate of each local step and first minibatch (iterative's training schedule). */
  optimizer?: Pick<DistillHooks, 'adam' | 'lrAt' | 'firstBatch'>;
  signal?: AbortSignal;
  /** Reports a step of the current round, e.g. 'gradient step 2/10'. */
  progress: (step: string) => void;
}

export interface RecoveryResult {
  ir: ModelIR;
  /** Mean calibration loss before and after the gradient steps (NaN without them). */
  lossBefore: number;
  lossAfter: number;
  /** Training loss per step ('distill'). */
  curve?: CurvePoint[];
}

export interface RecoveryMethod extends MethodInfo {
  apply(input: RecoveryInput): Promise<RecoveryResult>;
}
