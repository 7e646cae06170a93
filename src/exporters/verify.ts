/**
 * The shared verification step: run ONNX bytes of the written model and the reference graph on the
 * same probe in fresh sessions of the injected Runner, and report the largest logit difference.
 * Exporters whose file is not ONNX rebuild a graph from what they re-read first. A with-past graph
 * is fed as a first generation step: all-ones attention_mask, position_ids 0..T-1, empty
 * past_key_values of each layer's own kv-head count. An image classifier (ViT) is fed the probe
 * images as pixel_values (logits [images, labels]).
 */
import { asFloat32, float32Tensor, int64Tensor, type Feeds, type Runner } from '../core/runner';
import { openModelSession } from '../graph/model-session';
import { decodeModel } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import type { ExportSubject, ExportVerification } from './types';

/** The probe as feeds of the written file and of the reference (same input for both), and how many positions it has. */
function probeFeeds(onnx: Uint8Array, subject: ExportSubject): { written: Feeds; reference: Feeds; positions: number } {
  const images = subject.probeImages;
  if (images) {
    const pixels = { pixel_values: float32Tensor(images.data, [...images.dims]) };
    return { written: pixels, reference: pixels, positions: images.dims[0] ?? 0 };
  }
  const { probe } = subject;
  return {
    written: modelFeeds(decodeModel(onnx), [[...probe]]),
    reference: { input_ids: int64Tensor(probe, [1, probe.length]) },
    positions: probe.length,
  };
}

export async function compareWithReference(onnx: Uint8Array, subject: ExportSubject, runner: Runner): Promise<ExportVerification> {
  const { reference } = subject;
  const feeds = probeFeeds(onnx, subject);
  const fresh = await runner.open(onnx);
  const expected = await openModelSession(runner, reference.ir, { masks: reference.masks, logits: true });
  try {
    const a = asFloat32((await fresh.run(feeds.written, ['logits'])).logits, 'logits');
    const b = asFloat32((await expected.run({ ...feeds.reference, ...reference.feeds }, ['logits'])).logits, 'logits');
    if (a.length !== b.length) return { maxAbsLogitDiff: Infinity, positions: feeds.positions, reference: reference.label };
    let maxAbsLogitDiff = 0;
    for (let i = 0; i < a.length; i++) maxAbsLogitDiff = Math.max(maxAbsLogitDiff, Math.abs(a[i]! - b[i]!));
    return { maxAbsLogitDiff, positions: feeds.positions, reference: reference.label };
  } finally {
    await fresh.release();
    await expected.release();
  }
}
