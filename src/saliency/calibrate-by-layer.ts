/**
 * Calibration one block at a time (SparseGPT's sequential scheme): block l's session (a graph built
 * with layerRange l..l+1, weights as inputs) reads only that block's weights; every batch runs
 * through it from the residual stream block l-1 left (the embedding for l = 0), its statistics are
 * accumulated and its output is carried to block l+1. Per layer the batches are accumulated in the
 * same order as collectStats, from the same activations, so the statistics are those of the
 * whole-model tap graph. `runBlock` is the step; `collectStatsByLayer` calibration; SlimGPT's engine
 * (api/slimgpt.ts) advances the stream itself through the blocks it has pruned.
 */
import { throwIfAborted } from '../core/errors';
import { blockRowFlops, blockRowsPerRun } from '../core/run-size';
import type { ModelIR } from '../core/ir';
import type { JobOptions } from '../core/job';
import { asFloat32, float32Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { embedRows } from '../graph/embed-rows';
import type { HeadInput } from '../graph/head-chunks';
import { batches, feedsFor, graphGrams, maskFeeds, sumNll, type CalibrationSet } from './calibrate';
import { onesMasks } from './criteria/ablation';
import { accumulateChannels, accumulateInfluence, createStats, type CalibrationStats, type GramSelection } from './stats';
import type { MaskSet } from './types';

/** Opens the graph of block `layer` alone (layerRange layer..layer+1): taps, packed grams and, for the last block, the token loss. */
export type BlockSessionOpener = (layer: number) => Promise<RunnerSession>;

export interface BlockRunOptions extends JobOptions {
  batchSize?: number;
  masks?: MaskSet;
  /** Feeds such as recovered or compensated weights; only those the block's graph declares are passed. */
  extraFeeds?: Feeds;
  /** FLOPs one run may cost (core/run-size.ts RUN_FLOPS_BUDGET unless given): sizes each block's batches. */
  flopsBudget?: number;
  /** After each batch: samples done of all samples of this block (batches differ in size between blocks). */
  onBatch?: (done: number, total: number) => void;
  /** The token loss of the last block's output when its graph stops before the head (graph/head-chunks.ts chunkedHeadNll). */
  separateHead?: (input: HeadInput) => Promise<Float32Array>;
}

/** The residual stream entering the next block, per batch, and Σ token NLL when the block has the head. */
export interface BlockRun {
  stream: Float32Array[];
  nll: number;
}

/** The stream's per-sample views (`width` = seq·d values each), in sample order, without copying. */
function sampleViews(stream: readonly Float32Array[], width: number): Float32Array[] {
  return stream.flatMap((batch) => Array.from({ length: batch.length / width }, (_, i) => batch.subarray(i * width, (i + 1) * width)));
}

/** Samples from..from+n as one array (the view itself for one sample). */
function joined(samples: readonly Float32Array[], from: number, n: number): Float32Array {
  if (n === 1) return samples[from]!;
  const width = samples[from]!.length;
  const out = new Float32Array(n * width);
  for (let i = 0; i < n; i++) out.set(samples[from + i]!, i * width);
  return out;
}

/**
 * Runs block l over the calibration set from `stream` (the residual stream entering it, per batch;
 * ignored for l = 0; block 0 gets the embedding from embed-rows.ts when its graph reads hidden_in) and adds its statistics (channel sums, the Grams `stats` asks for, influence)
 * to stats.layers[l]. numSequences / numTokens / baseLoss are left to the caller.
 */
export async function runBlock(
  ir: ModelIR,
  session: RunnerSession,
  l: number,
  set: CalibrationSet,
  stream: readonly Float32Array[],
  stats: CalibrationStats,
  opts: BlockRunOptions = {},
): Promise<BlockRun> {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const d = ir.spec.hiddenSize;
  const shared: Feeds = { ...maskFeeds(opts.masks ?? onesMasks(L, H, F), L, H, F), ...opts.extraFeeds };
  const fixed = Object.fromEntries(Object.entries(shared).filter(([name]) => session.inputNames.includes(name)));
  const st = stats.layers[l]!;
  const inGraph = graphGrams(stats, session);
  const taps = [`attn_in.${l}`, `ffn_in.${l}`];
  const withLoss = session.outputNames.includes('token_nll');
  const headApart = l === L - 1 && !withLoss ? opts.separateHead : undefined;
  // Block 0 opened with layerRange `embedded` reads the embedding computed in JS (graph/embed-rows.ts).
  const embedded = l === 0 && session.inputNames.includes('hidden_in');
  const outputs = [
    ...taps,
    `hidden.${l + 1}`,
    ...(l === 0 && !embedded ? ['hidden.0'] : []),
    ...(withLoss ? ['token_nll'] : []),
    ...taps.filter((t) => inGraph.has(t)).map((t) => `gram.${t}`),
  ];
  // Rows per run sized by this block's FLOPs (the last block carries the LM head): each run stays
  // well under the 2 s cancel bound; the stream is re-cut per sample, so blocks may batch differently.
  const size = blockRowsPerRun(ir, l, set.seq, inGraph.size > 0, opts.batchSize ?? 4, opts.flopsBudget);
  const all = batches(set, size);
  const samples = l > 0 ? sampleViews(stream, set.seq * d) : [];
  const next: Float32Array[] = [];
  let nll = 0;
  for (const [bi, batch] of all.entries()) {
    throwIfAborted(opts.signal, 'Calibration');
    const rows = batch.length * set.seq;
    const ids = feedsFor(batch, set.seq);
    const input =
      l > 0 ? joined(samples, bi * size, batch.length) : embedded ? embedRows(ir, ids.input_ids!, batch.length, set.seq) : undefined;
    const feeds: Feeds = {
      ...fixed,
      input_ids: ids.input_ids,
      ...(session.inputNames.includes('labels') ? { labels: ids.labels } : {}),
      ...(input ? { hidden_in: float32Tensor(input, [batch.length, set.seq, d]) } : {}),
    };
    const out = await session.run(feeds, outputs);
    const gramOf = (tap: string) => (inGraph.has(tap) ? asFloat32(out[`gram.${tap}`], `gram.${tap}`) : undefined);
    accumulateChannels(st.attnIn, asFloat32(out[taps[0]!], taps[0]!), rows, gramOf(taps[0]!));
    accumulateChannels(st.ffnIn, asFloat32(out[taps[1]!], taps[1]!), rows, gramOf(taps[1]!));
    const hIn = input ?? asFloat32(out['hidden.0'], 'hidden.0');
    const hOut = asFloat32(out[`hidden.${l + 1}`], `hidden.${l + 1}`);
    accumulateInfluence(st, hIn, hOut, rows, d);
    next.push(hOut);
    if (withLoss) nll += sumNll(asFloat32(out.token_nll, 'token_nll'), batch.length, set.seq);
    else if (headApart) {
      const labels = ids.labels.data as BigInt64Array;
      nll += sumNll(await headApart({ hidden: hOut, labels, rows: batch.length, len: set.seq }), batch.length, set.seq);
    }
    opts.onBatch?.(Math.min(set.samples, (bi + 1) * size), set.samples);
  }
  return { stream: next, nll };
}

/**
 * collectStats one block at a time; each block's session is released before the next opens.
 * `afterBlock(l, stats)` is called once block l's statistics are complete (the api moves its Grams
 * to storage there, so only one layer's are in memory at a time).
 */
export async function collectStatsByLayer(
  ir: ModelIR,
  openBlock: BlockSessionOpener,
  set: CalibrationSet,
  opts: BlockRunOptions & { withGram: GramSelection; afterBlock?: (layer: number, stats: CalibrationStats) => void },
): Promise<CalibrationStats> {
  const L = ir.layers.length;
  const stats = createStats(ir, opts.withGram);
  let stream: Float32Array[] = [];
  let nll = 0;
  // Progress in percent of the FLOPs (the last block, with the head, weighs several middle ones), so the ETA is linear.
  const gram = (l: number) => (typeof opts.withGram === 'function' ? opts.withGram(l, 'ffnIn') : opts.withGram);
  const cost = ir.layers.map((_, l) => blockRowFlops(ir, l, set.seq, gram(l)));
  const before = cost.map((_, l) => cost.slice(0, l).reduce((a, b) => a + b, 0));
  const all = Math.max(
    1,
    cost.reduce((a, b) => a + b, 0),
  );
  for (let l = 0; l < L; l++) {
    const session = await openBlock(l);
    try {
      const onBatch = (done: number, total: number) =>
        opts.onProgress?.({
          stage: 'calibration',
          done: (100 * (before[l]! + (cost[l]! * done) / total)) / all,
          total: 100,
          message: `Calibration: block ${l + 1}/${L}, sample ${done}/${total}`,
        });
      const run = await runBlock(ir, session, l, set, stream, stats, { ...opts, onBatch });
      stream = run.stream;
      nll += run.nll;
      opts.afterBlock?.(l, stats);
    } finally {
      await session.release();
    }
  }
  stats.numSequences = set.samples;
  stats.numTokens = set.samples * set.seq;
  stats.baseLoss = nll / (set.samples * (set.seq - 1));
  return stats;
}
