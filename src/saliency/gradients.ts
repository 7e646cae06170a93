/**
 * Gradient statistics from a gradient graph (src/graph/grad; built with masks, and for weight
 * gradients with `weightInputs`):
 *  - per-sequence mask gradients g_s = dL_s/dm (L_s = mean next-token NLL over positions
 *    0..seq-2 of sequence s), accumulated in float64 as Σ_s |g_s| (Taylor) and Σ_s g_s² (Fisher)
 *    for heads, FFN neurons and layers;
 *  - full-batch gradients of the mean calibration loss (all sequences' scored tokens), for
 *    gradient-descent recovery of the o / down projections.
 * Runs with the given masks and extra feeds (e.g. current weights), so a partly pruned model works.
 */
import { throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { asFloat32, type Feeds, type RunnerSession } from '../core/runner';
import type { JobOptions } from '../core/job';
import { rowsPerRun } from '../core/run-size';
import { maskFeeds, sampleFeeds, sampleLossWeights, type CalibrationSet } from './calibrate';
import { onesMasks } from './criteria/ablation';
import type { AbsSq, GradientStats } from '../core/stats';
import type { MaskSet } from './types';

export type { AbsSq, GradientStats } from '../core/stats';

export interface GradientRunOptions extends JobOptions {
  masks?: MaskSet;
  /** Extra inputs, e.g. weight.o.i / weight.down.i of a `weightInputs` graph. */
  extraFeeds?: Feeds;
}

/** loss_weights [b, seq]: 1 on positions 0..seq-2 (each predicts the next token), 0 on the last. */
export function nextTokenWeights(b: number, seq: number): Feeds {
  const w = new Float32Array(b * seq);
  for (let r = 0; r < b; r++) w.fill(1, r * seq, r * seq + seq - 1);
  return { loss_weights: { type: 'float32', dims: [b, seq], data: w } };
}

function dims(ir: ModelIR) {
  return { L: ir.layers.length, H: ir.layers[0]?.numHeads ?? 0, F: ir.layers[0]?.ffnSize ?? 0 };
}

export function absSq(n: number): AbsSq {
  return { sumAbs: new Float64Array(n), sumSq: new Float64Array(n) };
}

/** Σ |g| and Σ g² into `acc`. */
export function accumulate(acc: AbsSq, g: Float32Array): void {
  for (let i = 0; i < g.length; i++) {
    const v = g[i]!;
    acc.sumAbs[i] = acc.sumAbs[i]! + Math.abs(v);
    acc.sumSq[i] = acc.sumSq[i]! + v * v;
  }
}

export const MASK_GRADS = ['grad.head_mask', 'grad.ffn_mask', 'grad.layer_mask'] as const;

/** One backward pass per calibration sequence; returns the Taylor / Fisher accumulators. */
export async function collectMaskGradients(
  ir: ModelIR,
  session: RunnerSession,
  set: CalibrationSet,
  opts: GradientRunOptions = {},
): Promise<GradientStats> {
  const { L, H, F } = dims(ir);
  const base = { ...maskFeeds(opts.masks ?? onesMasks(L, H, F), L, H, F), ...sampleLossWeights(set, 1), ...opts.extraFeeds };
  const stats: GradientStats = { numSequences: 0, meanLoss: 0, heads: absSq(L * H), ffn: absSq(L * F), layers: absSq(L) };
  let lossSum = 0;
  for (let s = 0; s < set.samples; s++) {
    throwIfAborted(opts.signal, 'Gradient calibration');
    const out = await session.run({ ...base, ...sampleFeeds(set, s, 1).feeds }, ['loss', ...MASK_GRADS]);
    accumulate(stats.heads, asFloat32(out['grad.head_mask'], 'grad.head_mask'));
    accumulate(stats.ffn, asFloat32(out['grad.ffn_mask'], 'grad.ffn_mask'));
    accumulate(stats.layers, asFloat32(out['grad.layer_mask'], 'grad.layer_mask'));
    lossSum += asFloat32(out.loss, 'loss')[0]!;
    stats.numSequences++;
    opts.onProgress?.({ stage: 'gradients', done: s + 1, total: set.samples, message: `Backward pass ${s + 1}/${set.samples}` });
  }
  stats.meanLoss = lossSum / stats.numSequences;
  return stats;
}

export interface BatchGradients {
  /** Mean NLL over every scored token of the calibration set. */
  loss: number;
  /** d loss / d output name (e.g. grad.o.0, grad.head_mask), float64. */
  grads: Map<string, Float64Array>;
}

/**
 * Gradient of the mean calibration loss over all scored tokens, accumulated over batches (every
 * batch's loss is a mean over its tokens, so batches are weighted by their token counts).
 */
export async function batchGradients(
  ir: ModelIR,
  session: RunnerSession,
  set: CalibrationSet,
  outputs: readonly string[],
  opts: GradientRunOptions & { batchSize?: number } = {},
): Promise<BatchGradients> {
  const { L, H, F } = dims(ir);
  const masks = { ...maskFeeds(opts.masks ?? onesMasks(L, H, F), L, H, F), ...opts.extraFeeds };
  const grads = new Map<string, Float64Array>();
  let loss = 0;
  const batchSize = rowsPerRun(ir, set.seq, opts.batchSize ?? 4);
  for (let from = 0; from < set.samples; from += batchSize) {
    throwIfAborted(opts.signal, 'Gradient computation');
    const { feeds, size } = sampleFeeds(set, from, batchSize);
    const out = await session.run({ ...masks, ...feeds, ...sampleLossWeights(set, size) }, ['loss', ...outputs]);
    const share = size / set.samples;
    loss += share * asFloat32(out.loss, 'loss')[0]!;
    for (const name of outputs) {
      const g = asFloat32(out[name], name);
      let acc = grads.get(name);
      if (!acc) grads.set(name, (acc = new Float64Array(g.length)));
      for (let i = 0; i < g.length; i++) acc[i] = acc[i]! + share * g[i]!;
    }
  }
  return { loss, grads };
}
