/**
 * The one importance interface: every criterion maps the model (+ calibration statistics, + a
 * masked-loss oracle) to one score per prunable unit. Higher = more important.
 * Units: heads [numLayers x numHeads], FFN neurons [numLayers x ffnSize], layers [numLayers].
 * A criterion that does not score a unit type returns null for it.
 */
import type { ModelIR } from '../core/ir';
import type { ProgressCallback } from '../core/job';
import type { CalibrationStats, GradientStats } from '../core/stats';

/** A criterion's registered name (the keys of CRITERIA in registry.ts; CRITERION_NAMES lists them). */
export type CriterionName = string;

export interface UnitScores {
  criterion: CriterionName;
  numLayers: number;
  numHeads: number;
  ffnSize: number;
  /** Row-major [numLayers, numHeads] or null. */
  heads: Float64Array | null;
  /** Row-major [numLayers, ffnSize] or null. */
  ffn: Float64Array | null;
  /** [numLayers] or null. */
  layers: Float64Array | null;
  /** [hiddenSize]: hidden (embedding / residual-stream) channels, scored by criteria that prune d_model (nvit). */
  hidden?: Float64Array | null;
}

/** Masks for one ablation run: 1 keeps a unit, 0 removes it. Same shapes as UnitScores. */
export interface MaskSet {
  heads: Float32Array;
  ffn: Float32Array;
  layers: Float32Array;
}

/** A latency table measured on this backend (api.measureUnitLatency): ms per unit and of the dense pass. */
export interface MeasuredUnitCost {
  kvGroupMs: number;
  neuronMs: number;
  denseMs: number;
}

export interface CriterionInput {
  ir: ModelIR;
  stats?: CalibrationStats;
  /** Mean calibration loss with the given masks (ablation criteria). */
  maskedLoss?: (masks: MaskSet) => Promise<number>;
  /**
   * The same loss for many mask sets at once, when the host evaluates them together (a large model:
   * block by block, api/masked-losses.ts); `onDone(fraction)` as it goes. Criteria that know all their
   * mask sets up front use it when present.
   */
  maskedLosses?: (sets: readonly MaskSet[], onDone?: (fraction: number) => void) => Promise<number[]>;
  /** Per-sequence mask-gradient accumulators (gradient criteria); computed once and shared. */
  gradients?: () => Promise<GradientStats>;
  /** NViT's per-batch (Σ w·g)² sums for heads, FFN neurons and hidden channels (saliency/nvit-grad.ts). */
  nvitGradients?: () => Promise<NvitGradients>;
  /** Measured milliseconds per kv group and per FFN neuron, and of the dense pass (latency-aware criteria). */
  measuredCost?: MeasuredUnitCost;
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
}

export interface CriterionInfo {
  name: CriterionName;
  label: string;
  /** One sentence a student understands, shown first (the formula and source follow in `what`). */
  plain: string;
  /** One paragraph: what it measures. */
  what: string;
  /** What it costs to compute. */
  cost: string;
  /** Primary source. */
  source: string;
  needs: { stats: boolean; gram: boolean; maskedLoss: boolean; gradients?: boolean };
}

export interface Criterion extends CriterionInfo {
  compute(input: CriterionInput): Promise<UnitScores>;
}

/** NViT's per-batch sums (saliency/nvit-grad.ts). */
export interface NvitGradients {
  batches: number;
  /** Σ_b (∂L_b/∂m)², [numLayers * numHeads]. */
  heads: Float64Array;
  /** Σ_b (∂L_b/∂m)², [numLayers * ffnSize]. */
  ffn: Float64Array;
  /** Σ_b (Σ_{w touches c} w·∂L_b/∂w)², [hiddenSize]. */
  hidden: Float64Array;
}
