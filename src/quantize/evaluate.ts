/**
 * Perplexity of any logits graph (an exported model.onnx or a quantized variant), by the studio's
 * protocol (eval/perplexity.ts windows, scored once each): logits from the runner, the next-token
 * NLL (log-sum-exp in float64) in JS. Used to measure each bundle file itself (the with-past graph
 * of onnx/model.onnx and its quantized variants run each window as a prefill).
 */
import { asFloat32, type Runner } from '../core/runner';
import { accumulateScored, batchWindows, NllAccumulator, planWindows, windowFeeds } from '../eval/perplexity';
import { decodeModel, type ModelProto } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import { openFileBytes, type WithSession } from '../graph/open-file';
import { windowsPerBatch } from '../core/memory-model';
import { BLOCKWISE_MIN_WEIGHT_BYTES } from '../graph/block-run';

/**
 * Logits per run of a file's session (32 MB: one 128-token window over GPT-2's 50,257 words): the
 * session already holds the file's whole weights in the runtime, so its runs stay small. On
 * gpt2-124m (bench/export-memory.ts --ppl) the export's peak RSS fell from 2.0 to 1.7 GB against
 * the shared 128 MB budget, same perplexity, same CPU time. Each window's NLL does not depend on its batch.
 */
export const FILE_LOGITS_BUDGET_BYTES = 32 * 2 ** 20;

export interface FilePerplexity {
  perplexity: number;
  tokens: number;
  context: number;
  stride: number;
}

/** -log softmax(logits row)[label] for each position of [rows, vocab] logits. */
export function logitsNll(logits: Float32Array, labels: readonly number[], vocab: number): Float32Array {
  const out = new Float32Array(labels.length);
  for (let r = 0; r < labels.length; r++) {
    let max = -Infinity;
    for (let v = 0; v < vocab; v++) max = Math.max(max, logits[r * vocab + v]!);
    let sum = 0;
    for (let v = 0; v < vocab; v++) sum += Math.exp(logits[r * vocab + v]! - max);
    out[r] = max + Math.log(sum) - logits[r * vocab + labels[r]!]!;
  }
  return out;
}

export async function logitsModelPerplexity(
  runner: Runner,
  bytes: Uint8Array,
  ids: readonly number[],
  vocab: number,
  context = 128,
  stride = 64,
  /** Where the file's session comes from instead, asked once the graph was read (api/written-file.ts: an isolate reading it from storage). */
  sessionFrom?: () => Promise<WithSession>,
): Promise<FilePerplexity> {
  const model = decodeModel(bytes);
  // A large file opens as an external-data view of its own bytes (no second copy in the runtime), its
  // weights as loaded (no pre-packed copy: a few runs, each packs its GEMM operands itself).
  const viewed = bytes.byteLength >= BLOCKWISE_MIN_WEIGHT_BYTES;
  const withSession: WithSession = sessionFrom
    ? async (use) => (await sessionFrom())(use)
    : async (use) => {
        const session = await openFileBytes(runner, bytes, { viewed });
        try {
          return await use(session);
        } finally {
          await session.release();
        }
      };
  return sessionPerplexity(model, withSession, ids, vocab, context, stride);
}

/** logitsModelPerplexity of a file opened by `withSession` (`model`: its graph, e.g. a skeleton without the weights, for the feeds). */
export async function sessionPerplexity(
  model: ModelProto,
  withSession: WithSession,
  ids: readonly number[],
  vocab: number,
  context = 128,
  stride = 64,
): Promise<FilePerplexity> {
  const acc = new NllAccumulator();
  await withSession(async (session) => {
    // Windows per run capped by their logits (8 windows of 1,024 tokens over 50k words would be 1.6 GB).
    for (const batch of batchWindows(
      planWindows(ids.length, context, stride),
      windowsPerBatch(8, context, vocab, FILE_LOGITS_BUDGET_BYTES),
    )) {
      const { inputIds, labels, len } = windowFeeds(ids, batch);
      const rows = batch.map((_, r) => inputIds.slice(r * len, (r + 1) * len));
      // A with-past graph (the bundle's onnx/model.onnx) runs each window as a prefill: all-ones mask, empty pasts.
      const out = await session.run(modelFeeds(model, rows), ['logits']);
      accumulateScored(acc, batch, logitsNll(asFloat32(out.logits, 'logits'), labels, vocab), len);
    }
  });
  return { perplexity: acc.perplexity, tokens: acc.count, context, stride };
}
