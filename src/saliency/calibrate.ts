/**
 * Calibration: runs calibration sequences through a session built with taps + masks + token
 * loss, streaming each batch's activations into CalibrationStats (nothing is kept per batch).
 * Also provides the masked-loss oracle used by ablation. Both take the unit masks to collect
 * with (default: all ones, the dense model) and extra feeds (e.g. the o/down weights of a graph
 * built with `weightInputs`), so statistics can be taken on a partly pruned, recovered model.
 * A calibration set holds token sequences or, for an image classifier, labelled images
 * (`sampleFeeds`, `sampleLossWeights`: one label and one loss term per image).
 * calibrate-by-layer.ts gives the same statistics one block at a time.
 */
import { InputError, throwIfAborted, UnsupportedModelError } from '../core/errors';
import { imageBatch, type ImageDataset } from '../eval/image-dataset';
import type { ModelIR } from '../core/ir';
import { asFloat32, int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { checkpoint, type JobOptions } from '../core/job';
import { rowsPerRun } from '../core/run-size';
import { accumulateChannels, accumulateInfluence, createStats, type CalibrationStats, type GramSelection } from './stats';
import type { MaskSet } from './types';
import { onesMasks } from './criteria/ablation';

export interface CalibrationSet {
  /** Name of the source text, for display and cache keys. */
  textName: string;
  samples: number;
  seq: number;
  /** [samples][seq] token ids (empty for an image set). */
  sequences: number[][];
  /** Image classifiers: the calibration images (samples = images, seq = tokens per image, 1 + patches). */
  images?: ImageDataset;
}

/** The first `samples` images of a labelled set as a calibration set (seq = the model's tokens per image). */
export function makeImageCalibrationSet(ds: ImageDataset, name: string, samples: number, seq: number): CalibrationSet {
  if (!Number.isInteger(samples) || samples < 1) throw new InputError(`Calibration needs at least 1 image, got ${samples}.`);
  if (ds.count < samples) throw new InputError(`The calibration set has ${ds.count} images; ${samples} are needed.`, 'Use fewer samples.');
  const per = ds.channels * ds.height * ds.width;
  const images: ImageDataset = {
    ...ds,
    count: samples,
    images: ds.images.subarray(0, samples * per),
    labels: ds.labels.subarray(0, samples),
  };
  return { textName: name, samples, seq, sequences: [], images };
}

/** Inputs and labels of samples [from, from + n): token sequences (next-token labels) or images (their class). */
export function sampleFeeds(set: CalibrationSet, from: number, n: number): { feeds: Feeds; size: number } {
  if (!set.images) {
    const batch = set.sequences.slice(from, from + n);
    return { feeds: feedsFor(batch, set.seq), size: batch.length };
  }
  const b = imageBatch(set.images, from, n);
  return {
    feeds: { pixel_values: { type: 'float32', dims: b.dims, data: b.data }, labels: int64Tensor(b.labels, [b.labels.length]) },
    size: b.labels.length,
  };
}

/** loss_weights for `size` samples: the next-token positions of each sequence, or 1 per image. */
export function sampleLossWeights(set: CalibrationSet, size: number): Feeds {
  if (!set.images) {
    const w = new Float32Array(size * set.seq);
    for (let r = 0; r < size; r++) w.fill(1, r * set.seq, r * set.seq + set.seq - 1);
    return { loss_weights: { type: 'float32', dims: [size, set.seq], data: w } };
  }
  return { loss_weights: { type: 'float32', dims: [size], data: new Float32Array(size).fill(1) } };
}

/** Scored predictions per sample: seq - 1 next tokens, or one label per image. */
export function scoredPerSample(set: CalibrationSet): number {
  return set.images ? 1 : set.seq - 1;
}

/** Sum of the scored NLL of a batch's token_nll ([size, seq] or [size]). */
function scoredNll(set: CalibrationSet, nll: Float32Array, size: number): number {
  if (!set.images) return sumNll(nll, size, set.seq);
  let s = 0;
  for (let r = 0; r < size; r++) s += nll[r]!;
  return s;
}

/** [from, n] of each batch of `batchSize` samples. */
export function sampleRanges(set: CalibrationSet, batchSize: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < set.samples; i += batchSize) out.push([i, Math.min(batchSize, set.samples - i)]);
  return out;
}

/** Cuts the first samples*seq tokens into non-overlapping sequences. */
export function makeCalibrationSet(ids: readonly number[], textName: string, samples: number, seq: number): CalibrationSet {
  if (!Number.isInteger(samples) || samples < 1) throw new InputError(`Calibration needs at least 1 sample, got ${samples}.`);
  if (!Number.isInteger(seq) || seq < 2) throw new InputError(`Calibration sequence length must be >= 2, got ${seq}.`);
  if (ids.length < samples * seq) {
    throw new InputError(
      `The calibration text has ${ids.length} tokens; ${samples} x ${seq} = ${samples * seq} are needed.`,
      'Use a longer text, fewer samples or shorter sequences.',
    );
  }
  const sequences = Array.from({ length: samples }, (_, i) => ids.slice(i * seq, (i + 1) * seq));
  return { textName, samples, seq, sequences };
}

export function maskFeeds(m: MaskSet, L: number, H: number, F: number) {
  return {
    head_mask: { type: 'float32' as const, dims: [L, H], data: m.heads },
    ffn_mask: { type: 'float32' as const, dims: [L, F], data: m.ffn },
    layer_mask: { type: 'float32' as const, dims: [L], data: m.layers },
  };
}

export function batches(set: CalibrationSet, batchSize: number): number[][][] {
  if (set.images)
    throw new UnsupportedModelError('Training on image calibration sets is not built yet.', 'Use a language model for recovery training.');
  const out: number[][][] = [];
  for (let i = 0; i < set.samples; i += batchSize) out.push(set.sequences.slice(i, i + batchSize));
  return out;
}

/** Mean next-token NLL over positions 0..seq-2 of each sequence, from token_nll [b, seq]. */
export function sumNll(nll: Float32Array, b: number, seq: number): number {
  let s = 0;
  for (let r = 0; r < b; r++) for (let p = 0; p < seq - 1; p++) s += nll[r * seq + p]!;
  return s;
}

export function feedsFor(batch: number[][], seq: number) {
  const ids = batch.flat();
  const labels = batch.flatMap((row) => [...row.slice(1), 0]);
  return { input_ids: int64Tensor(ids, [batch.length, seq]), labels: int64Tensor(labels, [batch.length, seq]) };
}

/** Taps whose X^T X the stats want and the session computes itself (a graph built with `grams`). */
export function graphGrams(stats: CalibrationStats, session: RunnerSession): Set<string> {
  const out = new Set<string>();
  stats.layers.forEach((st, l) => {
    for (const [s, tap] of [
      [st.attnIn, `attn_in.${l}`],
      [st.ffnIn, `ffn_in.${l}`],
    ] as const) {
      if (s.gram && session.outputNames.includes(`gram.${tap}`)) out.add(tap);
    }
  });
  return out;
}

export async function collectStats(
  ir: ModelIR,
  session: RunnerSession,
  set: CalibrationSet,
  opts: JobOptions & { withGram: GramSelection; batchSize?: number; masks?: MaskSet; extraFeeds?: Feeds },
): Promise<CalibrationStats> {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const stats = createStats(ir, opts.withGram);
  const masks = { ...maskFeeds(opts.masks ?? onesMasks(L, H, F), L, H, F), ...opts.extraFeeds };
  const taps = Array.from({ length: L }, (_, i) => [`attn_in.${i}`, `ffn_in.${i}`, `hidden.${i}`]).flat();
  const inGraph = graphGrams(stats, session);
  const outputs = ['token_nll', ...taps, `hidden.${L}`, ...[...inGraph].map((t) => `gram.${t}`)];
  // Runs are sized to the FLOPs budget (core/run-size.ts), so each one ends well within the cancel bound.
  const all = sampleRanges(set, rowsPerRun(ir, set.seq, opts.batchSize ?? 4));
  let nll = 0;
  for (const [bi, [from, n]] of all.entries()) {
    await checkpoint(opts, 'Calibration');
    const { feeds, size } = sampleFeeds(set, from, n);
    const out = await session.run({ ...feeds, ...masks }, outputs);
    const rows = size * set.seq;
    const gramOf = (tap: string) => (inGraph.has(tap) ? asFloat32(out[`gram.${tap}`], `gram.${tap}`) : undefined);
    for (let l = 0; l < L; l++) {
      const st = stats.layers[l]!;
      accumulateChannels(st.attnIn, asFloat32(out[`attn_in.${l}`], `attn_in.${l}`), rows, gramOf(`attn_in.${l}`));
      accumulateChannels(st.ffnIn, asFloat32(out[`ffn_in.${l}`], `ffn_in.${l}`), rows, gramOf(`ffn_in.${l}`));
      const hIn = asFloat32(out[`hidden.${l}`], `hidden.${l}`);
      const hOut = asFloat32(out[`hidden.${l + 1}`], `hidden.${l + 1}`);
      accumulateInfluence(st, hIn, hOut, rows, ir.spec.hiddenSize);
    }
    nll += scoredNll(set, asFloat32(out.token_nll, 'token_nll'), size);
    stats.numSequences += size;
    stats.numTokens += rows;
    opts.onProgress?.({ stage: 'calibration', done: bi + 1, total: all.length, message: `Calibration batch ${bi + 1}/${all.length}` });
  }
  stats.baseLoss = nll / (set.samples * scoredPerSample(set));
  return stats;
}

/**
 * Returns maskedLoss(masks): mean calibration NLL with the given unit masks, multiplied by the
 * base masks when given (so ablation can run on an already masked model); extra feeds carry
 * e.g. the weight inputs of a `weightInputs` graph.
 */
export function maskedLossOracle(
  ir: ModelIR,
  session: RunnerSession,
  set: CalibrationSet,
  batchSize = 8,
  base: { masks?: MaskSet; extraFeeds?: Feeds; signal?: AbortSignal } = {},
) {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const times = (a: Float32Array, b: Float32Array | undefined) => (b ? a.map((v, i) => v * b[i]!) : a);
  return async (m: MaskSet): Promise<number> => {
    const masks = {
      heads: times(m.heads, base.masks?.heads),
      ffn: times(m.ffn, base.masks?.ffn),
      layers: times(m.layers, base.masks?.layers),
    };
    let nll = 0;
    for (const [from, n] of sampleRanges(set, rowsPerRun(ir, set.seq, batchSize))) {
      throwIfAborted(base.signal, 'The masked-loss evaluation');
      const { feeds, size } = sampleFeeds(set, from, n);
      const out = await session.run({ ...feeds, ...maskFeeds(masks, L, H, F), ...base.extraFeeds }, ['token_nll']);
      nll += scoredNll(set, asFloat32(out.token_nll, 'token_nll'), size);
    }
    return nll / (set.samples * scoredPerSample(set));
  };
}
