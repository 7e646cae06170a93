/**
 * Perplexity of a written model file (an exported model.onnx or a quantized variant) next to the
 * loaded model's own fp32 logits graph, on the same tokens and windows (quantize/evaluate.ts).
 * The CLI `quantize` command reports it for the file it wrote.
 */
import { buildOnnx } from '../graph/build';
import { logitsModelPerplexity } from '../quantize/evaluate';
import { tokensOf, type LoadedModel, type StudioState } from './state';
import type { ModelFilePerplexity, PerplexityRequest } from './types';

export async function modelFilePerplexity(
  state: StudioState,
  m: LoadedModel,
  file: Uint8Array,
  req: PerplexityRequest,
): Promise<ModelFilePerplexity> {
  const ids = tokensOf(m, req.textName, req.text, req.maxTokens).slice(0, req.maxTokens);
  const vocab = m.ir.spec.vocabSize;
  const fp32 = await logitsModelPerplexity(state.deps.runner, buildOnnx(m.ir, { logits: true }), ids, vocab);
  const written = await logitsModelPerplexity(state.deps.runner, file, ids, vocab);
  return { fp32: fp32.perplexity, file: written.perplexity, tokens: written.tokens, context: written.context, stride: written.stride };
}
