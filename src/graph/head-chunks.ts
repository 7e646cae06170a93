/**
 * The LM head's token loss in vocabulary chunks run one at a time (issue 11, memory): block by block
 * (block-run.ts) the last block would otherwise take the whole head matrix into the wasm heap with
 * it (GPT-2: 154 MB), and that heap never shrinks, so every later step carried it. Here the last block
 * stops before the final norm (layerRange head: false) and the head runs alone (layerRange
 * numLayers..numLayers) on a view of rows v0..v1 of the head matrix per run, so the runtime holds one
 * chunk. The chunks' logits are combined in float64 (a running log-sum-exp, the label's logit from
 * its chunk): nll = log Σ_v exp(z_v) − z_label, each logit the full head's value.
 */
import { tokenEmbeddingOf, type ModelIR } from '../core/ir';
import { LOSS_VOCAB_CHUNK } from '../core/memory-model';
import { asFloat32, float32Tensor, int64Tensor, type Runner } from '../core/runner';
import type { Tensor } from '../core/tensor';
import { withModelSession } from './model-session';

/** One input's final stream and the labels of its positions (rows · len of each). */
export interface HeadInput {
  hidden: Float32Array;
  labels: ArrayLike<number | bigint>;
  rows: number;
  len: number;
}

/** Whether a language model's head is worth running in chunks (its vocabulary spans several). */
export function splitsHead(ir: ModelIR, chunk = LOSS_VOCAB_CHUNK): boolean {
  return ir.spec.head === 'lm' && ir.spec.input !== 'patches' && ir.spec.vocabSize > chunk;
}

function rowsOf(t: Tensor, v0: number, v1: number): Tensor {
  const width = t.shape.length > 1 ? t.shape[1]! : 1;
  return { ...t, data: t.data.subarray(v0 * width, v1 * width), shape: t.shape.length > 1 ? [v1 - v0, width] : [v1 - v0] };
}

/** `ir` whose head (and vocabulary) is rows v0..v1 of its own: views, no copy. */
function chunkModel(ir: ModelIR, v0: number, v1: number): ModelIR {
  const w = ir.weights;
  const tied = !w.lmHead;
  return {
    ...ir,
    spec: { ...ir.spec, vocabSize: v1 - v0 },
    weights: {
      ...w,
      // an untied model's embedding is sliced too (never read by the head alone; its shape follows the vocabulary)
      tokenEmbedding: rowsOf(tokenEmbeddingOf(ir), v0, v1),
      ...(tied ? {} : { lmHead: rowsOf(w.lmHead!, v0, v1) }),
      ...(w.lmHeadBias ? { lmHeadBias: rowsOf(w.lmHeadBias, v0, v1) } : {}),
    },
  };
}

/** Running log-sum-exp per position plus the label's logit. */
class ChunkedLogSumExp {
  readonly max: Float64Array;
  readonly sum: Float64Array;
  readonly picked: Float64Array;

  constructor(n: number) {
    this.max = new Float64Array(n).fill(-Infinity);
    this.sum = new Float64Array(n);
    this.picked = new Float64Array(n);
  }

  /** Adds the logits [n, v1 - v0] of vocabulary entries v0..v1 (a negative label counts from the end, as GatherElements reads it). */
  add(logits: Float32Array, v0: number, v1: number, labels: ArrayLike<number | bigint>, vocab: number): void {
    const width = v1 - v0;
    for (let i = 0; i < this.max.length; i++) {
      const row = i * width;
      let m = -Infinity;
      for (let j = 0; j < width; j++) m = Math.max(m, logits[row + j]!);
      let s = 0;
      for (let j = 0; j < width; j++) s += Math.exp(logits[row + j]! - m);
      const top = Math.max(this.max[i]!, m);
      this.sum[i] = this.sum[i]! * Math.exp(this.max[i]! - top) + s * Math.exp(m - top);
      this.max[i] = top;
      const raw = Number(labels[i]!);
      const label = raw < 0 ? raw + vocab : raw;
      if (label >= v0 && label < v1) this.picked[i] = logits[row + label - v0]!;
    }
  }

  nll(): Float32Array {
    return Float32Array.from(this.max, (m, i) => Math.log(this.sum[i]!) + m - this.picked[i]!);
  }
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
): Promise<Float32Array[]> {
  const L = ir.layers.length;
  const d = ir.spec.hiddenSize;
  const V = ir.spec.vocabSize;
  const sums = inputs.map((x) => new ChunkedLogSumExp(x.rows * x.len));
  const graph = { logits: true, tokenLoss: false, layerRange: { from: L, to: L, embedded: true } };
  for (let v0 = 0; v0 < V; v0 += chunk) {
    const v1 = Math.min(V, v0 + chunk);
    await withModelSession(runner, chunkModel(ir, v0, v1), graph, async (session) => {
      for (const [i, x] of inputs.entries()) {
        const dims = [x.rows, x.len];
        const feeds = {
          // the head reads no token ids; they give the stream's shape
          input_ids: int64Tensor(new Array<number>(x.rows * x.len).fill(0), dims),
          hidden_in: float32Tensor(x.hidden, [x.rows, x.len, d]),
        };
        const out = await session.run(feeds, ['logits']);
        sums[i]!.add(asFloat32(out.logits, 'logits'), v0, v1, x.labels, V);
      }
    });
  }
  return sums.map((s) => s.nll());
}
