/**
 * Statistics shared by saliency/ (which accumulates them and scores units with them) and prune/
 * (which compensates and recovers with them): calibration statistics and mask-gradient statistics
 * (types), and the pure readers (channel mean and variance, the OBS Hessian H = 2 XᵀX / N_seq).
 * Accumulation lives in saliency/stats.ts and saliency/gradients.ts. The Grams of all layers are
 * kept packed in float32 (core/packed-gram.ts), in memory or, for a large model, in a GramStore
 * (core/gram-store.ts: `gramStored`, read back one projection at a time); `hessian` expands one
 * projection's full float64 matrix when a consumer (OBS criterion, OBS compensation, SlimGPT,
 * redistribution) takes it, layer by layer. Test for Grams with `hasGram`, read them with
 * `packedGram` / `gramMatrix` / `hessian`, never through `gram` alone.
 */
import { GramStoreError, InputError } from './errors';
import type { GramStore, StoredGram } from './gram-store';
import { storageReason } from './gram-store';
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
  /** The same packed Gram when it was moved to a GramStore (then `gram` is null). */
  gramStored?: StoredGram;
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

/** Whether the statistics carry X^T X, in memory or in storage. */
export function hasGram(stats: ChannelStats): boolean {
  return !!stats.gram || !!stats.gramStored;
}

/**
 * The packed X^T X: the array in memory, or a fresh copy read back from its GramStore (freed by the
 * caller's scope). Undefined without Hessians; a store that fails gives a GramStoreError.
 */
export function packedGram(stats: ChannelStats): Float32Array | Float64Array | undefined {
  if (stats.gram) return stats.gram;
  const stored = stats.gramStored;
  if (!stored) return undefined;
  let values: Float32Array;
  try {
    values = stored.store.get(stored.key);
  } catch (e) {
    throw new GramStoreError(
      `The Hessian statistics "${stored.key}" could not be read back from ${stored.store.where} (${storageReason(e)}).`,
    );
  }
  if (values.length !== stored.length)
    throw new GramStoreError(
      `The Hessian statistics "${stored.key}" read back from ${stored.store.where} hold ${values.length} values, not ${stored.length}.`,
    );
  return values;
}

/** The full row-major float64 X^T X (channels x channels) of statistics calibrated with Hessians. */
export function gramMatrix(stats: ChannelStats, what = 'OBS'): Float64Array {
  const packed = packedGram(stats);
  if (!packed) throw new InputError(`${what} needs the X^T X statistics; calibrate with Hessians enabled.`);
  return unpackGram(packed, stats.channels);
}

/** The OBS Hessian of a projection's inputs: H = 2 XᵀX / N_seq (undamped), a fresh float64 matrix. */
export function hessian(stats: ChannelStats, numSequences: number): Float64Array {
  const h = gramMatrix(stats);
  for (let i = 0; i < h.length; i++) h[i] = (2 * h[i]!) / numSequences;
  return h;
}

/** Whether statistics carry X^T X (calibrated with Hessians). */
export function hasHessians(stats: CalibrationStats | undefined): boolean {
  const first = stats?.layers[0]?.attnIn;
  return !!first && hasGram(first);
}

/**
 * Moves a finished in-memory float32 Gram into `store` under `key` (then `gram` is null and
 * `gramStored` names it). Returns why the store refused it, in which case the Gram stays in memory
 * unchanged. Float64 Grams (exact references in tests) and Grams already stored are left as they are.
 */
export function storeGram(stats: ChannelStats, key: string, store: GramStore): string | undefined {
  const g = stats.gram;
  if (!(g instanceof Float32Array)) return undefined;
  try {
    store.put(key, g);
  } catch (e) {
    try {
      store.drop(key);
    } catch {
      // the store is failing already; the Gram stays in memory
    }
    return storageReason(e);
  }
  stats.gramStored = { store, key, length: g.length };
  stats.gram = null;
  return undefined;
}
