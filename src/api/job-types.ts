/**
 * The StudioApi's types of an applied model and of its training jobs: recovery, iterative
 * prune-and-recover, SlimGPT, generation (api/types.ts re-exports them).
 */
import type { LayerShape } from '../core/ir';
import type { JobOptions } from '../core/job';
import type { PruningPlan } from '../core/plan';
import type { Compensation } from '../prune/compensate';
import type { ModelCost } from '../prune/cost';
import type { CriterionName } from '../saliency/types';
import type { Recovery } from '../prune/recovery/registry';
import type { CurvePoint } from '../prune/distill';
import type { RoundRecord } from '../prune/iterative';
import type { SlimGptAllocation, SlimGptLayerRecord } from '../prune/slimgpt';
import type { AccuracyReport, ImageDataset } from './vision-types';
import type { ModelTarget, PerplexityRequest, PerplexityResult } from './perplexity-types';

export interface AppliedModel {
  plan: PruningPlan;
  compensation: Compensation;
  /** Set when the model came from iterative prune-and-recover. */
  recovery?: { method: Recovery; rounds: number; sgdSteps?: number; sgdLearningRate?: number };
  /** The redistribution's settings (rank, ridge, intercept) when the compensation was 'redistribute'. */
  compensationOptions?: { rank: number; ridge: number; intercept: boolean };
  /** Set when the model was fine-tuned by distillation from the dense model (api.recover or 'distill' rounds). */
  training?: RecoveryTraining;
  layers: LayerShape[];
  parameters: number;
  weightBytes: number;
  cost: ModelCost;
  denseCost: ModelCost;
}

/** How a model was trained by distillation (src/prune/distill.ts); per round for iterative 'distill'. */
export interface RecoveryTraining {
  steps: number;
  learningRate: number;
  /** Loss = lm · NLL + kl · cross-entropy to the dense model's distribution. */
  lm: number;
  kl: number;
  textName: string;
  samples: number;
  seq: number;
}

/** Recovery training of the applied model: distillation from the dense model (calibrate or pass text first). */
export interface RecoveryRequest {
  /** Adam steps, one minibatch each (default 40). */
  steps?: number;
  /** Peak Adam learning rate, cosine-decayed to 0 over the steps (default 2e-4). */
  learningRate?: number;
  /** Loss weights: lm · NLL + kl · cross-entropy to the dense model (defaults: lm 0, kl 1). */
  lmWeight?: number;
  klWeight?: number;
  /** Sequences per step (default 4). */
  batchSize?: number;
  /** Training text (default: the calibration set). */
  training?: { text: string; textName: string; samples: number; seq?: number };
  /** Perplexity of the result (evaluation protocol; required for a language model, not read for an image classifier). */
  perplexity?: PerplexityRequest;
  /** Image classifiers: labelled training images (default: the calibration images), validation and evaluation images. */
  images?: RecoveryImages;
}

/** Images of an image classifier's recovery training (api/recovery-images.ts); keep the evaluation images out of training. */
export interface RecoveryImages {
  training?: ImageDataset;
  /** Accuracy on these every `validateEvery` steps (and after the last): the validation curve. */
  validation?: ImageDataset;
  validateEvery?: number;
  /** Accuracy of the result on these (e.g. the test images). */
  evaluation?: ImageDataset;
}

/** Top-1 accuracy and mean loss of the model being trained after `step` steps (0: before training). */
export interface ValidationPoint {
  step: number;
  accuracy: number;
  meanLoss: number;
}

export interface RecoveryResult {
  applied: AppliedModel;
  /** Loss of each step's minibatch before its update: the recovery curve. */
  curve: CurvePoint[];
  /** Language models: the result's perplexity (an image classifier reports `accuracy` instead). */
  perplexity?: PerplexityResult;
  /** Image classifiers: accuracy of the result on `images.evaluation`, and the validation curve. */
  accuracy?: AccuracyReport;
  validation?: ValidationPoint[];
  ms: number;
  /** Memory of Adam's moments (2 float64 per trained weight). */
  adamStateBytes: number;
}

/** Iterative prune-and-recover (src/prune/iterative.ts): reach the targets in rounds, recovering after each. */
export interface IterativeRequest {
  /** Criterion recomputed on the current (masked, recovered) model every round. */
  criterion: CriterionName;
  /** Target fractions of heads and FFN neurons removed (uniform across layers). */
  heads: number;
  ffn: number;
  /**
   * Rounds; each removes about 1 − (1 − target)^(1/rounds) of what remains. Default: enough rounds
   * for about 12.5% per round (6 for 50%, 10 for 70%).
   */
  rounds?: number;
  /** After each round: OBS compensation, gradient descent on the o / down projections, or nothing. */
  recovery: Recovery;
  /** Gradient-descent steps per round (default 10) and learning rate (default 0.05), for 'sgd'. */
  sgdSteps?: number;
  sgdLearningRate?: number;
  /** Distillation training per round ('distill'): steps per round (default 40), learning rate, loss weights, text. */
  training?: Omit<RecoveryRequest, 'perplexity'>;
  /** Training steps on the final structure after the last round (training recoveries; default 0). */
  finalSteps?: number;
  /** 'run' (default): one Adam and one cosine decay over every round's steps and the final steps; 'round': fresh each round. */
  trainingSchedule?: 'run' | 'round';
  /** Perplexity after every round and of the final model, on the same request (the studio: evaluation.txt, 8,192 tokens, ctx 128, stride 64). */
  perplexity: PerplexityRequest;
  locked?: number[];
  name?: string;
}

/** One point of the progress view: the state after a round (round 0 = the dense model). */
export type IterativeRound = RoundRecord;

export interface IterativeResult {
  plan: PruningPlan;
  applied: AppliedModel;
  /** Round 0 (dense) then one record per round. */
  rounds: IterativeRound[];
  /** Perplexity of the final pruned model (sliced, as exported), with its protocol. */
  perplexity: PerplexityResult;
}

export interface IterativeJobOptions extends JobOptions {
  /** Called after each round (and once for the dense model) with the perplexity reached. */
  onRound?: (round: IterativeRound) => void;
}

/** SlimGPT (src/prune/slimgpt.ts): layer-wise structured OBS, calibrated sequentially (calibrate first). */
export interface SlimGptRequest {
  /** Mean fractions of heads (kv groups) and FFN channels removed per layer. */
  heads: number;
  ffn: number;
  /** uniform: the same fraction in every layer; incremental: SlimGPT's log-increase (fewer in early layers). */
  allocation: SlimGptAllocation;
  locked?: number[];
  /** Perplexity of the result (the studio default: evaluation.txt, 8192 tokens, ctx 128, stride 64). */
  perplexity: PerplexityRequest;
  name?: string;
}

export interface SlimGptResult {
  plan: PruningPlan;
  applied: AppliedModel;
  /** One record per layer: heads in pick order with their errors, FFN group sizes, time. */
  layers: SlimGptLayerRecord[];
  perplexity: PerplexityResult;
  ms: number;
}

export interface SlimGptJobOptions extends JobOptions {
  /** Called when a layer is done. */
  onLayer?: (layer: SlimGptLayerRecord) => void;
}

export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  topK: number;
  seed: number;
  target: ModelTarget;
}

export interface GenerateResult {
  target: ModelTarget;
  text: string;
  newTokens: number;
  ms: number;
  /** The generated token ids and each one decoded alone (compare-text finds the first divergence). */
  ids?: number[];
  pieces?: string[];
}
