/**
 * Running a model one block at a time (issue 11, memory): a whole-model graph fed its weights as
 * inputs makes onnxruntime-web copy every weight into the wasm heap for each run, and that heap never
 * shrinks. Here inputs run through the graph of block l alone (layerRange l..l+1: only that block's
 * weights, the head with the last block), carrying their residual stream from block to block as
 * float32, as the whole graph does inside. Each block's session is opened with its weights as
 * initializers (model-session.ts openModelSessionEmbedded: copied into the engine once per session,
 * a spilled model's read from its store a tensor at a time, none made resident), run on every input
 * and released before the next block opens. Used by
 * perplexity (api/block-perplexity.ts) and export verification's reference (exporters/verify.ts);
 * `useBlockwise` is the size rule (small models keep the whole graph: one run instead of L).
 */
import { throwIfAborted } from '../core/errors';
import { parameterCount, type ModelIR } from '../core/ir';
import { asFloat32, float32Tensor, int64Tensor, type Feeds, type Runner, type RunnerSession } from '../core/runner';
import { embedRows } from './embed-rows';
import { chunkedHeadLogits, chunkedHeadNll, splitsHead, type HeadInput } from './head-chunks';
import { BLOCKWISE_MIN_WEIGHT_BYTES } from '../core/model-shape';
import { openModelSessionEmbedded } from './model-session';
import type { GraphOptions } from './options';

/** Models with at least this many fp32 weight bytes run block by block (the memory model's constant). */
export { BLOCKWISE_MIN_WEIGHT_BYTES };

/** 'auto': block by block from BLOCKWISE_MIN_WEIGHT_BYTES of fp32 weights; 'blocks' / 'whole' force one path. */
export type BlockPath = 'auto' | 'blocks' | 'whole';

/** What the block graphs are built from: the model and the options of its whole graph. */
export interface BlockSource {
  runner: Runner;
  ir: ModelIR;
  graph: GraphOptions;
  /** Cap of the carried residual stream in bytes (perplexity; default api/block-perplexity.ts STREAM_BYTES). */
  streamBytes?: number;
  /** The last block scores only positions from each input's `lossFrom` on (GraphOptions.lossFrom; token_nll [rows, len - lossFrom]). */
  lossFrom?: boolean;
  /** Vocabulary entries per run of the separate head (head-chunks.ts; default LOSS_VOCAB_CHUNK); a larger vocabulary's token loss runs apart from the last block. */
  headChunk?: number;
}

/** The size rule: token-input models of two or more layers whose fp32 weights reach the threshold. */
export function useBlockwise(ir: ModelIR, path: BlockPath = 'auto'): boolean {
  if (path !== 'auto') return path === 'blocks';
  return ir.spec.input !== 'patches' && ir.layers.length > 1 && parameterCount(ir) * 4 >= BLOCKWISE_MIN_WEIGHT_BYTES;
}

/** One run: input_ids (and labels for a token loss) [rows, len]. */
export interface BlockInput {
  feeds: Feeds;
  rows: number;
  len: number;
  /** First position the last block scores, with BlockSource.lossFrom (default 0). */
  lossFrom?: number;
}

/**
 * Opens the graph of block l alone (its weights embedded, those in `fed` left as inputs; no taps; the head's outputs as `src.graph` asks,
 * on the last block). Block 0 reads the embedded stream as hidden_in too (embed-rows.ts), so only a
 * (tied) head brings the vocabulary matrix into the runtime.
 */
export function openBlock(src: BlockSource, l: number, head = true, fed: ReadonlySet<string> = new Set()): Promise<RunnerSession> {
  const lossFrom = head && !!src.lossFrom && l === src.ir.layers.length - 1;
  const options: GraphOptions = {
    ...src.graph,
    taps: false,
    layerRange: { from: l, to: l + 1, embedded: true, ...(head ? {} : { head: false }) },
    ...(lossFrom ? { lossFrom } : {}),
  };
  return openModelSessionEmbedded(src.runner, src.ir, options, fed);
}

/** Whether the token loss is taken off the last block and run in vocabulary chunks (head-chunks.ts). */
export function separateHead(src: BlockSource, output = 'token_nll'): boolean {
  const { tokenLoss, logits } = src.graph;
  return output === 'token_nll' && !!src.lossFrom && tokenLoss === true && !logits && splitsHead(src.ir, src.headChunk);
}

/** The scored tail (positions lossFrom..len-1) of each input's final stream and labels. */
export function scoredTails(src: BlockSource, inputs: readonly BlockInput[], stream: readonly Float32Array[]): HeadInput[] {
  const d = src.ir.spec.hiddenSize;
  return inputs.map((r, i) => {
    const from = r.lossFrom ?? 0;
    const len = r.len - from;
    const hidden = new Float32Array(r.rows * len * d);
    const labels = new Float64Array(r.rows * len);
    const all = r.feeds.labels!.data as BigInt64Array;
    for (let row = 0; row < r.rows; row++) {
      hidden.set(stream[i]!.subarray((row * r.len + from) * d, (row + 1) * r.len * d), row * len * d);
      for (let p = 0; p < len; p++) labels[row * len + p] = Number(all[row * r.len + from + p]!);
    }
    return { hidden, labels, rows: r.rows, len };
  });
}

/**
 * `output` ('token_nll' or 'logits') of each input, computed block by block: block 0 embeds
 * input_ids (in JS: embed-rows.ts), each later block reads hidden_in (the previous block's hidden.l), the last adds the
 * head. `extra` (masks) is passed to the blocks that declare it. `onStep` after each run.
 * Block 0 gets the embedded stream from embedRows (the graph's embedding, computed in JS).
 */
export async function runByBlocks(
  src: BlockSource,
  inputs: readonly BlockInput[],
  extra: Feeds,
  output: string,
  signal?: AbortSignal,
  onStep?: () => void,
): Promise<Float32Array[]> {
  if (output === 'logits' && splitsHead(src.ir, src.headChunk)) {
    // logits over a vocabulary of several chunks: the head apart, one chunk of its rows at a time
    const stream = await runBlocks(src, inputs, extra, `hidden.${src.ir.layers.length}`, false, signal, onStep);
    const streams = inputs.map((r, i) => ({ hidden: stream[i]!, rows: r.rows, len: r.len }));
    return chunkedHeadLogits(src.runner, src.ir, streams, src.headChunk, signal ? { signal } : {});
  }
  if (!separateHead(src, output)) return runBlocks(src, inputs, extra, output, true, signal, onStep);
  const tails = await runToHead(src, inputs, extra, signal, onStep);
  return chunkedHeadNll(src.runner, src.ir, tails, src.headChunk, signal ? { signal } : {});
}

/**
 * The blocks of runByBlocks without the head (the last block stops before it, layerRange head: false):
 * each input's scored tail (positions lossFrom..len-1) of the final stream with its labels, for
 * head-chunks.ts chunkedHeadNll (which may take the tails of several groups at once).
 */
export async function runToHead(
  src: BlockSource,
  inputs: readonly BlockInput[],
  extra: Feeds,
  signal?: AbortSignal,
  onStep?: () => void,
): Promise<HeadInput[]> {
  const stream = await runBlocks(src, inputs, extra, `hidden.${src.ir.layers.length}`, false, signal, onStep);
  return scoredTails(src, inputs, stream);
}

function runBlocks(
  src: BlockSource,
  inputs: readonly BlockInput[],
  extra: Feeds,
  output: string,
  head: boolean,
  signal?: AbortSignal,
  onStep?: () => void,
): Promise<Float32Array[]> {
  return runVariants(src, { from: 0, inputs, start: [], variants: [extra], output, head }, signal, onStep).then((r) => r.outputs[0]!);
}

const EMPTY = new Float32Array(0);

/** Blocks from..L-1 for several variants of the extra feeds (e.g. mask sets), each block opened once for all of them. */
export interface VariantRequest {
  /** First block run (0: block 0 embeds input_ids). */
  from: number;
  inputs: readonly BlockInput[];
  /** Each input's stream entering block `from` (ignored for from = 0); shared by every variant. */
  start: readonly Float32Array[];
  /** The extra feeds (masks) of each variant; a block reads the ones it declares. */
  variants: readonly Feeds[];
  /** The output of the last block (with the head) or `hidden.L` (head false: the stream before the head). */
  output: string;
  head: boolean;
  /** Also carry `start` through block `from` alone with these feeds (VariantRun.carried): the stream entering from + 1. */
  carry?: Feeds;
}

export interface VariantRun {
  /** [variant][input]: the last block's output. */
  outputs: Float32Array[][];
  /** The inputs' stream after block `from` with VariantRequest.carry (when asked). */
  carried?: Float32Array[];
}

/**
 * runByBlocks from block `from` on, for every variant of the extra feeds at once: each block's session
 * is opened once and runs every variant's inputs (their streams held side by side, variants x inputs).
 */
export async function runVariants(src: BlockSource, req: VariantRequest, signal?: AbortSignal, onStep?: () => void): Promise<VariantRun> {
  const L = src.ir.layers.length;
  const d = src.ir.spec.hiddenSize;
  const { inputs, head, output } = req;
  let streams: Float32Array[][] = req.variants.map(() => [...req.start]);
  // weights a variant feeds (e.g. recovered projections) stay inputs of the block graphs
  const fed = new Set([...req.variants, req.carry ?? {}].flatMap((v) => Object.keys(v)));
  let carried: Float32Array[] | undefined;
  // with no variants, only the carry through block `from`
  const to = req.variants.length > 0 ? L : Math.min(L, req.from + 1);
  for (let l = req.from; l < to; l++) {
    const session = await openBlock(src, l, head, fed);
    try {
      const fixedOf = (extra: Feeds) => Object.fromEntries(Object.entries(extra).filter(([name]) => session.inputNames.includes(name)));
      const last = l === L - 1 && head;
      const name = last ? output : `hidden.${l + 1}`;
      const run = async (extra: Feeds, stream: Float32Array[], out: string): Promise<Float32Array[]> => {
        const fixed = fixedOf(extra);
        const next: Float32Array[] = [];
        for (const [i, r] of inputs.entries()) {
          throwIfAborted(signal, 'Running the model block by block');
          const feeds: Feeds = {
            ...fixed,
            input_ids: r.feeds.input_ids!,
            ...(last && r.feeds.labels && session.inputNames.includes('labels') ? { labels: r.feeds.labels } : {}),
            ...(last && session.inputNames.includes('loss_from') ? { loss_from: int64Tensor([r.lossFrom ?? 0], [1]) } : {}),
            hidden_in: float32Tensor(l > 0 ? stream[i]! : embedRows(src.ir, r.feeds.input_ids!, r.rows, r.len), [r.rows, r.len, d]),
          };
          const result = await session.run(feeds, [out]);
          next.push(asFloat32(result[out], out));
          stream[i] = EMPTY; // this input's stream entering the block is no longer needed (`stream` is the variant's own array)
          onStep?.();
        }
        return next;
      };
      if (l === req.from && req.carry && l < L - 1) carried = await run(req.carry, [...req.start], `hidden.${l + 1}`);
      const next: Float32Array[][] = [];
      for (const [v, extra] of req.variants.entries()) next.push(await run(extra, streams[v]!, name));
      streams = next;
    } finally {
      await session.release();
    }
  }
  return { outputs: streams, ...(carried ? { carried } : {}) };
}
