/**
 * Statistics shared by saliency/ (which accumulates them and scores units with them) and prune/
 * (which compensates and recovers with them): calibration statistics and mask-gradient statistics
 * (types), and the pure readers (channel mean and variance, the OBS Hessian H = 2 XᵀX / N_seq).
 * Accumulation lives in saliency/stats.ts and saliency/gradients.ts. The Grams of all layers are
 * kept packed in float32 (core/packed-gram.ts); `hessian` expands one projection's full float64
 * matrix when a consumer (OBS criterion, OBS compensation, SlimGPT) takes it, layer by layer.
 */
import { InputError } from './errors';
import { unpackGram } from './packed-gram';

export interface ChannelStats {
  channels: number;
  /** Tokens seen. */
  count: number;
  sum: Float64Array;
  sumSq: Float64Array;
  /**
   * Sum over tokens of x x^T, when requested: packed upper block trapezoid (core/packed-gram.ts),
   * float32, summed batch by batch; `gramMatrix` gives the full matrix.
   */
  gram: Float32Array | Float64Array | null;
}

export interface LayerStats {
  attnIn: ChannelStats;
  ffnIn: ChannelStats;
  /** Sum over tokens of 1 - cos(h_in, h_out); a zero-norm cosine counts as 0.5 (ShortGPT). */
  influenceSum: number;
}

export interface CalibrationStats {
  numSequences: number;
  numTokens: number;
  /** Mean next-token NLL of the dense model on the calibration set. */
  baseLoss: number;
  layers: LayerStats[];
}

export interface AbsSq {
  /** Σ over sequences of |g_s| */
  sumAbs: Float64Array;
  /** Σ over sequences of g_s² */
  sumSq: Float64Array;
}

/** Per-sequence mask-gradient accumulators (Taylor, Fisher), from saliency/gradients.ts. */
export interface GradientStats {
  numSequences: number;
  /** Mean over sequences of L_s. */
  meanLoss: number;
  heads: AbsSq;
  ffn: AbsSq;
  layers: AbsSq;
}

/** Which X^T X to accumulate: all, none, or those a selector picks (e.g. one layer's, for SlimGPT). */
export type GramSelection = boolean | ((layer: number, kind: 'attnIn' | 'ffnIn') => boolean);

export function channelMean(s: ChannelStats): Float64Array {
  return s.sum.map((v) => v / s.count);
}

/** Unbiased sample variance per channel. */
export function channelVariance(s: ChannelStats): Float64Array {
  const n = s.count;
  return s.sum.map((sum, j) => Math.max(0, (s.sumSq[j]! - (sum * sum) / n) / (n - 1)));
}

/** The full row-major float64 X^T X (channels x channels) of statistics calibrated with Hessians. */
export function gramMatrix(stats: ChannelStats): Float64Array {
  if (!stats.gram) throw new InputError('OBS needs the X^T X statistics; calibrate with Hessians enabled.');
  return unpackGram(stats.gram, stats.channels);
}

/** The OBS Hessian of a projection's inputs: H = 2 XᵀX / N_seq (undamped), a fresh float64 matrix. */
export function hessian(stats: ChannelStats, numSequences: number): Float64Array {
  const h = gramMatrix(stats);
  for (let i = 0; i < h.length; i++) h[i] = (2 * h[i]!) / numSequences;
  return h;
}

/** Whether statistics carry X^T X (calibrated with Hessians). */
export function hasHessians(stats: CalibrationStats | undefined): boolean {
  return !!stats?.layers[0]?.attnIn.gram;
}
