/**
 * A family is one adapter file + one registry line: a third family that exists in this test alone
 * (Meta's original Llama layout: tok_embeddings, layers.{i}.attention.wq, feed_forward.w1/w2/w3,
 * output; its own config keys and model_type) is registered, loaded end to end from a folder
 * (config.json -> IR -> graph -> logits) and gives the same logits as the same weights loaded as
 * llama, and the PyTorch golden of that fixture. Nothing outside this file knows the family.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { ShapeMismatchError, UnsupportedModelError } from '../core/errors';
import { tokenEmbeddingOf } from '../core/ir';
import type { ArchSpec, LayerShape, LayerWeights, Linear, ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';
import { bool, positiveInt, positiveNumber, uniform, type ConfigObject, type FamilyConfig } from '../io/hf-config';
import { writeSafetensors } from '../io/safetensors';
import { createNodeRunner } from '../runtime/ort-node';
import { irGoldenDiff } from '../test-util/golden-logits';
import { floats, idsFeed, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { fixtureDir } from '../test-util/model-fixtures';
import { memSource } from '../test-util/tiny-gpt2';
import type { FamilyAdapter, TensorGetter } from './adapter';
import { llamaAdapter } from './llama';
import { exportSafetensors, loadModelIR } from './load';
import { adapterFor, registerAdapter, supportedModelTypes } from './registry';
import { checkTensor, denseIR, readLmHead } from './tensors';

// ---- the whole third family: what would be src/arch/meta-llama.ts -------------------------------

const FAMILY = 'meta-llama';
const p = (i: number) => `layers.${i}.`;

function readConfig(c: ConfigObject): FamilyConfig {
  const dim = positiveInt(c, 'dim');
  const heads = positiveInt(c, 'n_heads');
  const spec: ArchSpec = {
    ...llamaAdapter.structure,
    family: FAMILY,
    modelType: FAMILY,
    numLayers: positiveInt(c, 'n_layers'),
    hiddenSize: dim,
    headDim: dim / heads,
    vocabSize: positiveInt(c, 'vocab_size'),
    maxPositions: positiveInt(c, 'max_seq_len'),
    normEps: positiveNumber(c, 'norm_eps', 1e-5),
    activation: 'silu',
    ropeTheta: positiveNumber(c, 'rope_theta', 10000),
    tiedEmbeddings: bool(c, 'tied', false),
  };
  const shape: LayerShape = { numHeads: heads, numKvHeads: positiveInt(c, 'n_kv_heads'), ffnSize: positiveInt(c, 'hidden_dim') };
  return { spec, layers: uniform(spec.numLayers, shape) };
}

function writeConfig(ir: ModelIR): Record<string, unknown> {
  const { spec: s, layers } = ir;
  return {
    model_type: FAMILY,
    dim: s.hiddenSize,
    n_layers: layers.length,
    n_heads: layers[0]!.numHeads,
    n_kv_heads: layers[0]!.numKvHeads,
    hidden_dim: layers[0]!.ffnSize,
    vocab_size: s.vocabSize,
    max_seq_len: s.maxPositions,
    norm_eps: s.normEps,
    rope_theta: s.ropeTheta,
    tied: s.tiedEmbeddings,
  };
}

const LINEARS = [
  ['attention.wq', 'q'],
  ['attention.wk', 'k'],
  ['attention.wv', 'v'],
  ['attention.wo', 'o'],
  ['feed_forward.w1', 'gate'],
  ['feed_forward.w3', 'up'],
  ['feed_forward.w2', 'down'],
] as const;

function fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR {
  const req = (n: string, shape: readonly number[]): Tensor => checkTensor(get(n), n, shape, files);
  const { hiddenSize: d, headDim: dh } = spec;
  const layer = (s: LayerShape, i: number): LayerWeights => {
    const [q, kv, f] = [s.numHeads * dh, s.numKvHeads * dh, s.ffnSize];
    const shapes = { q: [q, d], k: [kv, d], v: [kv, d], o: [d, q], gate: [f, d], up: [f, d], down: [d, f] };
    const lin = Object.fromEntries(LINEARS.map(([n, key]) => [key, { weight: req(`${p(i)}${n}.weight`, shapes[key]) }]));
    return {
      attnNorm: { weight: req(`${p(i)}attention_norm.weight`, [d]) },
      mlpNorm: { weight: req(`${p(i)}ffn_norm.weight`, [d]) },
      ...(lin as Record<(typeof LINEARS)[number][1], Linear>),
    };
  };
  const tokenEmbedding = req('tok_embeddings.weight', [spec.vocabSize, d]);
  const weights = { tokenEmbedding, layers: layers.map(layer), finalNorm: { weight: req('norm.weight', [d]) } };
  return denseIR(name, spec, layers, weights, readLmHead(get, 'output.weight', spec, tokenEmbedding, files));
}

function toTensors(ir: ModelIR): Record<string, Tensor> {
  const w = ir.weights;
  const out: Record<string, Tensor> = { 'tok_embeddings.weight': tokenEmbeddingOf(ir), 'norm.weight': w.finalNorm.weight };
  w.layers.forEach((l, i) => {
    out[`${p(i)}attention_norm.weight`] = l.attnNorm.weight;
    out[`${p(i)}ffn_norm.weight`] = l.mlpNorm.weight;
    for (const [n, key] of LINEARS) {
      const lin = l[key];
      if (!lin || lin.bias) throw new ShapeMismatchError(`layer ${i} ${key}: this layout has no biases and needs a gate.`);
      out[`${p(i)}${n}.weight`] = lin.weight;
    }
  });
  if (w.lmHead) out['output.weight'] = w.lmHead;
  return out;
}

const metaLlamaAdapter: FamilyAdapter = {
  family: FAMILY,
  modelTypes: [FAMILY],
  structure: llamaAdapter.structure,
  groupedQuery: true,
  layerCountKey: 'n_layers',
  readConfig,
  writeConfig,
  fromTensors,
  toTensors,
};

// ---- the test ------------------------------------------------------------------------------------

const runner = createNodeRunner({ threads: 1 });
const FIXTURE = 'tiny/llama-gqa-bf16';
const IDS = [
  [1, 7, 30, 2, 19],
  [38, 4, 4, 12, 0],
];

/** The same weights in the third family's folder layout (config.json + model.safetensors). */
function metaFolder(llama: ModelIR) {
  const ir: ModelIR = { ...llama, spec: { ...llama.spec, family: FAMILY, modelType: FAMILY } };
  return memSource({ 'config.json': writeConfig(ir), 'model.safetensors': writeSafetensors(toTensors(ir)) }, 'mem/meta-llama');
}

let unregister: (() => void) | undefined;
afterEach(() => {
  unregister?.();
  unregister = undefined;
});

describe('a family registered by a test alone', () => {
  it('is refused before it is registered and after it is removed', async () => {
    const { ir: llama } = await loadModelIR(dirSource(fixtureDir(FIXTURE)));
    await expect(loadModelIR(metaFolder(llama))).rejects.toThrow(UnsupportedModelError);
    unregister = registerAdapter(metaLlamaAdapter);
    expect(supportedModelTypes()).toEqual(['gpt2', 'llama', 'qwen2', 'mistral', 'vit', FAMILY]);
    expect(() => registerAdapter({ ...metaLlamaAdapter, family: 'other' })).toThrow(/clashes/);
    unregister();
    unregister = undefined;
    expect(supportedModelTypes()).toEqual(['gpt2', 'llama', 'qwen2', 'mistral', 'vit']);
    await expect(loadModelIR(metaFolder(llama))).rejects.toThrow(/model_type "meta-llama" is not supported/);
  });

  it('loads end to end and gives the logits of the same weights loaded as llama', async () => {
    const { ir: llama } = await loadModelIR(dirSource(fixtureDir(FIXTURE)));
    unregister = registerAdapter(metaLlamaAdapter);
    const { ir: meta, config } = await loadModelIR(metaFolder(llama));
    expect(meta.spec).toEqual({ ...llama.spec, family: FAMILY, modelType: FAMILY });
    expect(meta.layers).toEqual(llama.layers);
    expect(meta.weights).toEqual(llama.weights);
    expect(config).toMatchObject({ model_type: FAMILY, n_layers: llama.layers.length });
    expect(adapterFor(meta.spec)).toBe(metaLlamaAdapter);
    // An ONNX graph of the same block structure still imports as llama: the first registered family wins.
    expect((await loadModelIR(dirSource(fixtureDir('tiny-onnx/llama-gqa-past-external')))).ir.spec.family).toBe('llama');

    const a = floats((await runGraph(runner, llama, { logits: true }, idsFeed(IDS))).logits);
    const b = floats((await runGraph(runner, meta, { logits: true }, idsFeed(IDS))).logits);
    expect(maxAbsDiff(a, b)).toBe(0);
    expect(await irGoldenDiff(runner, meta, FIXTURE)).toBeLessThan(1e-3);

    // Export writes the family's own names, which load back to the same IR.
    const bytes = exportSafetensors(meta);
    const again = await loadModelIR(memSource({ 'config.json': writeConfig(meta), 'model.safetensors': bytes }, 'mem/again'));
    expect(again.ir.weights).toEqual(meta.weights);
  });
});
