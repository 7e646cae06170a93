/** loadModelIR: sharded checkpoints, progress, cancellation, early and named failures. */
import { describe, expect, it } from 'vitest';
import { CancelledError, ConfigError, InputError, SafetensorsError, UnsupportedModelError } from '../core/errors';
import type { Tensor } from '../core/tensor';
import { writeSafetensors } from '../io/safetensors';
import { TINY_CONFIG, memSource, tinyFolder, tinyGpt2Tensors } from '../test-util/tiny-gpt2';
import { parseIndex } from './checkpoint';
import { loadModelIR, modelName, type LoadProgress } from './load';
import { adapterFor, supportedModelTypes } from './registry';

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, fragment: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(fragment);
}

/** Splits the tensors into two shards + an index, as transformers' save_pretrained does. */
function sharded(tensors: Record<string, Tensor>) {
  const names = Object.keys(tensors).sort();
  const half = Math.ceil(names.length / 2);
  const shardNames = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'] as const;
  const parts = [names.slice(0, half), names.slice(half)];
  const weightMap = Object.fromEntries(parts.flatMap((p, i) => p.map((n) => [n, shardNames[i]!])));
  const files: Record<string, Uint8Array | object> = {
    'config.json': TINY_CONFIG,
    'model.safetensors.index.json': { metadata: { total_size: 0 }, weight_map: weightMap },
  };
  parts.forEach((p, i) => (files[shardNames[i]!] = writeSafetensors(Object.fromEntries(p.map((n) => [n, tensors[n]!])))));
  return { files, weightMap, shardNames };
}

describe('loadModelIR', () => {
  const hf = tinyGpt2Tensors();

  it('loads a sharded checkpoint exactly like the single file, with progress per shard', async () => {
    const single = (await loadModelIR(tinyFolder(hf))).ir;
    const { files } = sharded(hf);
    const progress: LoadProgress[] = [];
    const { ir } = await loadModelIR(memSource(files), { onProgress: (p) => progress.push(p) });
    expect(ir).toEqual(single);
    const messages = progress.filter((p) => p.stage === 'download').map((p) => p.message);
    expect(messages).toContain('Downloading model-00001-of-00002.safetensors (1/2)');
    expect(messages).toContain('Downloading model-00002-of-00002.safetensors (2/2)');
    expect(progress[0]!.stage).toBe('config');
    expect(progress.at(-1)).toMatchObject({ stage: 'weights', done: 1, total: 1 });
  });

  it('rejects an index whose shard lacks a tensor, or that points outside the folder', async () => {
    const { files, weightMap, shardNames } = sharded(hf);
    const wrong = { ...weightMap, 'wte.weight': shardNames[0] === weightMap['wte.weight'] ? shardNames[1] : shardNames[0] };
    await rejects(
      loadModelIR(memSource({ ...files, 'model.safetensors.index.json': { weight_map: wrong } })),
      SafetensorsError,
      /puts tensor "wte.weight" in model-0000\d-of-00002.safetensors, but .* does not contain it/,
    );
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    expect(() => parseIndex(enc({ weight_map: { w: '../secret.safetensors' } }))).toThrow(
      /not a .safetensors file inside the model folder/,
    );
    expect(() => parseIndex(enc({ weight_map: { w: 'https://x/y.safetensors' } }))).toThrow(SafetensorsError);
    expect(() => parseIndex(enc({}))).toThrow(/no "weight_map" object/);
  });

  it('names the file when the safetensors data is corrupt', async () => {
    const bytes = writeSafetensors(hf);
    await rejects(
      loadModelIR(memSource({ 'config.json': TINY_CONFIG, 'model.safetensors': bytes.subarray(0, bytes.length - 3) })),
      SafetensorsError,
      /^model.safetensors: Tensor data runs past the end/,
    );
  });

  it('stops when cancelled', async () => {
    const controller = new AbortController();
    const source = tinyFolder(hf);
    const read = source.read.bind(source);
    const aborting = {
      ...source,
      read: async (path: string, onBytes?: (l: number, t: number) => void, signal?: AbortSignal) => {
        const b = await read(path, onBytes, signal);
        if (path === 'model.safetensors') controller.abort();
        return b;
      },
    };
    await rejects(loadModelIR(aborting, { signal: controller.signal }), CancelledError, /Loading the model was cancelled/);
  });

  it('fails on an unsupported family before downloading any weights', async () => {
    const source = memSource({ 'config.json': { model_type: 't5', d_model: 8 }, 'model.safetensors': new Uint8Array(0) });
    await rejects(loadModelIR(source), UnsupportedModelError, /model_type "t5" is not supported; supported model types: gpt2, llama/);
    expect(source.reads).toEqual(['config.json']);
  });

  it('explains folders without safetensors weights and broken config.json', async () => {
    await rejects(
      loadModelIR(memSource({ 'config.json': TINY_CONFIG, 'pytorch_model.bin': new Uint8Array(4) })),
      UnsupportedModelError,
      /has only pytorch_model.bin/,
    );
    await rejects(
      loadModelIR(memSource({ 'config.json': TINY_CONFIG })),
      InputError,
      /has neither model.safetensors nor model.safetensors.index.json/,
    );
    await rejects(
      loadModelIR(memSource({ 'config.json': new TextEncoder().encode('{"model_type": ') })),
      ConfigError,
      /config.json in mem\/tiny-gpt2 is not valid JSON/,
    );
  });
});

describe('registry and names', () => {
  it('maps model types to adapters', () => {
    expect(supportedModelTypes()).toEqual(['gpt2', 'llama', 'qwen2', 'mistral', 'vit']);
    expect(adapterFor({ family: 'gpt2', modelType: 'gpt2' }).family).toBe('gpt2');
    expect(adapterFor({ family: 'llama', modelType: 'qwen2' }).family).toBe('llama');
    expect(adapterFor({ family: 'llama', modelType: 'some-llama-finetune' }).family).toBe('llama');
  });

  it('derives display names from folders and Hub URLs', () => {
    expect(modelName('/models/demo-gpt2/')).toBe('demo-gpt2');
    expect(modelName('C:\\models\\gpt2')).toBe('gpt2');
    expect(modelName('https://huggingface.co/openai-community/gpt2/resolve/main')).toBe('openai-community/gpt2');
    expect(modelName('')).toBe('model');
  });
});
