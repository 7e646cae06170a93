/**
 * The LM head's token loss in vocabulary chunks run one at a time (issue 11, memory): block by block
 * (block-run.ts) the last block would otherwise take the whole head matrix into the wasm heap with
 * it (GPT-2: 154 MB), and that heap never shrinks, so every later step carried it. Here the last block
 * stops before the final norm (layerRange head: false) and the head runs alone (layerRange
 * numLayers..numLayers) once per chunk v0..v1 of the head matrix (its rows as the session's
 * initializers, a view), so the runtime holds one chunk. Each chunk's graph gives its log-sum-exp and
 * the logit at the (clipped) label (GraphOptions.lossParts); they are combined in float64:
 * nll = log Σ_c exp(lse_c) − z_label, each logit the full head's value.
 */
import { tokenEmbeddingOf, type ModelIR } from '../core/ir';
import { throwIfAborted } from '../core/errors';
import { LOSS_VOCAB_CHUNK } from '../core/memory-constants';
import { asFloat32, float32Tensor, int64Tensor, type Runner, type RunnerSession } from '../core/runner';
import type { GraphOptions } from './options';
import type { Tensor } from '../core/tensor';
import { tensorRows, type ScratchBuffer } from '../core/weight-residency';
import { buildModelProto } from './build';
import { weightInputsAsExternal } from './external-weights';

/** One input's final stream and the labels of its positions (rows · len of each). */
export interface HeadInput {
  hidden: Float32Array;
  labels: ArrayLike<number | bigint>;
  rows: number;
  len: number;
}

/** Runs of chunkedHeadNll over `inputs` inputs (one per input per chunk), for progress totals. */
export function headRuns(ir: ModelIR, inputs: number, chunk = LOSS_VOCAB_CHUNK): number {
  return inputs * Math.ceil(ir.spec.vocabSize / chunk);
}

/** Whether a language model's head is worth running in chunks (its vocabulary spans several). */
export function splitsHead(ir: ModelIR, chunk = LOSS_VOCAB_CHUNK): boolean {
  return ir.spec.head === 'lm' && ir.spec.input !== 'patches' && ir.spec.vocabSize > chunk;
}

/** Rows v0..v1 of `t` (a view, or those rows alone read from storage for a spilled matrix, into `scratch` if given). */
function rowsOf(t: Tensor, v0: number, v1: number, scratch?: ScratchBuffer): Tensor {
  const width = t.shape.length > 1 ? t.shape[1]! : 1;
  return { data: tensorRows(t, v0, v1, scratch), shape: t.shape.length > 1 ? [v1 - v0, width] : [v1 - v0] };
}

/**
 * `ir` whose head (and vocabulary) is rows v0..v1 of its own: views, no copy; a spilled head matrix's
 * rows read into `scratch` (the chunk's session is released before the next chunk is read).
 */
function chunkModel(ir: ModelIR, v0: number, v1: number, scratch: ScratchBuffer): ModelIR {
  const w = ir.weights;
  const tied = !w.lmHead;
  return {
    ...ir,
    spec: { ...ir.spec, vocabSize: v1 - v0 },
    weights: {
      ...w,
      // an untied model's embedding is sliced too (never read by the head alone; its shape follows the vocabulary)
      tokenEmbedding: rowsOf(tokenEmbeddingOf(ir), v0, v1, tied ? scratch : undefined),
      ...(tied ? {} : { lmHead: rowsOf(w.lmHead!, v0, v1, scratch) }),
      ...(w.lmHeadBias ? { lmHeadBias: rowsOf(w.lmHeadBias, v0, v1) } : {}),
    },
  };
}

/** Per position: the log-sum-exp over the chunks seen so far and the label's logit (from its chunk). */
class ChunkedLogSumExp {
  readonly lse: Float64Array;
  readonly picked: Float64Array;

  constructor(n: number) {
    this.lse = new Float64Array(n).fill(-Infinity);
    this.picked = new Float64Array(n);
  }

  /** Adds chunk v0..v1's log-sum-exp and logit at the clipped label of each position. */
  add(lse: Float32Array, picked: Float32Array, v0: number, v1: number, labels: Float64Array): void {
    for (let i = 0; i < this.lse.length; i++) {
      const a = this.lse[i]!;
      const b = lse[i]!;
      const top = Math.max(a, b);
      this.lse[i] = top + Math.log(Math.exp(a - top) + Math.exp(b - top));
      const label = labels[i]!;
      if (label >= v0 && label < v1) this.picked[i] = picked[i]!;
    }
  }

  nll(): Float32Array {
    return Float32Array.from(this.lse, (l, i) => l - this.picked[i]!);
  }
}

/** Labels as vocabulary indices (a negative one counts from the end, as GatherElements reads it). */
function vocabularyIndices(labels: ArrayLike<number | bigint>, vocab: number): Float64Array {
  return Float64Array.from({ length: labels.length }, (_, i) => {
    const raw = Number(labels[i]!);
    return raw < 0 ? raw + vocab : raw;
  });
}

/** Each label's index within chunk v0..v1, clipped to it (GatherElements needs one in range; ChunkedLogSumExp keeps only the inside ones). */
function chunkLabels(labels: Float64Array, v0: number, v1: number, dims: number[]) {
  return int64Tensor(
    Array.from(labels, (l) => Math.min(v1 - v0 - 1, Math.max(0, l - v0))),
    dims,
  );
}

/**
 * Opens the head alone for each chunk v0..v1 of `chunk` vocabulary entries in turn (the chunk's rows
 * enter the runtime once, as the session's initializers: external data, views or rows read into one
 * scratch buffer; not pre-packed, a second copy for a few runs), calls `use` on it, then releases it
 * before the next chunk is read.
 */
async function forEachHeadChunk(
  runner: Runner,
  ir: ModelIR,
  graph: GraphOptions,
  chunk: number,
  use: (session: RunnerSession, v0: number, v1: number) => Promise<void>,
): Promise<void> {
  const L = ir.layers.length;
  const V = ir.spec.vocabSize;
  const scratch: ScratchBuffer = {};
  for (let v0 = 0; v0 < V; v0 += chunk) {
    const v1 = Math.min(V, v0 + chunk);
    const part = chunkModel(ir, v0, v1, scratch);
    const options = { ...graph, weights: 'inputs' as const, layerRange: { from: L, to: L, embedded: true } };
    const { skeleton, externalData } = weightInputsAsExternal(buildModelProto(part, options), part);
    const session = await runner.open(skeleton, { externalData, prepack: false });
    try {
      await use(session, v0, v1);
    } finally {
      await session.release();
    }
  }
}

/** The head's feeds for one stream: its hidden_in, and token ids that only give the shape (the head reads none). */
function streamFeeds(x: HeadStream, d: number) {
  const dims = [x.rows, x.len];
  return { input_ids: int64Tensor(new Array<number>(x.rows * x.len).fill(0), dims), hidden_in: float32Tensor(x.hidden, [...dims, d]) };
}

/**
 * token_nll [rows, len] of each input from its final stream (before the final norm), the head run
 * in chunks of `chunk` vocabulary entries; each chunk's session is run on every input, then released.
 */
export async function chunkedHeadNll(
  runner: Runner,
  ir: ModelIR,
  inputs: readonly HeadInput[],
  chunk = LOSS_VOCAB_CHUNK,
  job: { signal?: AbortSignal; onRun?: () => void } = {},
): Promise<Float32Array[]> {
  const d = ir.spec.hiddenSize;
  const sums = inputs.map((x) => new ChunkedLogSumExp(x.rows * x.len));
  const labels = inputs.map((x) => vocabularyIndices(x.labels, ir.spec.vocabSize));
  const graph = { logits: false, tokenLoss: true, lossParts: true };
  await forEachHeadChunk(runner, ir, graph, chunk, async (session, v0, v1) => {
    for (const [i, x] of inputs.entries()) {
      throwIfAborted(job.signal, 'Running the LM head');
      const feeds = { ...streamFeeds(x, d), labels: chunkLabels(labels[i]!, v0, v1, [x.rows, x.len]) };
      const out = await session.run(feeds, ['loss.lse', 'loss.picked']);
      sums[i]!.add(asFloat32(out['loss.lse'], 'loss.lse'), asFloat32(out['loss.picked'], 'loss.picked'), v0, v1, labels[i]!);
      job.onRun?.();
    }
  });
  return sums.map((s) => s.nll());
}

/** A final stream (before the final norm) of `rows` x `len` positions. */
export interface HeadStream {
  hidden: Float32Array;
  rows: number;
  len: number;
}

/**
 * logits [rows, len, vocab] of each stream, the head run in chunks of `chunk` vocabulary entries (each
 * chunk's rows the session's initializers, read from storage for a spilled model), so neither JS nor
 * the runtime ever holds the whole head matrix: export verification's reference on a large vocabulary.
 */
export async function chunkedHeadLogits(
  runner: Runner,
  ir: ModelIR,
  inputs: readonly HeadStream[],
  chunk = LOSS_VOCAB_CHUNK,
  job: { signal?: AbortSignal } = {},
): Promise<Float32Array[]> {
  const d = ir.spec.hiddenSize;
  const V = ir.spec.vocabSize;
  const outs = inputs.map((x) => new Float32Array(x.rows * x.len * V));
  await forEachHeadChunk(runner, ir, { logits: true, tokenLoss: false }, chunk, async (session, v0, v1) => {
    for (const [i, x] of inputs.entries()) {
      throwIfAborted(job.signal, 'Running the LM head');
      const logits = asFloat32((await session.run(streamFeeds(x, d), ['logits'])).logits, 'logits');
      const w = v1 - v0;
      for (let p = 0; p < x.rows * x.len; p++) outs[i]!.set(logits.subarray(p * w, (p + 1) * w), p * V + v0);
    }
  });
  return outs;
}
