/**
 * The bundle's small metadata files beyond config.json, in the Hub / transformers.js model-repo
 * layout: generation_config.json and tokenizer_config.json. The source model's own files are
 * copied when it had them; otherwise minimal ones are derived from config.json and tokenizer.json.
 */
import type { ModelIR } from '../core/ir';

const TOKEN_KEYS = ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const;

/** generation_config.json: the source's, else the special-token ids of config.json. */
export function generationConfig(config: Record<string, unknown>, given: unknown): Record<string, unknown> {
  if (given && typeof given === 'object' && !Array.isArray(given)) return given as Record<string, unknown>;
  const out: Record<string, unknown> = { _from_model_config: true };
  for (const k of TOKEN_KEYS) if (config[k] !== undefined && config[k] !== null) out[k] = config[k];
  return out;
}

interface AddedToken {
  id: number;
  content: string;
}

/** Content of the added token with this id in tokenizer.json, if any. */
function tokenText(tokenizerJson: Uint8Array | undefined, id: unknown): string | undefined {
  if (!tokenizerJson || typeof id !== 'number') return undefined;
  try {
    const tj = JSON.parse(new TextDecoder().decode(tokenizerJson)) as { added_tokens?: AddedToken[] };
    return tj.added_tokens?.find((t) => t.id === id)?.content;
  } catch {
    return undefined;
  }
}

/** tokenizer_config.json: the source's, else the fast tokenizer over tokenizer.json with its special tokens. */
export function tokenizerConfig(
  ir: ModelIR,
  config: Record<string, unknown>,
  tokenizerJson: Uint8Array | undefined,
  given: unknown,
): Record<string, unknown> {
  if (given && typeof given === 'object' && !Array.isArray(given)) return given as Record<string, unknown>;
  const out: Record<string, unknown> = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    model_max_length: ir.spec.maxPositions,
    clean_up_tokenization_spaces: false,
  };
  for (const [key, idKey] of [
    ['bos_token', 'bos_token_id'],
    ['eos_token', 'eos_token_id'],
    ['pad_token', 'pad_token_id'],
  ] as const) {
    const t = tokenText(tokenizerJson, config[idKey]);
    if (t !== undefined) out[key] = t;
  }
  return out;
}
