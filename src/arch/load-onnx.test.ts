/**
 * ONNX import of the exporter-layout fixtures (gpt2 with past + decomposed LayerNorm, gpt2 opset 17
 * with external data and Transpose(lm_head), llama GQA sdpa + inv_freq rotary + past + external data
 * in onnx/, qwen2 eager + cached rotary + q/k/v biases): the fixture itself runs in onnxruntime and
 * matches the PyTorch golden, and the ModelIR imported from it, rebuilt by the graph builder, does too.
 * Refusals: checker failures, unsupported operators, external data outside the folder, structures
 * that are not a decoder (each names what it could not find).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError, OnnxFormatError, UnsupportedModelError } from '../core/errors';
import { dirSource } from '../cli/dir-source';
import { decodeModel, encodeModel } from '../io/onnx';
import type { ModelProto } from '../io/onnx/types';
import { createNodeRunner } from '../runtime/ort-node';
import { asFloat32, float32Tensor, int64Tensor, type Feeds } from '../core/runner';
import { memSource } from '../test-util/tiny-gpt2';
import { BAD_ROOT, fixtureDir, fixtureModels, goldenCases } from '../test-util/model-fixtures';
import { irGoldenDiff } from '../test-util/golden-logits';
import { AttentionScaleError, OnnxStructureError } from '../io/onnx-import/errors';
import { logitsOnnx } from '../exporters/onnx';
import { randomLlamaIR } from '../test-util/random-llama';
import { llamaAdapter } from './llama';
import { findOnnxModel, loadOnnxIR } from './load-onnx';
import { loadModelIR } from './load';

const runner = createNodeRunner({ threads: 1 });
const onnxFixtures = fixtureModels('onnx');

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, fragment: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, String(e)).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(fragment);
}

/** Runs the fixture ONNX file itself (exporter inputs: mask, position ids, empty past) on the golden ids. */
async function runFixtureDirectly(repo: string, onnxPath: string, golden: string): Promise<number> {
  const session = await runner.open(new Uint8Array(readFileSync(`${fixtureDir(repo)}/${onnxPath}`)));
  // External data resolves relative to the process cwd for byte buffers, so only inline models run here.
  try {
    let worst = 0;
    for (const c of goldenCases(golden)) {
      const T = c.ids.length;
      const feeds: Feeds = { input_ids: int64Tensor(c.ids, [1, T]), attention_mask: int64Tensor(Array(T).fill(1), [1, T]) };
      if (session.inputNames.includes('position_ids'))
        feeds.position_ids = int64Tensor(
          c.ids.map((_, i) => i),
          [1, T],
        );
      const cfg = JSON.parse(readFileSync(`${fixtureDir(repo)}/config.json`, 'utf8')) as Record<string, number>;
      const kv = cfg.num_key_value_heads ?? cfg.n_head!;
      const dh = cfg.head_dim ?? (cfg.hidden_size ?? cfg.n_embd!) / (cfg.num_attention_heads ?? cfg.n_head!);
      for (const n of session.inputNames.filter((i) => i.startsWith('past_key_values')))
        feeds[n] = float32Tensor(new Float32Array(0), [1, kv, 0, dh]);
      const got = asFloat32((await session.run(feeds, ['logits'])).logits, 'logits');
      c.logits.flat().forEach((x, i) => (worst = Math.max(worst, Math.abs(got[i]! - x))));
    }
    return worst;
  } finally {
    await session.release();
  }
}

describe('ONNX fixtures (exporter layout) vs the PyTorch golden', () => {
  it.each(onnxFixtures.filter((m) => !m.external_data).map((m) => [m.repo, m] as const))(
    '%s runs as exported and matches',
    async (repo, m) => {
      expect(await runFixtureDirectly(repo, m.onnx!, m.golden)).toBeLessThan(1e-4);
    },
  );

  it.each(onnxFixtures.map((m) => [m.repo, m] as const))('%s imports into a ModelIR whose rebuilt graph matches', async (repo, m) => {
    const source = dirSource(fixtureDir(repo));
    expect(await findOnnxModel(source)).toBe(m.onnx);
    const { ir } = await loadOnnxIR(source, m.onnx!, { name: repo });
    expect(ir.spec.family).toBe(m.family);
    expect(ir.spec.modelType).toBe(m.model_type);
    expect(await irGoldenDiff(runner, ir, m.golden)).toBeLessThan(1e-3);
  });

  it('recovers the architecture from the graph alone (no config.json)', async () => {
    const dir = fixtureDir('tiny-onnx/llama-gqa-past-external');
    const files = {
      'onnx/model.onnx': new Uint8Array(readFileSync(`${dir}/onnx/model.onnx`)),
      'onnx/model.onnx_data': new Uint8Array(readFileSync(`${dir}/onnx/model.onnx_data`)),
    };
    const { ir, config } = await loadOnnxIR(memSource(files, 'mem/llama'), 'onnx/model.onnx', { name: 'llama' });
    expect(ir.layers).toEqual([
      { numHeads: 4, numKvHeads: 2, ffnSize: 64 },
      { numHeads: 4, numKvHeads: 2, ffnSize: 64 },
    ]);
    expect(ir.spec).toMatchObject({
      headDim: 8,
      ropeTheta: 10000,
      normEps: 1e-6,
      activation: 'silu',
      tiedEmbeddings: false,
      vocabSize: 328,
    });
    expect(config).toMatchObject({ model_type: 'llama', num_key_value_heads: 2, hidden_size: 32 });
    expect(await irGoldenDiff(runner, ir, 'tiny/llama-gqa-bf16')).toBeLessThan(1e-3);
    const qwen = (
      await loadOnnxIR(
        memSource({ 'model.onnx': new Uint8Array(readFileSync(`${fixtureDir('tiny-onnx/qwen2-eager')}/model.onnx`)) }),
        'model.onnx',
        { name: 'q' },
      )
    ).ir;
    expect(qwen.spec).toMatchObject({ ropeTheta: 1000000, maxPositions: 128, tiedEmbeddings: true });
    expect(qwen.weights.layers[0]!.q.bias?.shape).toEqual([32]);
  });

  it('loads through loadModelIR dispatch when a folder has only ONNX', async () => {
    const { ir } = await loadModelIR(dirSource(fixtureDir('tiny-onnx/gpt2-past')));
    expect(ir.spec).toMatchObject({ family: 'gpt2', tiedEmbeddings: true, maxPositions: 64 });
    expect(await irGoldenDiff(runner, ir, 'tiny/gpt2-sharded')).toBeLessThan(1e-3);
  });
});

function model(repo: string, path: string): ModelProto {
  return decodeModel(new Uint8Array(readFileSync(`${fixtureDir(repo)}/${path}`)));
}

const load = (files: Record<string, Uint8Array | object>, path = 'model.onnx') =>
  loadOnnxIR(memSource(files, 'mem/bad'), path, { name: 'bad' });

describe('ONNX refusals', () => {
  it('a graph that fails the ONNX checker (python onnx.checker rejects the same file)', async () => {
    await rejects(
      load({ 'model.onnx': new Uint8Array(readFileSync(`${BAD_ROOT}/onnx-checker-fails.onnx`)) }),
      OnnxFormatError,
      /does not pass the ONNX checker: node \d+ "\/model\/layers.0\/self_attn\/Softmax" \(Softmax\) reads "\/model\/layers.0\/self_attn\/undefined_scores", which no graph input, initializer or earlier node defines/,
    );
  });

  it('an operator we do not import (ORT-fused FastGelu), named with its node', async () => {
    await rejects(
      load({ 'model.onnx': new Uint8Array(readFileSync(`${BAD_ROOT}/onnx-unsupported-op.onnx`)) }),
      UnsupportedModelError,
      /operators Prune Studio does not import: com.microsoft.FastGelu \(1 node, e.g. "\/transformer\/h.0\/mlp\/act\/FastGelu"\)/,
    );
  });

  it('external data whose path leaves the folder, or is missing', async () => {
    const m = model('tiny-onnx/gpt2-ln17-external', 'model.onnx');
    const t = m.graph.initializer!.find((i) => i.data_location === 1)!;
    t.external_data = t.external_data!.map((e) => (e.key === 'location' ? { key: 'location', value: '../../secret/model.onnx_data' } : e));
    await rejects(
      load({ 'model.onnx': encodeModel(m) }),
      OnnxFormatError,
      /keeps its data at "..\/..\/secret\/model.onnx_data", which leaves the model folder/,
    );
    t.external_data = t.external_data!.map((e) => (e.key === 'location' ? { key: 'location', value: '/etc/passwd' } : e));
    await rejects(load({ 'model.onnx': encodeModel(m) }), OnnxFormatError, /"\/etc\/passwd", which leaves the model folder/);
    await rejects(
      load({ 'model.onnx': new Uint8Array(readFileSync(`${fixtureDir('tiny-onnx/gpt2-ln17-external')}/model.onnx`)) }),
      InputError,
      /keeps its weights in model.onnx_data, which is missing/,
    );
  });

  it('a structure that is not a supported decoder says what it could not find', async () => {
    const m = model('tiny-onnx/qwen2-eager', 'model.onnx');
    m.graph.node.filter((n) => n.name === '/model/layers.1/self_attn/Softmax').forEach((n) => (n.op_type = 'Sigmoid'));
    await rejects(
      load({ 'model.onnx': encodeModel(m) }),
      OnnxStructureError,
      /layer 1: could not find the Softmax over the attention scores/,
    );
    const noIds = model('tiny-onnx/qwen2-eager', 'model.onnx');
    noIds.graph.input[0]!.name = 'tokens';
    noIds.graph.node.forEach((n) => (n.input = n.input.map((i) => (i === 'input_ids' ? 'tokens' : i))));
    await rejects(
      load({ 'model.onnx': encodeModel(noIds) }),
      OnnxStructureError,
      /no "input_ids" input \(inputs: tokens, attention_mask, position_ids\)/,
    );
  });

  it('an attention scale other than 1/sqrt(head_dim), and scaled RoPE frequencies, are refused', async () => {
    const m = model('tiny-onnx/qwen2-eager', 'model.onnx');
    const div = m.graph.node.find((n) => n.name === '/model/layers.0/self_attn/Div')!;
    const constant = m.graph.node.find((n) => n.output[0] === div.input[1])!;
    constant.attribute![0]!.t = { ...constant.attribute![0]!.t!, raw_data: new Uint8Array(new Float32Array([4]).buffer) };
    await rejects(
      load({ 'model.onnx': encodeModel(m) }),
      UnsupportedModelError,
      /layer 0: attention scores are scaled by 0.250000, not 1\/sqrt\(head_dim\) = 0.353553/,
    );
    const dir = fixtureDir('tiny-onnx/llama-gqa-past-external');
    const llama = model('tiny-onnx/llama-gqa-past-external', 'onnx/model.onnx');
    const inv = llama.graph.node.find(
      (n) => n.op_type === 'Constant' && n.name?.startsWith('/model/rotary_emb/') && n.attribute?.[0]?.t?.dims?.[0] === 4,
    )!;
    const freqs = new Float32Array(inv.attribute![0]!.t!.raw_data!.slice().buffer);
    freqs[3] = freqs[3]! / 8;
    inv.attribute![0]!.t = { ...inv.attribute![0]!.t!, raw_data: new Uint8Array(freqs.buffer) };
    await rejects(
      load(
        { 'onnx/model.onnx': encodeModel(llama), 'onnx/model.onnx_data': new Uint8Array(readFileSync(`${dir}/onnx/model.onnx_data`)) },
        'onnx/model.onnx',
      ),
      UnsupportedModelError,
      /layer 0: the rotary frequencies are not plain RoPE \(frequency 3 is/,
    );
  });

  it('a graph with 1/sqrt(head_dim) folded into q: un-folded when config.json says so, refused when nothing or the graph says otherwise', async () => {
    const ir = randomLlamaIR({ layers: 2, hidden: 16, heads: 4, kvHeads: 2, ffn: 24, vocab: 40, seed: 5 });
    const onnx = logitsOnnx(ir);
    await rejects(
      load({ 'model.onnx': onnx }),
      AttentionScaleError,
      /scaled by 1.00000, not 1\/sqrt\(head_dim\) = 0.353553, and config.json does not say the scale was folded/,
    );
    const config = { ...llamaAdapter.writeConfig(ir), prune_studio: { attention_scale_folded: true } };
    const back = (await load({ 'model.onnx': onnx, 'config.json': config })).ir;
    back.weights.layers.forEach((l, i) => {
      const q = ir.weights.layers[i]!.q.weight.data;
      expect(Math.max(...l.q.weight.data.map((x, j) => Math.abs(x - q[j]!)))).toBeLessThan(1e-6);
    });
    expect(back.layers).toEqual(ir.layers);
    await rejects(
      load({ 'model.onnx': onnx, 'config.json': { ...config, prune_studio: { attention_scale_folded: 'yes' } } }),
      Error,
      /must be true or false/,
    );
    // An explicitly scaled graph (the qwen2 fixture divides by sqrt(head_dim)) marked as folded is ambiguous.
    const dir = fixtureDir('tiny-onnx/qwen2-eager');
    const qwenConfig = { ...JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')), prune_studio: { attention_scale_folded: true } };
    await rejects(
      load({ 'model.onnx': new Uint8Array(readFileSync(`${dir}/model.onnx`)), 'config.json': qwenConfig }),
      AttentionScaleError,
      /layer 0: config.json says prune_studio.attention_scale_folded .* but the graph also scales the attention scores by 0.353553; the scale would be applied twice/,
    );
  });

  it('a config.json that disagrees with the graph', async () => {
    const dir = fixtureDir('tiny-onnx/qwen2-eager');
    const config = { ...JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')), num_key_value_heads: 2 };
    await rejects(
      load({ 'model.onnx': new Uint8Array(readFileSync(`${dir}/model.onnx`)), 'config.json': config }),
      Error,
      /config.json says the number of key\/value heads is 2, but model.onnx has 1/,
    );
  });
});
