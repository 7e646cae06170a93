/**
 * Guards on evaluation and calibration texts: a size cap before anything is tokenised (raise it
 * with `maxTextChars` / `--max-text-chars`, or score a prefix with `maxTokens`), a token cap, and
 * warnings (returned with the result) for text that is not text: NUL bytes, undecodable bytes, or
 * a tokenisation into mostly unknown / byte-fallback tokens.
 */
import { InputError } from '../core/errors';
import type { TextTokenizer } from '../io/tokenizer';

/** Characters of a text tokenised whole (about 2 MB of English). */
export const DEFAULT_MAX_TEXT_CHARS = 2_000_000;
/** Tokens scored or calibrated on at most, unless raised with maxTextChars. */
export const DEFAULT_MAX_TEXT_TOKENS = 1_000_000;

const mb = (chars: number) => `${(chars / 1e6).toFixed(1)} M characters`;

/**
 * Refuses a text that would be tokenised whole beyond the cap: `tokens` is how many tokens the
 * caller needs (undefined = all of them), `maxChars` the raised cap.
 */
export function checkTextSize(text: string, name: string, tokens: number | undefined, maxChars = DEFAULT_MAX_TEXT_CHARS): void {
  if (!(maxChars > 0)) throw new InputError(`The text size cap must be a positive number of characters, got ${maxChars}.`);
  const maxTokens = Math.max(DEFAULT_MAX_TEXT_TOKENS, Math.floor(maxChars / 2));
  if (tokens !== undefined && tokens > maxTokens) {
    throw new InputError(
      `${name}: ${tokens} tokens requested; texts are capped at ${maxTokens} tokens.`,
      'Ask for fewer tokens (--max-tokens), or raise the cap (maxTextChars, --max-text-chars) if you mean it.',
    );
  }
  if (tokens === undefined && text.length > maxChars) {
    throw new InputError(
      `${name} has ${mb(text.length)}; texts scored whole are capped at ${mb(maxChars)}.`,
      'Score a prefix (maxTokens, --max-tokens 100000), or raise the cap (maxTextChars, --max-text-chars) if you mean it.',
    );
  }
}

const SAMPLE_TOKENS = 20_000;
const UNKNOWN = /^(<unk>|\[UNK\]|<\|unk\|>)$/;

/** Warnings about a text and its tokenisation (empty when it looks like ordinary text). */
export function textWarnings(text: string, name: string, ids: readonly number[], tokenizer: TextTokenizer): string[] {
  const out: string[] = [];
  const sample = text.length > 1_000_000 ? text.slice(0, 1_000_000) : text;
  let nul = 0;
  let bad = 0;
  for (let i = 0; i < sample.length; i++) {
    const c = sample.charCodeAt(i);
    if (c === 0) nul++;
    else if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13)) bad++;
  }
  if (nul > 0) out.push(`${name} contains ${nul} NUL character(s): it looks like a binary file, not text.`);
  if (bad > sample.length * 0.01)
    out.push(`${name}: ${((100 * bad) / sample.length).toFixed(0)}% of its characters are undecodable bytes or control characters.`);
  const fallback = fallbackShare(ids.slice(0, SAMPLE_TOKENS), tokenizer);
  if (ids.length > 0 && fallback > 0.5)
    out.push(
      `${name} tokenises into ${(100 * fallback).toFixed(0)}% unknown or byte-fallback tokens: the perplexity says little about the model.`,
    );
  return out;
}

/** A token that is only control bytes (tab, newline and carriage return excepted). */
function isControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(c < 32 || c === 0x7f) || c === 9 || c === 10 || c === 13) return false;
  }
  return true;
}

/** Share of tokens that decode to an unknown token, a replacement character or a lone control / non-text byte. */
function fallbackShare(ids: readonly number[], tokenizer: TextTokenizer): number {
  const memo = new Map<number, boolean>();
  let n = 0;
  for (const id of ids) {
    let f = memo.get(id);
    if (f === undefined) {
      const s = tokenizer.decode([id]);
      f = s === '' || s.includes('\ufffd') || UNKNOWN.test(s) || isControl(s);
      memo.set(id, f);
    }
    if (f) n++;
  }
  return ids.length === 0 ? 0 : n / ids.length;
}
