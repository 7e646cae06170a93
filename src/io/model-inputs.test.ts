/**
 * The small pieces behind model loading: picked-file paths (common folder stripped, escapes and
 * duplicates refused), the memory preflight arithmetic and the browser budget, ONNX initializer
 * payloads in every float encoding, .onnx discovery, content digests, and the NaN-score guard.
 */
import { describe, expect, it } from 'vitest';
import { findOnnxModel } from '../arch/load-onnx';
import { assertFiniteScores } from '../api/numeric';
import { InputError, ModelTooLargeError, NumericError, OnnxFormatError } from '../core/errors';
import { memSource } from '../test-util/tiny-gpt2';
import { blobSource, normalizeRelativePath } from './blob-source';
import { normalizeConfig } from '../arch/config';
import { gitBlobSha1, sha256Hex } from './digest';
import { browserMemoryBudget, bytesPerWeight, checkFits, estimateNeed, GiB } from './memory-budget';
import { externalLocation, readFloats } from './onnx-import/initializers';
import { DataType } from './onnx/types';

describe('sliding-window attention', () => {
  const base = {
    hidden_size: 32,
    num_hidden_layers: 1,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: 128,
    vocab_size: 10,
  };
  it('caps the usable context at the window (mistral, qwen2 with use_sliding_window), else leaves it', () => {
    expect(normalizeConfig({ ...base, model_type: 'mistral', sliding_window: 32 }).spec.maxPositions).toBe(32);
    expect(normalizeConfig({ ...base, model_type: 'mistral', sliding_window: null }).spec.maxPositions).toBe(128);
    expect(normalizeConfig({ ...base, model_type: 'qwen2', sliding_window: 16, use_sliding_window: false }).spec.maxPositions).toBe(128);
    expect(normalizeConfig({ ...base, model_type: 'qwen2', sliding_window: 16, use_sliding_window: true }).spec.maxPositions).toBe(16);
  });
});

describe('picked files', () => {
  it('strips the folder every path shares and reads by relative path', async () => {
    const s = blobSource([
      { path: 'gpt2/config.json', file: new Blob(['{}']) },
      { path: 'gpt2/onnx/model.onnx', file: new Blob([Uint8Array.of(1, 2)]) },
    ]);
    expect(await s.list!()).toEqual(['config.json', 'onnx/model.onnx']);
    expect(await s.has('onnx/model.onnx')).toBe(true);
    expect(await s.size!('onnx/model.onnx')).toBe(2);
    expect(Array.from(await s.read('./onnx/model.onnx'))).toEqual([1, 2]);
    await expect(s.read('tokenizer.json')).rejects.toThrow(
      /tokenizer.json is not among the picked files \(config.json, onnx\/model.onnx\)/,
    );
  });

  it('refuses paths that leave the folder, duplicates and an empty pick', () => {
    expect(normalizeRelativePath('a\\b/./c')).toBe('a/b/c');
    expect(() => normalizeRelativePath('../x')).toThrow(InputError);
    expect(() => normalizeRelativePath('/etc/passwd')).toThrow(/leaves the model folder/);
    expect(() => normalizeRelativePath('C:/x')).toThrow(/leaves the model folder/);
    expect(() =>
      blobSource([
        { path: 'a', file: new Blob([]) },
        { path: './a', file: new Blob([]) },
      ]),
    ).toThrow(/"a" was picked twice/);
    expect(() => blobSource([])).toThrow(/No files were picked/);
  });
});

describe('memory preflight', () => {
  it('estimates the download (when held whole) plus two float32 copies, from torch_dtype', () => {
    expect(bytesPerWeight({ torch_dtype: 'bfloat16' })).toBe(2);
    expect(bytesPerWeight({})).toBe(4);
    // the IR and a run's copy in the runtime; the bf16 file itself while it is held whole
    expect(estimateNeed(1000, 2)).toEqual({ download: 1000, float32: 2000, total: 5000 });
    // picked files and local folders are read tensor by tensor: nothing of the download is held
    expect(estimateNeed(1000, 2, false)).toEqual({ download: 0, float32: 2000, total: 4000 });
  });

  it('refuses with the numbers, or passes when it fits or nothing is known', () => {
    const need = estimateNeed(3 * GiB, 2);
    expect(() => checkFits('org/big', need, { bytes: 4 * GiB, source: 'WebAssembly 4 GiB limit' })).toThrow(ModelTooLargeError);
    expect(() => checkFits('org/big', need, { bytes: 4 * GiB, source: 'WebAssembly 4 GiB limit' })).toThrow(
      /org\/big is too large for this browser: loading it needs about 15.0 GB \(3.00 GB download \+ 2 × 6.00 GB of float32 weights\), but only about 4.00 GB is available \(WebAssembly 4 GiB limit\)/,
    );
    expect(() => checkFits('small', estimateNeed(1000, 4), { bytes: 1e6, source: 'x' })).not.toThrow();
    expect(() => checkFits('any', need, undefined)).not.toThrow();
  });

  it('budgets the device memory, with the wasm heap and the ArrayBuffer as separate hard limits', () => {
    const limits = { arrayBufferLimit: 2 * GiB, wasmHeapLimit: 4 * GiB };
    expect(browserMemoryBudget({})).toEqual({ bytes: 4 * GiB, source: 'no navigator.deviceMemory: 4 GiB assumed', ...limits });
    expect(browserMemoryBudget({ deviceMemory: 4 })).toEqual({
      bytes: 4 * GiB,
      source: 'navigator.deviceMemory = 4 GB (a lower bound: browsers cap it at 8)',
      ...limits,
    });
    // V8's heap limit does not bound ArrayBuffers (the weights): it is not a cap on the total
    expect(browserMemoryBudget({ deviceMemory: 8, jsHeapSizeLimit: GiB }).bytes).toBe(8 * GiB);
  });
});

describe('ONNX initializer payloads', () => {
  const half = (x: number) => (x === 1 ? 0x3c00 : x === -2 ? 0xc000 : 0);
  it('reads FLOAT16 (int32_data), BFLOAT16 (raw), DOUBLE (double_data) and FLOAT (float_data)', () => {
    expect(Array.from(readFloats({ name: 'h', dims: [2], data_type: DataType.FLOAT16, int32_data: [half(1), half(-2)] }))).toEqual([1, -2]);
    const bf = new Uint8Array(new Uint16Array([0x3f80, 0xc000]).buffer);
    expect(Array.from(readFloats({ name: 'b', dims: [2], data_type: DataType.BFLOAT16, raw_data: bf }))).toEqual([1, -2]);
    expect(Array.from(readFloats({ name: 'd', dims: [1], data_type: DataType.DOUBLE, double_data: [0.5] }))).toEqual([0.5]);
    expect(Array.from(readFloats({ name: 'f', dims: [1, 2], data_type: DataType.FLOAT, float_data: [3, 4] }))).toEqual([3, 4]);
    expect(() => readFloats({ name: 'f', dims: [3], data_type: DataType.FLOAT, float_data: [3, 4] })).toThrow(
      /holds 2 values; its dims need 3/,
    );
  });

  it('reads external data by offset and length, and refuses data outside the file', () => {
    const file = new Uint8Array(new Float32Array([9, 1, 2]).buffer);
    const ext = (offset: number, length: number) => ({
      name: 'w',
      dims: [2],
      data_type: DataType.FLOAT,
      data_location: 1,
      external_data: [
        { key: 'location', value: 'w.bin' },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    });
    expect(Array.from(readFloats(ext(4, 8), () => file))).toEqual([1, 2]);
    expect(() => readFloats(ext(8, 8), () => file)).toThrow(/runs past the end of w.bin \(12 bytes\)/);
    expect(() => externalLocation({ ...ext(0, 8), external_data: [{ key: 'location', value: 'https://x/w.bin' }] })).toThrow(
      OnnxFormatError,
    );
  });
});

describe('finding the .onnx file', () => {
  it('prefers model.onnx, then onnx/model.onnx, then the quantized variants; picks a named variant; refuses merged folders', async () => {
    expect(await findOnnxModel(memSource({ 'onnx/model.onnx': {}, 'onnx/model_quantized.onnx': {}, 'config.json': {} }))).toBe(
      'onnx/model.onnx',
    );
    expect(await findOnnxModel(memSource({ 'config.json': {} }))).toBeUndefined();
    const listing = (paths: string[]) => ({ ...memSource({}), list: async () => paths });
    expect(await findOnnxModel(listing(['onnx/model_quantized.onnx', 'onnx/model.onnx']))).toBe('onnx/model.onnx');
    expect(await findOnnxModel(listing(['my-export.onnx', 'my-export.onnx_data']))).toBe('my-export.onnx');
    await expect(findOnnxModel(listing(['decoder_model_merged.onnx']))).rejects.toThrow(
      /merged \(with If subgraphs\) exports and quantized files other than/,
    );
    // Quantized variants: float32 first, then the most precise; a named variant, or a named error.
    const q = ['onnx/model_q4.onnx', 'onnx/model_quantized.onnx', 'onnx/model_fp16.onnx'];
    expect(await findOnnxModel(listing(q))).toBe('onnx/model_fp16.onnx');
    expect(await findOnnxModel(listing(['onnx/model_q4.onnx']))).toBe('onnx/model_q4.onnx');
    expect(await findOnnxModel(listing([...q, 'onnx/model.onnx']), 'q8')).toBe('onnx/model_quantized.onnx');
    expect(await findOnnxModel(listing([...q, 'onnx/model.onnx']), 'int4-gptq')).toBe('onnx/model_q4.onnx');
    expect(await findOnnxModel(memSource({ 'onnx/model_q4.onnx': {}, 'config.json': {} }))).toBe('onnx/model_q4.onnx');
    await expect(findOnnxModel(listing(['onnx/model.onnx']), 'q4')).rejects.toThrow(/no int4 model file/);
    await expect(findOnnxModel(listing(['onnx/model.onnx']), 'int3')).rejects.toThrow(/Unknown model variant "int3"/);
  });
});

describe('digests and score guards', () => {
  it('computes sha256 and git blob ids like the Hub', async () => {
    const hello = new TextEncoder().encode('hello\n');
    expect(await sha256Hex(hello)).toBe('5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03');
    expect(await gitBlobSha1(hello)).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
  });

  it('refuses NaN or infinite scores, naming the unit', () => {
    const scores = {
      criterion: 'magnitude' as const,
      numLayers: 2,
      numHeads: 2,
      ffnSize: 3,
      heads: Float64Array.of(1, 2, 3, NaN),
      ffn: null,
      layers: null,
    };
    expect(() => assertFiniteScores(scores, 'Magnitude')).toThrow(NumericError);
    expect(() => assertFiniteScores(scores, 'Magnitude')).toThrow(
      /Magnitude gave a NaN score \(layer 1 head 1\); the scores were not kept/,
    );
  });
});
