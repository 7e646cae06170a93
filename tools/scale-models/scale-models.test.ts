/**
 * tools/scale-models: the GPT-2 tokenizer equals gpt-3-encoder (the independent JS implementation
 * of GPT-2's BPE) on real text; the resized tokenizers keep their sizes; the initialisation is
 * deterministic, chunk-independent and has the requested spread; small models of every family,
 * written by the same code as the full-size ones, load in the studio with finite perplexity and
 * their bf16 file holds the generated values rounded to bf16.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as gpt2Encode } from 'gpt-3-encoder';
import { describe, expect, it } from 'vitest';
import { createStudioApi } from '../../src/api/studio';
import { dirSource } from '../../src/cli/dir-source';
import { tokenizerFromJson } from '../../src/io/tokenizer';
import { encodeFloats, parseSafetensors } from '../../src/io/safetensors';
import { createNodeRunner } from '../../src/runtime/ort-node';
import { generate } from './init';
import { parameterCount, SHAPES, tensorPlan, type ModelShape } from './shapes';
import { buildTokenizer } from './tokenizer';
import { writeModel } from './write';

const TEXT = readFileSync('public/data/evaluation.txt', 'utf8').slice(0, 6000);

function tokenizer(vocab: number) {
  const t = buildTokenizer(vocab, 1024);
  return tokenizerFromJson(t.json, t.config, 'x');
}

function values(init: Parameters<typeof generate>[0], count: number, name: string, chunk?: number): Float32Array {
  const out = new Float32Array(count);
  let at = 0;
  generate(init, count, 7, name, (v) => (out.set(v, at), (at += v.length)), chunk);
  return out;
}

describe('scale-model tokenizers', () => {
  it('gpt2-124m: GPT-2 BPE, the same ids as gpt-3-encoder', () => {
    const t = tokenizer(50257);
    expect(t.vocabSize).toBe(50257);
    expect(t.eosId).toBe(50256);
    const ids = t.encode(TEXT);
    expect(ids).toEqual(gpt2Encode(TEXT));
    expect(t.decode(ids)).toBe(TEXT);
  });

  it('smaller and larger vocabularies keep their size and still round-trip text', () => {
    const small = tokenizer(49152);
    expect(small.vocabSize).toBe(49152);
    expect(small.eosId).toBe(49151);
    const ids = small.encode(TEXT);
    expect(Math.max(...ids)).toBeLessThan(49151);
    expect(small.decode(ids)).toBe(TEXT);
    const large = tokenizer(151936);
    expect(large.vocabSize).toBe(151936);
    expect(large.eosId).toBe(151935);
    expect(large.encode(TEXT)).toEqual(gpt2Encode(TEXT));
  });
});

describe('scale-model initialisation', () => {
  it('is deterministic, independent of the chunk size, and normal(0, std)', () => {
    const a = values({ kind: 'normal', std: 0.02 }, 100_001, 'w');
    expect(values({ kind: 'normal', std: 0.02 }, 100_001, 'w', 7)).toEqual(a);
    expect(values({ kind: 'normal', std: 0.02 }, 100_001, 'w2')[0]).not.toBe(a[0]);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const std = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / a.length);
    expect(Math.abs(mean)).toBeLessThan(0.02 * 0.02);
    expect(Math.abs(std / 0.02 - 1)).toBeLessThan(0.02);
    expect([...values({ kind: 'ones' }, 5, 'n', 2)]).toEqual([1, 1, 1, 1, 1]);
  });

  it('full-size shapes have the parameter counts of the originals', () => {
    expect(parameterCount(SHAPES['gpt2-124m']!)).toBe(124_439_808);
    expect(parameterCount(SHAPES['smollm2-135m']!)).toBe(134_515_008);
    expect(parameterCount(SHAPES['qwen2.5-0.5b']!)).toBe(494_032_768);
  });
});

/** The same family, vocabulary, dtype and biases with 2 small layers. */
const tiny = (s: ModelShape): ModelShape => ({
  ...s,
  name: `tiny-${s.name}`,
  layers: 2,
  hidden: 128,
  heads: 4,
  kvHeads: s.family === 'gpt2' ? 4 : 2,
  headDim: 32,
  ffn: 256,
  positions: 256,
});

/** What the file should hold: the values as the writer's dtype stores them (bf16: the top 16 bits after rounding). */
function stored(dtype: ModelShape['dtype'], v: Float32Array): Float32Array {
  if (dtype === 'F32') return v;
  const half = new Uint16Array(encodeFloats('BF16', v).buffer);
  return new Float32Array(Uint32Array.from(half, (h) => h << 16).buffer);
}

describe('scale models load in the studio', () => {
  const root = mkdtempSync(join(tmpdir(), 'scale-models-'));
  for (const name of Object.keys(SHAPES)) {
    it(`${name} (2 layers, real vocabulary and family)`, async () => {
      const shape = tiny(SHAPES[name]!);
      const written = writeModel(shape, root, 7);
      const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
      const summary = await api.loadModel({ kind: 'dir', path: written.dir });
      expect(summary.parameters).toBe(parameterCount(shape));
      expect(summary.spec.vocabSize).toBe(shape.vocab);
      const ppl = await api.evaluatePerplexity({ text: TEXT, textName: 't', contextLength: 64, stride: 32, maxTokens: 128 });
      expect(Number.isFinite(ppl.perplexity)).toBe(true);
      // Random weights: perplexity is near the vocabulary size.
      expect(ppl.perplexity).toBeGreaterThan(shape.vocab / 4);
      expect(ppl.perplexity).toBeLessThan(shape.vocab * 4);
      const file = parseSafetensors(new Uint8Array(readFileSync(join(written.dir, 'model.safetensors'))));
      const first = tensorPlan(shape).find((t) => ['h.1.attn.c_attn.weight', 'model.layers.1.self_attn.q_proj.weight'].includes(t.name))!;
      const info = file.header.get(first.name)!;
      expect(info.dtype).toBe(shape.dtype);
      const generated = values(
        first.init,
        info.shape.reduce((x, y) => x * y, 1),
        first.name,
      );
      expect([...file.getFloat32(first.name).data]).toEqual([...stored(shape.dtype, generated)]);
    }, 120_000);
  }
});
