/**
 * The shared verification step: run ONNX bytes of the written model and the reference graph on the
 * same probe in fresh sessions of the injected Runner, and report the largest logit difference.
 * Exporters whose file is not ONNX rebuild a graph from what they re-read first. A with-past graph
 * is fed as a first generation step: all-ones attention_mask, position_ids 0..T-1, empty
 * past_key_values of each layer's own kv-head count. An image classifier (ViT) is fed the probe
 * images as pixel_values (logits [images, labels]). Large models are checked without a second copy
 * of their weights in the runtime (reference block by block, the written bytes as external data).
 */
import { asFloat32, float32Tensor, int64Tensor, type Feeds, type Runner, type RunnerSession } from '../core/runner';
import { openModelSession } from '../graph/model-session';
import { runByBlocks, useBlockwise, type BlockPath } from '../graph/block-run';
import { openFileBytes } from '../graph/open-file';
import { decodeModel, type ModelProto } from '../io/onnx';
import type { WithSession } from '../graph/open-file';
import { modelFeeds } from '../io/onnx-import/source-model';
import type { ExportSubject, ExportVerification } from './types';

/** The probe as feeds of the written file (`model`: its graph, read when needed) and of the reference (same input for both), and how many positions it has. */
function probeFeeds(model: () => ModelProto, subject: ExportSubject): { written: Feeds; reference: Feeds; positions: number } {
  const images = subject.probeImages;
  if (images) {
    const pixels = { pixel_values: float32Tensor(images.data, [...images.dims]) };
    return { written: pixels, reference: pixels, positions: images.dims[0] ?? 0 };
  }
  const { probe } = subject;
  return {
    written: modelFeeds(model(), [[...probe]]),
    reference: { input_ids: int64Tensor(probe, [1, probe.length]) },
    positions: probe.length,
  };
}

/** The reference's logits on the probe: its whole graph, or block by block for a large model (graph/block-run.ts). */
async function referenceLogits(
  subject: ExportSubject,
  feeds: Feeds,
  positions: number,
  runner: Runner,
  byBlocks: boolean,
): Promise<Float32Array> {
  const { reference } = subject;
  if (byBlocks) {
    const src = { runner, ir: reference.ir, graph: { masks: reference.masks, logits: true } };
    const [logits] = await runByBlocks(src, [{ feeds, rows: 1, len: positions }], reference.feeds, 'logits');
    return logits!;
  }
  const expected = await openModelSession(runner, reference.ir, { masks: reference.masks, logits: true });
  try {
    return asFloat32((await expected.run({ ...feeds, ...reference.feeds }, ['logits'])).logits, 'logits');
  } finally {
    await expected.release();
  }
}

/** The written file's logits on the probe; a large file is opened as an external-data view of its own bytes (graph/open-file.ts). */
async function writtenLogits(onnx: Uint8Array, feeds: Feeds, runner: Runner, viewed: boolean): Promise<Float32Array> {
  // One run: the weights stay as loaded (no pre-packed second copy of the MatMul weights).
  const session = await openFileBytes(runner, onnx, { viewed });
  try {
    return await logitsOf(session, feeds);
  } finally {
    await session.release();
  }
}

async function logitsOf(session: RunnerSession, feeds: Feeds): Promise<Float32Array> {
  return asFloat32((await session.run(feeds, ['logits'])).logits, 'logits');
}

/**
 * Compares the written model with its reference on the probe. The reference runs first and its
 * session is gone before the written model's opens, so the two models' weights are never in the
 * runtime together; a large model (graph/block-run.ts useBlockwise, or `path`) runs its reference
 * block by block and opens the written bytes without a second copy.
 */
export async function compareWithReference(
  onnx: Uint8Array,
  subject: ExportSubject,
  runner: Runner,
  path: BlockPath = 'auto',
): Promise<ExportVerification> {
  const { reference } = subject;
  const feeds = probeFeeds(() => decodeModel(onnx), subject);
  const large = !subject.probeImages && useBlockwise(reference.ir, path);
  // a host stores the written bytes and frees them before the reference runs (api/written-file.ts)
  const written = large ? await subject.written?.prepare(onnx) : undefined;
  const b = await referenceLogits(subject, feeds.reference, feeds.positions, runner, large);
  subject.beforeWritten?.();
  const a = written
    ? await written.withSession((s) => logitsOf(s, feeds.written))
    : await writtenLogits(onnx, feeds.written, runner, large);
  return compared(a, b, feeds.positions, reference.label);
}

/**
 * The same comparison for a written file that is not in memory (api/streamed-export.ts: a file in
 * browser storage): `model` is its graph (a skeleton without the weights gives the same feeds) and
 * `withSession` opens it; the reference runs first, as above.
 */
export async function compareSessionWithReference(
  model: ModelProto,
  withSession: WithSession,
  subject: ExportSubject,
  runner: Runner,
): Promise<ExportVerification> {
  const feeds = probeFeeds(() => model, subject);
  const large = !subject.probeImages && useBlockwise(subject.reference.ir, 'auto');
  const b = await referenceLogits(subject, feeds.reference, feeds.positions, runner, large);
  subject.beforeWritten?.();
  const a = await withSession((s) => logitsOf(s, feeds.written));
  return compared(a, b, feeds.positions, subject.reference.label);
}

function compared(a: Float32Array, b: Float32Array, positions: number, reference: string): ExportVerification {
  if (a.length !== b.length) return { maxAbsLogitDiff: Infinity, positions, reference };
  let maxAbsLogitDiff = 0;
  for (let i = 0; i < a.length; i++) maxAbsLogitDiff = Math.max(maxAbsLogitDiff, Math.abs(a[i]! - b[i]!));
  return { maxAbsLogitDiff, positions, reference };
}
