/**
 * Text guards (api/text-guard.ts): the size and token caps before tokenisation, and the warnings for
 * NUL bytes, undecodable bytes and mostly unknown / byte-fallback tokenisations, on the demo tokenizer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from '../core/errors';
import { tokenizerFromJson } from '../io/tokenizer';
import { checkTextSize, DEFAULT_MAX_TEXT_CHARS, textWarnings } from './text-guard';

const tok = tokenizerFromJson(JSON.parse(readFileSync('public/models/demo-gpt2/tokenizer.json', 'utf8')), {}, 'demo');
const english = readFileSync('public/data/evaluation.txt', 'utf8').slice(0, 20_000);

function seededBytes(n: number): Uint8Array {
  let s = 12345;
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 24;
  });
}

describe('text caps', () => {
  it('refuses a text scored whole beyond the cap, and says how to raise it', () => {
    const big = 'a'.repeat(DEFAULT_MAX_TEXT_CHARS + 1);
    expect(() => checkTextSize(big, 'big.txt', undefined)).toThrow(InputError);
    expect(() => checkTextSize(big, 'big.txt', undefined)).toThrow(/big.txt has 2.0 M characters; texts scored whole are capped at 2.0 M/);
    expect(() => checkTextSize(big, 'big.txt', undefined, DEFAULT_MAX_TEXT_CHARS * 2)).not.toThrow();
    expect(() => checkTextSize(big, 'big.txt', 8192)).not.toThrow();
    expect(() => checkTextSize('abc', 'x.txt', 2_000_000)).toThrow(/2000000 tokens requested; texts are capped at 1000000 tokens/);
  });
});

describe('text warnings', () => {
  it('none for ordinary English', () => {
    expect(textWarnings(english, 'evaluation.txt', tok.encode(english), tok)).toEqual([]);
  });

  it('random bytes decoded as UTF-8: undecodable characters and byte-fallback tokens', () => {
    const text = new TextDecoder().decode(seededBytes(4000));
    const w = textWarnings(text, 'random.bin', tok.encode(text), tok);
    expect(w.join('\n')).toMatch(/random.bin: \d+% of its characters are undecodable bytes or control characters/);
    expect(w.join('\n')).toMatch(/random.bin tokenises into \d+% unknown or byte-fallback tokens/);
  });

  it('NUL bytes', () => {
    const text = `${english.slice(0, 2000)}\0\0\0${english.slice(2000, 4000)}`;
    expect(textWarnings(text, 'nul.txt', tok.encode(text), tok)).toEqual([
      'nul.txt contains 3 NUL character(s): it looks like a binary file, not text.',
    ]);
  });
});
