/**
 * The bundle's own accuracy (image classifiers, issue 16 item 7): after onnx/model.onnx is written
 * and verified, the written file itself is run in a fresh session on the images of the session's
 * last accuracy of the applied model, and the model card reports its top-1 accuracy and mean loss
 * next to the session's. Nothing is measured when the session has not measured the applied model.
 */
import { asFloat32, float32Tensor, type Runner } from '../core/runner';
import { AccuracyAccumulator, type AccuracyResult } from '../eval/accuracy';
import { imageBatch, type ImageDataset } from '../eval/image-dataset';
import type { PrunedModel } from './state';
import type { AccuracyReport } from './vision-types';

export interface WrittenAccuracy {
  /** The written file's accuracy on the session's images. */
  result: AccuracyResult;
  /** The session's accuracy of the applied model on the same images. */
  session: AccuracyReport;
}

/** Top-1 accuracy and mean loss of ONNX bytes (pixel_values -> logits) on a labelled image set. */
export async function onnxAccuracy(
  runner: Runner,
  onnx: Uint8Array,
  ds: ImageDataset,
  numLabels: number,
  batchSize = 64,
): Promise<AccuracyResult> {
  const session = await runner.open(onnx, { prepack: false });
  try {
    const acc = new AccuracyAccumulator(numLabels);
    for (let from = 0; from < ds.count; from += batchSize) {
      const batch = imageBatch(ds, from, batchSize);
      const out = await session.run({ pixel_values: float32Tensor(batch.data, batch.dims) }, ['logits']);
      acc.add(asFloat32(out.logits, 'logits'), batch.labels);
    }
    return acc.result();
  } finally {
    await session.release();
  }
}

export async function writtenAccuracy(runner: Runner, p: PrunedModel, onnx: Uint8Array): Promise<WrittenAccuracy | undefined> {
  const a = p.accuracy;
  if (!a) return undefined;
  const result = await onnxAccuracy(runner, onnx, a.dataset, p.ir.spec.vocabSize, a.report.protocol.batchSize);
  return { result, session: a.report };
}
