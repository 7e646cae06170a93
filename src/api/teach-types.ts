/**
 * The StudioApi's types of the teaching views: sweeps, per-token losses, attention patterns, next
 * tokens (api/types.ts re-exports them).
 */
import type { JobOptions } from '../core/job';
import type { PruningPlan } from '../core/plan';
import type { Compensation } from '../prune/compensate';
import type { Allocation } from '../prune/allocation/registry';
import type { CriterionName } from '../saliency/types';
import type { ModelTarget, PerplexityRequest } from './perplexity-types';

/** One series of a sweep: a computed criterion, or random selection with a seed. */
export type SweepSeries = { criterion: CriterionName } | { random: number };

/** api.sweep: perplexity against the fraction removed, from masks on the dense session (no compensation). */
export interface SweepRequest {
  series: SweepSeries[];
  /** Fractions in [0, 1) of heads and / or FFN neurons removed (e.g. 0, 0.1, ..., 0.9). */
  fractions: number[];
  /** What a fraction removes: heads and FFN neurons alike (default), or only one kind. */
  units?: 'both' | 'heads' | 'ffn';
  /** Default uniform (every layer loses the fraction). */
  allocation?: Allocation;
  /** The tokens every point is scored on (fewer than the exact evaluation: a sweep is an estimate). */
  perplexity: PerplexityRequest;
  /**
   * Default 'none': masks on the dense session (kind 'estimate'). 'bias' / 'obs': each point's plan is
   * compensated and sliced as Apply does it and scored on a temporary session (kind 'exact'); needs
   * the calibration the compensation names.
   */
  compensation?: Compensation;
}

export interface SweepPoint {
  /** The criterion, or `random:<seed>`. */
  series: string;
  seed?: number;
  fraction: number;
  perplexity: number;
  meanNll: number;
  tokens: number;
  /**
   * 'estimate': masked dense model, no compensation; 'exact': the compensated, sliced model as Apply
   * builds it. Either way on the sweep's tokens (not the 8192-token evaluation protocol).
   */
  kind: 'estimate' | 'exact';
}

export interface SweepResult {
  points: SweepPoint[];
  units: NonNullable<SweepRequest['units']>;
  allocation: Allocation;
  compensation: Compensation;
}

export interface SweepJobOptions extends JobOptions {
  /** Called after every point. */
  onPoint?: (point: SweepPoint) => void;
}

/** api.tokenLosses: per-token loss on a short text, dense and pruned. */
export interface TokenLossRequest {
  text: string;
  /** At most this many tokens (default and cap 128, and the model's context). */
  maxTokens?: number;
  /** The pruned side: this plan's masks on the dense model; without it, the applied model. */
  plan?: PruningPlan;
}

export interface TokenLossResult {
  ids: number[];
  /** Each token decoded alone. */
  pieces: string[];
  /** -log p(token t | tokens before t) in nats; index 0 is NaN (no context). */
  dense: number[];
  pruned: number[];
  prunedFrom: 'plan' | 'applied';
}

export interface TopToken {
  id: number;
  text: string;
  prob: number;
}

/** api.attentionPatterns: attention of every head on a short text; optionally heads knocked out. */
export interface AttentionRequest {
  text: string;
  /** Default 48 tokens (cap 128). */
  maxTokens?: number;
  /** Heads masked to zero (head_mask) for the knocked-out next-token distribution. */
  knockout?: { layer: number; head: number }[];
  /** Next tokens listed (default 5). */
  topK?: number;
}

export interface AttentionResult {
  ids: number[];
  pieces: string[];
  /** Query heads per layer. */
  heads: number[];
  /** Per layer: row-major [heads, seq, seq] (query rows, key columns). */
  probs: Float32Array[];
  /** Dense next-token distribution after the text (top k). */
  next: TopToken[];
  knockedOut?: {
    heads: { layer: number; head: number }[];
    next: TopToken[];
    /** The dense top tokens with their probability once the heads are knocked out. */
    denseTopNow: TopToken[];
    /** KL(dense || knocked out) of the next-token distribution, in nats. */
    kl: number;
  };
}

/** api.nextTokens: top next tokens after prompt + continuation ids (first divergence in compare-text). */
export interface NextTokenRequest {
  prompt: string;
  continuation: number[];
  targets: ModelTarget[];
  k?: number;
}

export type NextTokenResult = Partial<Record<ModelTarget, TopToken[]>>;
