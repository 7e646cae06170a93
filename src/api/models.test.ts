/**
 * Issue 5 acceptance through the StudioApi (the object the worker wraps): every fixture — gpt2
 * sharded / untied F16, llama GQA BF16 / tied, qwen2 F16 with biases, and the four ONNX exports —
 * loads by repo id from the local fake Hub, from picked files and from a folder, and its logits
 * match the independent PyTorch golden (max abs diff < 1e-3). Every bad input is refused with its
 * own error class and message, and after each one the same api instance still loads the demo model.
 * Grouped-query attention: a head plan removes whole kv groups and the pruned model runs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import {
  CancelledError,
  ConfigError,
  FetchError,
  GatedModelError,
  ModelTooLargeError,
  NumericError,
  OnnxFormatError,
  SafetensorsError,
  ShapeMismatchError,
  TokenizerError,
  UnsupportedModelError,
} from '../core/errors';
import { parseSafetensors, writeSafetensors } from '../io/safetensors';
import type { LocalFile } from '../io/blob-source';
import { decodeModel, encodeModel } from '../io/onnx';
import type { MemoryBudget } from '../io/memory-budget';
import { createNodeRunner } from '../runtime/ort-node';
import { FAKE_HUB_TOKEN, startFakeHub, type FakeHub } from '../test-util/fake-hub';
import { BAD_ROOT, fixtureDir, fixtureModels, maxGoldenDiff } from '../test-util/model-fixtures';
import { createStudioApi } from './studio';
import type { ModelSource } from './types';

const runner = createNodeRunner({ threads: 1 });
let hub: FakeHub;
let budget: MemoryBudget | undefined;
let api: ReturnType<typeof createStudioApi>;
const diffs: Record<string, number> = {};

beforeAll(async () => {
  hub = await startFakeHub({ aliases: { 'local/demo-gpt2': 'public/models/demo-gpt2' } });
  api = createStudioApi({
    runner,
    demoUrl: `${hub.url}/local/demo-gpt2/resolve/main/`,
    openDir: dirSource,
    hubEndpoint: hub.url,
    memoryBudget: () => budget,
    stallMs: 2000,
  });
});
afterAll(async () => {
  await hub.close();
  console.log(`max |logits - golden|: ${JSON.stringify(diffs, null, 1)}`);
});

function localFiles(repo: string, folder = repo.split('/')[1]!): LocalFile[] {
  const dir = fixtureDir(repo);
  return listFiles(dir).map((p) => ({ path: `${folder}/${p}`, file: new Blob([readFileSync(`${dir}/${p}`)]) }));
}

function listFiles(dir: string, rel = ''): string[] {
  return readdirSync(`${dir}/${rel}`, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? listFiles(dir, `${rel}${e.name}/`) : [`${rel}${e.name}`]))
    .sort();
}

async function loadAndCompare(source: ModelSource, golden: string, label: string): Promise<void> {
  const summary = await api.loadModel(source);
  expect(summary.parameters).toBeGreaterThan(0);
  const diff = await maxGoldenDiff(runner, await api.exportOnnx(), golden);
  diffs[label] = Number(diff.toExponential(2));
  expect(diff).toBeLessThan(1e-3);
}

/** The built-in demo model (served by the fake Hub here) still loads in the same api instance. */
async function expectDemoLoads(): Promise<void> {
  const demo = await api.loadModel({ kind: 'demo' });
  expect([demo.layers.length, demo.spec.hiddenSize, demo.spec.vocabSize]).toEqual([4, 256, 4096]);
}

async function failsThenDemoLoads(source: ModelSource, cls: new (...a: never[]) => Error, fragment: RegExp): Promise<Error> {
  const e = await api.loadModel(source).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, String(e)).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(fragment);
  await expectDemoLoads();
  return e as Error;
}

describe.each(fixtureModels().map((m) => [m.repo, m] as const))('%s', (repo, m) => {
  it('by repo id from the fake Hub', async () => {
    await loadAndCompare({ kind: 'hub', repo }, m.golden, `${repo} (hub)`);
    expect((await api.loadModel({ kind: 'hub', repo: `${repo}@v1.0` })).name).toBe(`${repo}@v1.0`);
  });
  it('from picked files', async () => {
    await loadAndCompare({ kind: 'files', files: localFiles(repo) }, m.golden, `${repo} (files)`);
  });
  it('from a folder', async () => {
    await loadAndCompare({ kind: 'dir', path: fixtureDir(repo) }, m.golden, `${repo} (dir)`);
  });
});

describe('grouped-query attention survives pruning', () => {
  it('a head plan on llama GQA removes whole kv groups and the pruned model runs', async () => {
    await api.loadModel({ kind: 'hub', repo: 'tiny/llama-gqa-bf16' });
    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.25, layers: 0 });
    for (const l of plan.layers) {
      expect(l.removedHeads).toHaveLength(2);
      expect(Math.floor(l.removedHeads[0]! / 2)).toBe(Math.floor(l.removedHeads[1]! / 2));
    }
    const applied = await api.applyPlan({ plan, compensation: 'none' });
    expect(applied.layers.every((l) => l.numHeads === 2 && l.numKvHeads === 1)).toBe(true);
    const ppl = await api.evaluatePerplexity({
      text: 'The sea was calm. The ship sailed on.',
      textName: 't',
      contextLength: 16,
      stride: 8,
      target: 'pruned',
    });
    expect(Number.isFinite(ppl.perplexity)).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------
// Bad input: one test each, asserting the class and the message; the demo loads afterwards.
// ---------------------------------------------------------------------------------------------
const llamaDir = fixtureDir('tiny/llama-tied');
const read = (p: string) => new Uint8Array(readFileSync(p));
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
const blob = (v: Uint8Array | object) => new Blob([v instanceof Uint8Array ? (v as Uint8Array<ArrayBuffer>) : JSON.stringify(v)]);
function folder(files: Record<string, Uint8Array | object>): ModelSource {
  return { kind: 'files', name: 'bad-model', files: Object.entries(files).map(([path, v]) => ({ path, file: blob(v) })) };
}
const llama = (over: Record<string, Uint8Array | object> = {}) =>
  folder({
    'config.json': json(`${llamaDir}/config.json`),
    'tokenizer.json': json(`${llamaDir}/tokenizer.json`),
    'model.safetensors': read(`${llamaDir}/model.safetensors`),
    ...over,
  });

describe('bad input', () => {
  it('truncated safetensors', async () => {
    const bytes = read(`${llamaDir}/model.safetensors`);
    await failsThenDemoLoads(
      llama({ 'model.safetensors': bytes.subarray(0, bytes.length - 100) }),
      SafetensorsError,
      /^model.safetensors: Tensor data runs past the end of the file/,
    );
  });

  it('malformed safetensors header', async () => {
    const bad = new Uint8Array(64);
    new DataView(bad.buffer).setBigUint64(0, 40n, true);
    bad.set(new TextEncoder().encode('{"a": {"dtype": "F32", "shape": [2'), 8);
    await failsThenDemoLoads(llama({ 'model.safetensors': bad }), SafetensorsError, /^model.safetensors: Header is not valid JSON/);
  });

  it('config and tensor shapes that disagree', async () => {
    await failsThenDemoLoads(
      llama({ 'config.json': { ...json(`${llamaDir}/config.json`), intermediate_size: 64 } }),
      ShapeMismatchError,
      /Tensor "model.layers.0.mlp.gate_proj.weight" has shape \[48, 32\], but config.json implies \[64, 32\]/,
    );
  });

  it('unknown model_type', async () => {
    await failsThenDemoLoads(
      llama({ 'config.json': { ...json(`${llamaDir}/config.json`), model_type: 'mamba' } }),
      UnsupportedModelError,
      /model_type "mamba" is not supported; supported model types: gpt2, llama, qwen2, mistral/,
    );
  });

  it('heads that do not divide the hidden size', async () => {
    const { head_dim: _drop, ...config } = json(`${llamaDir}/config.json`);
    await failsThenDemoLoads(
      llama({ 'config.json': { ...config, num_attention_heads: 5, num_key_value_heads: 5 } }),
      ConfigError,
      /hidden_size \(32\) is not divisible by num_attention_heads \(5\), and no head_dim is given/,
    );
  });

  it('tokenizer vocabulary larger than the embedding', async () => {
    const config = { ...json(`${llamaDir}/config.json`), vocab_size: 300 };
    const st = parseSafetensors(read(`${llamaDir}/model.safetensors`));
    const tensors = Object.fromEntries([...st.header.keys()].map((n) => [n, st.getFloat32(n)]));
    const emb = tensors['model.embed_tokens.weight']!;
    tensors['model.embed_tokens.weight'] = { shape: [300, 32], data: emb.data.slice(0, 300 * 32) };
    await failsThenDemoLoads(
      llama({ 'config.json': config, 'model.safetensors': writeSafetensors(tensors) }),
      TokenizerError,
      /The tokenizer has 320 tokens but the model's embedding has only 300 rows/,
    );
  });

  it('NaN and Inf weights are flagged with the tensor and index', async () => {
    const st = parseSafetensors(read(`${llamaDir}/model.safetensors`));
    const tensors = Object.fromEntries([...st.header.keys()].map((n) => [n, st.getFloat32(n)]));
    tensors['model.layers.1.self_attn.v_proj.weight']!.data[37] = NaN;
    await failsThenDemoLoads(
      llama({ 'model.safetensors': writeSafetensors(tensors) }),
      NumericError,
      /Tensor "model.layers.1.self_attn.v_proj.weight" contains NaN at element 37 \(index \[1, 5\]\)/,
    );
    tensors['model.layers.1.self_attn.v_proj.weight']!.data[37] = 0;
    tensors['model.norm.weight']!.data[3] = -Infinity;
    await failsThenDemoLoads(
      llama({ 'model.safetensors': writeSafetensors(tensors) }),
      NumericError,
      /Tensor "model.norm.weight" contains -Inf at element 3/,
    );
  });

  it('finite weights that overflow: NaN scores are refused', async () => {
    const st = parseSafetensors(read(`${llamaDir}/model.safetensors`));
    const tensors = Object.fromEntries([...st.header.keys()].map((n) => [n, st.getFloat32(n)]));
    tensors['model.layers.0.mlp.down_proj.weight']!.data.fill(3e38);
    await api.loadModel(llama({ 'model.safetensors': writeSafetensors(tensors) }));
    const text = 'The sea was calm. '.repeat(40);
    const e = await api.calibrate({ text, textName: 'x', samples: 2, seq: 16, withHessians: false }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(NumericError);
    expect((e as Error).message).toMatch(/The calibration loss is NaN|infinite/);
    await expectDemoLoads();
  });

  it('ONNX that fails the checker', async () => {
    await failsThenDemoLoads(
      folder({ 'model.onnx': read(`${BAD_ROOT}/onnx-checker-fails.onnx`), 'tokenizer.json': json(`${llamaDir}/tokenizer.json`) }),
      OnnxFormatError,
      /does not pass the ONNX checker: node \d+ "\/model\/layers.0\/self_attn\/Softmax" \(Softmax\) reads "\/model\/layers.0\/self_attn\/undefined_scores"/,
    );
  });

  it('ONNX with operators we do not support', async () => {
    await failsThenDemoLoads(
      folder({ 'model.onnx': read(`${BAD_ROOT}/onnx-unsupported-op.onnx`), 'tokenizer.json': json(`${llamaDir}/tokenizer.json`) }),
      UnsupportedModelError,
      /does not import: com.microsoft.FastGelu/,
    );
  });

  it('ONNX external data outside the folder', async () => {
    const dir = fixtureDir('tiny-onnx/llama-gqa-past-external');
    const m = decodeModel(read(`${dir}/onnx/model.onnx`));
    for (const t of m.graph.initializer ?? []) {
      t.external_data = t.external_data?.map((e) => (e.key === 'location' ? { key: 'location', value: '../../../outside.bin' } : e));
    }
    await failsThenDemoLoads(
      folder({ 'onnx/model.onnx': encodeModel(m), 'tokenizer.json': json(`${dir}/tokenizer.json`) }),
      OnnxFormatError,
      /keeps its data at "..\/..\/..\/outside.bin", which leaves the model folder/,
    );
  });

  it('HTTP 404: a repo without the files a model needs, and an unknown revision', async () => {
    const e = await failsThenDemoLoads(
      { kind: 'hub', repo: 'tiny/llama-tied', revision: 'does-not-exist' },
      FetchError,
      /tiny\/llama-tied has no revision "does-not-exist" \(HTTP 404\)/,
    );
    expect((e as FetchError).status).toBe(404);
  });

  it('HTTP 401 on a gated model says it is gated', async () => {
    const e = await failsThenDemoLoads(
      { kind: 'hub', repo: 'gated/qwen2-f16' },
      GatedModelError,
      /gated\/qwen2-f16 is a gated model: downloading it needs an access token/,
    );
    expect((e as GatedModelError).code).toBe('GATED_MODEL');
    await loadAndCompare({ kind: 'hub', repo: 'gated/qwen2-f16', token: FAKE_HUB_TOKEN }, 'tiny/qwen2-f16', 'gated/qwen2-f16 (token)');
  });

  it('truncated body', async () => {
    await failsThenDemoLoads(
      { kind: 'hub', repo: 'broken/truncated' },
      FetchError,
      /download of model.safetensors \(broken\/truncated@main\) was cut off: 40644 of 81288 bytes arrived/,
    );
  });

  it('network drop mid-download', async () => {
    await failsThenDemoLoads(
      { kind: 'hub', repo: 'broken/drop' },
      FetchError,
      /connection dropped while downloading model.safetensors \(broken\/drop@main\)/,
    );
  });

  it('cancelling a download that hangs returns promptly, and the demo loads after', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const e = await api.loadModel({ kind: 'hub', repo: 'broken/stall' }, { signal: controller.signal }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(CancelledError);
    expect((e as Error).message).toMatch(/Downloading model.safetensors \(broken\/stall@main\) was cancelled/);
    await expectDemoLoads();
  });

  it('a model larger than the browser can hold is refused before its weights download', async () => {
    budget = { bytes: 200_000, source: 'navigator.deviceMemory = test' };
    const start = hub.requests.length;
    try {
      const e = await api.loadModel({ kind: 'hub', repo: 'tiny/llama-tied' }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e).toBeInstanceOf(ModelTooLargeError);
      expect((e as Error).message).toMatch(
        /tiny\/llama-tied is too large for this browser: loading it needs about 581.3 KB \(193.8 KB download \+ 2 × 193.8 KB of float32 weights\), but only about 195.3 KB is available \(navigator.deviceMemory = test\)/,
      );
      expect(e).toMatchObject({ neededBytes: 3 * 198_424, availableBytes: 200_000 });
      expect(hub.requests.slice(start).some((r) => r.path.includes('model.safetensors'))).toBe(false);
    } finally {
      budget = undefined;
    }
    await expectDemoLoads();
  });
});
