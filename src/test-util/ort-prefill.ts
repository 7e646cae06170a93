/**
 * Feeds for running a bundle's onnx/model.onnx in plain onnxruntime-node, as a user (or
 * transformers.js) does: the with-past graph as a prefill — an all-ones attention_mask, positions
 * 0..T-1 and each layer's past empty with the kv-head count the graph declares (symbols: batch_size
 * -> 1, anything else -> 0, as transformers.js resolves them). A logits-only graph gets input_ids alone.
 */
import * as ort from 'onnxruntime-node';

export function prefillFeeds(session: ort.InferenceSession, ids: readonly number[]): Record<string, ort.Tensor> {
  const i64 = (v: readonly number[]) => new ort.Tensor('int64', BigInt64Array.from(v.map(BigInt)), [1, v.length]);
  const feeds: Record<string, ort.Tensor> = { input_ids: i64(ids) };
  if (session.inputNames.includes('attention_mask')) feeds.attention_mask = i64(ids.map(() => 1));
  if (session.inputNames.includes('position_ids')) feeds.position_ids = i64(ids.map((_, i) => i));
  for (const m of session.inputMetadata) {
    if (!m.isTensor || !m.name.startsWith('past_key_values.')) continue;
    const dims = m.shape.map((d) => (typeof d === 'number' ? d : d === 'batch_size' ? 1 : 0));
    feeds[m.name] = new ort.Tensor('float32', new Float32Array(0), dims);
  }
  return feeds;
}
