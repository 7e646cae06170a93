/**
 * Tokenizer loading: a Hugging Face tokenizer.json (+ tokenizer_config.json) through the pure-JS
 * @huggingface/tokenizers. Validates that the vocabulary fits the model's embedding.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerError } from '../core/errors';
import type { FileSource } from './source';
import { readJson } from './source';

export interface TextTokenizer {
  /** Shown in perplexity protocols, e.g. "demo-gpt2 tokenizer.json (BPE, 4096 tokens)". */
  readonly description: string;
  readonly vocabSize: number;
  /** End-of-text / EOS id when the tokenizer has one. */
  readonly eosId: number | undefined;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | unknown[] };
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

export function tokenizerFromJson(json: unknown, config: unknown, modelName: string): TextTokenizer {
  const tj = json as TokenizerJson;
  if (!tj || typeof tj !== 'object' || !tj.model || typeof tj.model !== 'object') {
    throw new TokenizerError('tokenizer.json has no "model" section.');
  }
  const entries = Array.isArray(tj.model.vocab) ? tj.model.vocab.length : Object.keys(tj.model.vocab ?? {}).length;
  if (entries === 0 && (tj.added_tokens ?? []).length === 0) {
    throw new TokenizerError(
      'tokenizer.json has an empty vocabulary: the tokenizer is empty, so no text can be tokenised.',
      'Provide the complete tokenizer.json that ships with this model.',
    );
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(tj, (config ?? {}) as object);
  } catch (e) {
    throw new TokenizerError(`tokenizer.json could not be loaded: ${(e as Error).message}`);
  }
  const vocab = tj.model.vocab;
  const baseSize = Array.isArray(vocab) ? vocab.length : Object.keys(vocab ?? {}).length;
  // A loop, not Math.max(...ids): spreading a 150k-entry vocabulary (Qwen2) overflows the call stack.
  const ids = [...(tj.added_tokens ?? []).map((t) => t.id), ...(Array.isArray(vocab) ? [] : Object.values(vocab ?? {}))];
  const maxId = ids.reduce((m, id) => Math.max(m, id), baseSize - 1);
  const vocabSize = maxId + 1;
  const eos = (tj.added_tokens ?? []).find((t) => /^(<\|endoftext\|>|<\/s>|<\|end_of_text\|>|<\|im_end\|>)$/.test(t.content));
  return {
    description: `${modelName} tokenizer.json (${tj.model.type ?? 'unknown'}, ${vocabSize} tokens)`,
    vocabSize,
    eosId: eos?.id,
    encode: (text) => tok.encode(text, { add_special_tokens: false }).ids,
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: false }),
  };
}

export async function loadTokenizer(source: FileSource, modelName: string, embeddingRows: number): Promise<TextTokenizer> {
  if (!(await source.has('tokenizer.json'))) {
    throw new TokenizerError(`No tokenizer.json found in ${source.location}.`);
  }
  const error = TokenizerError;
  const json = await readJson(source, 'tokenizer.json', { error });
  const config = (await source.has('tokenizer_config.json')) ? await readJson(source, 'tokenizer_config.json', { error }) : {};
  const tokenizer = tokenizerFromJson(json, config, modelName);
  if (tokenizer.vocabSize > embeddingRows) {
    throw new TokenizerError(
      `The tokenizer has ${tokenizer.vocabSize} tokens but the model's embedding has only ${embeddingRows} rows.`,
      'Use the tokenizer that ships with this checkpoint.',
    );
  }
  return tokenizer;
}
