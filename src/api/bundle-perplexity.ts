/**
 * The bundle's own perplexity (issue 12, item 6): after the model file is written and verified, the
 * written ONNX file itself (onnx/model.onnx or a quantized variant, run as a prefill per window) is
 * scored on the tokens, context and stride of the session's last perplexity of the applied model
 * (quantize/evaluate.ts), and the model card reports both. Nothing is measured when the session has
 * not measured the applied model's perplexity (the card says so).
 */
import type { Runner } from '../core/runner';
import type { WithSession } from '../graph/open-file';
import type { ModelProto } from '../io/onnx';
import { logitsModelPerplexity, sessionPerplexity } from '../quantize/evaluate';
import type { LoadedModel, PrunedModel } from './state';

export interface WrittenPerplexity {
  /** The written file's perplexity. */
  perplexity: number;
  /** The session's perplexity of the applied (fp32) model on the same tokens and windows. */
  session: number;
  tokensScored: number;
  textName: string;
  context: number;
  stride: number;
}

/** The token ids the session's perplexity of the applied model was measured on, if still cached. */
function protocolTokens(m: LoadedModel, p: PrunedModel): number[] | undefined {
  const r = p.perplexity;
  if (!r) return undefined;
  const entries = [...m.tokenCache.entries()].reverse();
  const hit = entries.find(([key, v]) => key.startsWith(`${r.protocol.textName}:`) && v.ids.length >= r.protocol.totalTokens);
  return hit?.[1].ids.slice(0, r.protocol.totalTokens);
}

export async function writtenPerplexity(
  runner: Runner,
  m: LoadedModel,
  p: PrunedModel,
  /** The written bytes, or a file kept elsewhere: its graph and how to open it (api/streamed-export.ts). */
  onnx: Uint8Array | { model: ModelProto; withSession: WithSession },
  /** Where the file's session comes from instead (api/written-file.ts). */
  sessionFrom?: () => Promise<WithSession>,
): Promise<WrittenPerplexity | undefined> {
  const r = p.perplexity;
  const ids = protocolTokens(m, p);
  if (!r || !ids) return undefined;
  const { contextLength, stride, textName } = r.protocol;
  const vocab = p.ir.spec.vocabSize;
  const f =
    onnx instanceof Uint8Array
      ? await logitsModelPerplexity(runner, onnx, ids, vocab, contextLength, stride, sessionFrom)
      : await sessionPerplexity(onnx.model, onnx.withSession, ids, vocab, contextLength, stride);
  return { perplexity: f.perplexity, session: r.perplexity, tokensScored: f.tokens, textName, context: contextLength, stride };
}
