/**
 * The shared verification step: run ONNX bytes of the written model and the reference graph on the
 * same probe tokens in fresh sessions of the injected Runner, and report the largest logit
 * difference. Exporters whose file is not ONNX rebuild a graph from what they re-read first. A
 * with-past graph is fed as a first generation step: all-ones attention_mask, position_ids 0..T-1,
 * empty past_key_values of each layer's own kv-head count.
 */
import { asFloat32, int64Tensor, type Runner } from '../core/runner';
import { openModelSession } from '../graph/model-session';
import { decodeModel } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import type { ExportSubject, ExportVerification } from './types';

export async function compareWithReference(onnx: Uint8Array, subject: ExportSubject, runner: Runner): Promise<ExportVerification> {
  const { reference, probe } = subject;
  const feeds = { input_ids: int64Tensor(probe, [1, probe.length]) };
  const fresh = await runner.open(onnx);
  const expected = await openModelSession(runner, reference.ir, { masks: reference.masks, logits: true });
  try {
    // A with-past graph (onnx/model.onnx) gets an all-ones mask, positions 0..T-1 and empty pasts.
    const a = asFloat32((await fresh.run(modelFeeds(decodeModel(onnx), [[...probe]]), ['logits'])).logits, 'logits');
    const b = asFloat32((await expected.run({ ...feeds, ...reference.feeds }, ['logits'])).logits, 'logits');
    let maxAbsLogitDiff = 0;
    for (let i = 0; i < a.length; i++) maxAbsLogitDiff = Math.max(maxAbsLogitDiff, Math.abs(a[i]! - b[i]!));
    return { maxAbsLogitDiff, positions: probe.length, reference: reference.label };
  } finally {
    await fresh.release();
    await expected.release();
  }
}
