/**
 * Guards on inputs (issue 13): the one JSON reader (file name, line:column, hint) for config.json,
 * tokenizer.json, the shard index and plans; config sizes bounded by the weights before anything is
 * allocated; safetensors shapes written as integers; an empty tokenizer named as such; local folders
 * that miss a file, or a file given for a folder, as InputErrors naming them.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, InputError, SafetensorsError, type StudioError, TokenizerError } from '../core/errors';
import { loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import { memSource, TINY_CONFIG, tinyFolder, tinyGpt2Tensors } from '../test-util/tiny-gpt2';
import { writeSafetensors, parseSafetensors } from './safetensors';
import { firstJsonError, JsonFileError, lineColumn, parseJsonText } from './json';
import { loadTokenizer, tokenizerFromJson } from './tokenizer';
import { readJson } from './source';

async function caught(p: Promise<unknown> | (() => unknown)): Promise<unknown> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('the guarded JSON reader', () => {
  it('names the file and the line:column of the first syntax error', () => {
    const e = (() => {
      try {
        parseJsonText('{\n  "a": 1,\n  "b": tru\n}', 'config.json');
      } catch (err) {
        return err;
      }
    })() as JsonFileError;
    expect(e).toBeInstanceOf(JsonFileError);
    expect(e.message).toBe('config.json is not valid JSON: unexpected "t" at line 3:8.');
    expect([e.line, e.column]).toEqual([3, 8]);
    expect(e.hint).toMatch(/Re-download config.json/);
  });

  it.each([
    ['', 1, 1, /empty/],
    ['{"a":1,}', 1, 8, /property name/],
    ['[1 2]', 1, 4, /"," or "]"/],
    ['{"a":"x\ny"}', 1, 8, /control character/],
    ['{"a":1} x', 1, 9, /after the JSON value/],
    ['{"a":01}', 1, 7, /"," or "}"/],
    ['{"a":"\\q"}', 1, 7, /bad escape/],
  ])('finds the error in %j', (text, line, column, what) => {
    expect(() => JSON.parse(text)).toThrow();
    const at = firstJsonError(text);
    expect(lineColumn(text, at.offset)).toEqual({ line, column });
    expect(at.what).toMatch(what);
  });

  it('tokenizer.json that is not JSON is a TokenizerError naming it and the position', async () => {
    const src = memSource({ 'tokenizer.json': new TextEncoder().encode('{"model": {\n  "type": "BPE",\n  "vocab": {"a": 0,}}}') });
    const e = (await caught(loadTokenizer(src, 'm', 10))) as StudioError;
    expect(e).toBeInstanceOf(TokenizerError);
    expect(e.message).toBe(
      'tokenizer.json in mem/tiny-gpt2 is not valid JSON: expected a property name in quotes, unexpected "}" at line 3:20.',
    );
    const bad = memSource({ 'x.json': new Uint8Array([0xff, 0xfe, 0x7b]) });
    expect(await caught(readJson(bad, 'x.json'))).toBeInstanceOf(JsonFileError);
  });

  it('config.json and the shard index that are not JSON name themselves', async () => {
    const files = { 'config.json': new TextEncoder().encode('{"model_type": "gpt2",'), 'model.safetensors': new Uint8Array(8) };
    const e = (await caught(loadModelIR(memSource(files)))) as StudioError;
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toBe(
      'config.json in mem/tiny-gpt2 is not valid JSON: expected a property name in quotes, the text ends early at line 1:23.',
    );
    const idx = { 'config.json': TINY_CONFIG, 'model.safetensors.index.json': new TextEncoder().encode('{"weight_map": [}') };
    const e2 = (await caught(loadModelIR(memSource(idx)))) as StudioError;
    expect(e2).toBeInstanceOf(SafetensorsError);
    expect(e2.message).toMatch(/^model.safetensors.index.json is not valid JSON/);
  });
});

describe('bounds before allocation', () => {
  it('n_layer 1e9 fails fast by name', async () => {
    const e = await caught(loadModelIR(tinyFolder(undefined, { ...TINY_CONFIG, n_layer: 1e9 })));
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/1000000000 layers/);
  });

  it.each([
    ['n_layer', 3000],
    ['n_embd', 1 << 20],
    ['vocab_size', 1e9],
    ['n_inner', 1e8],
  ])('%s = %d, far beyond what the weights hold, is a ConfigError before the adapter runs', async (key, value) => {
    const e = await caught(loadModelIR(tinyFolder(undefined, { ...TINY_CONFIG, [key]: value })));
    expect(e, String(e)).toBeInstanceOf(ConfigError);
    expect((e as Error).message).toMatch(/config.json describes a model .* of at least .* weights, but .* holds only \d+ values/);
  });

  it('safetensors shapes written as floats are refused (the reference parses usize)', () => {
    const good = writeSafetensors({ w: tinyGpt2Tensors()['ln_f.weight']! });
    const n = Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true));
    const header = new TextDecoder().decode(good.subarray(8, 8 + n));
    for (const [from, to] of [
      ['"shape":[8]', '"shape":[8.0]'],
      ['"shape":[8]', '"shape":[8e0]'],
      ['"data_offsets":[0,32]', '"data_offsets":[0,32.0]'],
    ] as const) {
      expect(header).toContain(from);
      const patched = new TextEncoder().encode(header.replace(from, to).padEnd(n + 2, ' '));
      const out = new Uint8Array(8 + patched.length + (good.length - 8 - n));
      new DataView(out.buffer).setBigUint64(0, BigInt(patched.length), true);
      out.set(patched, 8);
      out.set(good.subarray(8 + n), 8 + patched.length);
      expect(() => parseSafetensors(out)).toThrow(SafetensorsError);
      expect(() => parseSafetensors(out)).toThrow(/not written as a non-negative integer/);
    }
    expect(parseSafetensors(good).header.get('w')!.shape).toEqual([8]);
  });
});

describe('local paths and empty tokenizers', () => {
  it('a folder missing a file names the folder and the file (InputError, not a network error)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-missing-'));
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tinyGpt2Tensors()));
    const e = (await caught(loadModelIR(dirSource(dir)))) as StudioError;
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(`The model folder ${dir} has no file config.json.`);
  });

  it('a file given where the folder is expected says so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ps-file-'));
    const file = join(dir, 'config.json');
    writeFileSync(file, '{}');
    const e = (await caught(() => dirSource(file))) as StudioError;
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toBe(`${file} is a file, not a model folder.`);
  });

  it('an empty tokenizer vocabulary says the tokenizer is empty', () => {
    expect(() => tokenizerFromJson({ model: { type: 'BPE', vocab: {}, merges: [] } }, {}, 'm')).toThrow(TokenizerError);
    expect(() => tokenizerFromJson({ model: { type: 'BPE', vocab: {}, merges: [] } }, {}, 'm')).toThrow(/the tokenizer is empty/);
  });
});
