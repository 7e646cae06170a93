/**
 * The calibration loss under many mask sets at once, block by block (a large model's ablation): the
 * oracle of saliency/calibrate.ts maskedLossOracle runs the whole graph once per mask set, so every run
 * copies every weight into the wasm heap (which keeps that size) and recomputes the blocks before the
 * first masked one. Here the mask sets are grouped by the first layer where they differ from the dense
 * model; the dense stream is carried block by block, and each group runs from its layer on, every
 * block's session opened once for the whole group (graph/block-run.ts runVariants); a vocabulary over
 * one loss chunk has its head run apart (graph/head-chunks.ts). The values are the oracle's: the same
 * graph pieces on the same streams (api/masked-losses.test.ts).
 */
import type { Feeds } from '../core/runner';
import { rowsPerRun } from '../core/run-size';
import { runVariants, scoredTails, separateHead, type BlockInput, type BlockSource } from '../graph/block-run';
import { chunkedHeadNll } from '../graph/head-chunks';
import { maskFeeds, sampleFeeds, sampleRanges, scoredPerSample, sumNll, type CalibrationSet } from '../saliency/calibrate';
import { onesMasks } from '../saliency/criteria/ablation';
import type { MaskSet } from '../saliency/types';

export interface MaskedLossesOptions {
  signal?: AbortSignal;
  /** After each block run: runs done of all runs. */
  onRun?: (done: number, total: number) => void;
  /** Samples per run before the FLOPs cap (the oracle's batch: 8). */
  batchSize?: number;
}

/** The first layer whose masks differ from all ones (L: none differs). */
export function firstMaskedLayer(m: MaskSet, L: number, H: number, F: number): number {
  for (let l = 0; l < L; l++) {
    if ((m.layers[l] ?? 1) !== 1) return l;
    for (let h = 0; h < H; h++) if ((m.heads[l * H + h] ?? 1) !== 1) return l;
    for (let f = 0; f < F; f++) if ((m.ffn[l * F + f] ?? 1) !== 1) return l;
  }
  return L;
}

/** Mean scored NLL from the per-input token NLL ([rows, len] each). */
function meanLoss(set: CalibrationSet, inputs: readonly BlockInput[], nll: readonly Float32Array[]): number {
  let s = 0;
  for (const [i, r] of inputs.entries()) s += sumNll(nll[i]!, r.rows, r.len);
  return s / (set.samples * scoredPerSample(set));
}

/**
 * Mean calibration loss of each mask set (maskedLossOracle's value with no base masks), block by block.
 * `src.graph` is the evaluation graph (masks, token loss). Holds the streams of one group (its mask sets x
 * the calibration set) and the dense stream.
 */
export async function maskedLossesByBlocks(
  src: BlockSource,
  set: CalibrationSet,
  sets: readonly MaskSet[],
  opts: MaskedLossesOptions = {},
): Promise<number[]> {
  const { ir } = src;
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  // every position scored (lossFrom 0), so the head may run apart in vocabulary chunks
  const blocks: BlockSource = { ...src, lossFrom: true };
  const apart = separateHead(blocks);
  const inputs: BlockInput[] = sampleRanges(set, rowsPerRun(ir, set.seq, opts.batchSize ?? 8)).map(([from, n]) => {
    const { feeds, size } = sampleFeeds(set, from, n);
    return { feeds, rows: size, len: set.seq, lossFrom: 0 };
  });
  // a set equal to the dense model runs from block 0 with the group there
  const first = sets.map((m) => firstMaskedLayer(m, L, H, F) % L);
  const last = Math.max(-1, ...first);
  const groupAt = (f: number) => sets.flatMap((_, i) => (first[i] === f ? [i] : []));
  let total = 0;
  for (let f = 0; f <= last; f++) total += (groupAt(f).length * (L - f) + (f < last ? 1 : 0)) * inputs.length;
  let done = 0;
  const onStep = () => opts.onRun?.(++done, total);
  const dense: Feeds = maskFeeds(onesMasks(L, H, F), L, H, F);
  const losses = new Array<number>(sets.length).fill(NaN);
  let stream: Float32Array[] = [];
  for (let f = 0; f <= last; f++) {
    const group = groupAt(f);
    const run = await runVariants(
      blocks,
      {
        from: f,
        inputs,
        start: stream,
        variants: group.map((i) => maskFeeds(sets[i]!, L, H, F)),
        output: apart ? `hidden.${L}` : 'token_nll',
        head: !apart,
        ...(f < last ? { carry: dense } : {}),
      },
      opts.signal,
      onStep,
    );
    const nll = apart ? await headNll(blocks, inputs, run.outputs, opts.signal) : run.outputs;
    group.forEach((i, g) => (losses[i] = meanLoss(set, inputs, nll[g]!)));
    stream = run.carried ?? [];
  }
  return losses;
}

/** Token NLL [rows, len] per variant and input from their final streams: the head in vocabulary chunks, all variants at once. */
async function headNll(
  src: BlockSource,
  inputs: readonly BlockInput[],
  streams: readonly Float32Array[][],
  signal?: AbortSignal,
): Promise<Float32Array[][]> {
  if (streams.length === 0) return [];
  const tails = streams.flatMap((s) => scoredTails(src, inputs, s));
  const nll = await chunkedHeadNll(src.runner, src.ir, tails, src.headChunk, signal ? { signal } : {});
  return streams.map((_, v) => nll.slice(v * inputs.length, (v + 1) * inputs.length));
}
