/**
 * Recovery training from the UI (pure): the loss choices with their weights, the defaults the
 * bench measured (bench/results/recovery-node-wasm.json: 60 Adam steps, learning rate 2e-4, 64
 * sequences of 128 tokens of calibration.txt, 4 a step), the request sent to api.recover, and the
 * recovery curve read back from the engine's progress messages while it trains.
 */
import type { PerplexityRequest, RecoveryRequest } from '../api/types';
import type { LossPoint } from '../store/results';

export type RecoveryLoss = 'distill' | 'lm';

export const RECOVERY_LOSSES: { name: RecoveryLoss; label: string; plain: string }[] = [
  {
    name: 'distill',
    label: 'Distillation (KL to the dense model + LM)',
    plain:
      'The pruned model learns to predict the same next-word probabilities as the original model (KL), optionally plus the real next word (LM).',
  },
  {
    name: 'lm',
    label: 'Language modelling only',
    plain: 'The pruned model learns to predict the real next word of the training text, without looking at the original model.',
  },
];

export interface RecoverySettings {
  loss: RecoveryLoss;
  /** Loss weights when `loss` is 'distill' (api defaults: KL 1, LM 0). */
  klWeight: number;
  lmWeight: number;
  steps: number;
  learningRate: number;
  /** Training sequences of 128 tokens cut from calibration.txt. */
  samples: number;
}

export const RECOVERY_UI_DEFAULTS: RecoverySettings = {
  loss: 'distill',
  klWeight: 1,
  lmWeight: 0,
  steps: 60,
  learningRate: 2e-4,
  samples: 64,
};

export const TRAINING_SEQ = 128;

/** The loss weights sent to the engine: LM only is lm 1, kl 0. */
export function lossWeights(s: Pick<RecoverySettings, 'loss' | 'klWeight' | 'lmWeight'>): { klWeight: number; lmWeight: number } {
  return s.loss === 'lm' ? { klWeight: 0, lmWeight: 1 } : { klWeight: s.klWeight, lmWeight: s.lmWeight };
}

/** What is wrong with the settings (shown beside the button), or null. */
export function settingsProblem(s: RecoverySettings): string | null {
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > 10_000) return 'Steps must be a whole number from 1 to 10,000.';
  if (!(s.learningRate > 0 && s.learningRate < 1)) return 'The learning rate must be above 0 and below 1.';
  if (!Number.isInteger(s.samples) || s.samples < 1) return 'Training sequences must be a whole number of at least 1.';
  const w = lossWeights(s);
  if (!(w.klWeight >= 0 && w.lmWeight >= 0) || w.klWeight + w.lmWeight <= 0) return 'The loss weights must be 0 or more, not both 0.';
  return null;
}

export function recoveryRequest(s: RecoverySettings, calibrationText: string, perplexity: PerplexityRequest): RecoveryRequest {
  return {
    steps: s.steps,
    learningRate: s.learningRate,
    ...lossWeights(s),
    training: { text: calibrationText, textName: 'calibration.txt', samples: s.samples, seq: TRAINING_SEQ },
    perplexity,
  };
}

const STEP = /^Recovery step (\d+)\/(\d+): loss (-?[\d.]+(?:e[-+]?\d+)?|NaN|Infinity)/;

/** A point of the curve from a progress message of api.recover ("Recovery step 3/60: loss 3.375 (KL 0.046)"). */
export function parseRecoveryStep(message: string | undefined): (LossPoint & { steps: number }) | null {
  const m = STEP.exec(message ?? '');
  if (!m) return null;
  return { step: Number(m[1]), steps: Number(m[2]), loss: Number(m[3]) };
}

/** Adds `p` to a curve, replacing a point of the same step (progress may repeat). */
export function withPoint(curve: readonly LossPoint[], p: LossPoint): LossPoint[] {
  return [...curve.filter((q) => q.step !== p.step), p].sort((a, b) => a.step - b.step);
}
