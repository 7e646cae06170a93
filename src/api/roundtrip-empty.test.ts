/**
 * Round trip of layers pruned to nothing (issue 12, item 1): a layer with 0 heads (no attention:
 * only its o bias, if any, is added to the stream) and a layer with 0 FFN neurons are written by the
 * ONNX exporter and read back by the importer, which learns from config.json's `prune_studio.layers`
 * that those branches are absent. Shapes and weights come back, the import check passes, and the
 * perplexity of the re-imported model equals the exported one's within 1e-4 relative.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import type { PruningPlan } from '../core/plan';
import { decoderOnnx, ONNX_MODEL_PATH } from '../exporters/onnx';
import { buildOnnx } from '../graph/build';
import { sliceModel } from '../prune/slice';
import { logitsModelPerplexity } from '../quantize/evaluate';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import { fixtureDir } from '../test-util/model-fixtures';
import { memSource } from '../test-util/tiny-gpt2';
import { createStudioApi } from './studio';
import { verifyOnnxImport } from './verify-import';

const runner = createNodeRunner({ threads: 1 });
const all = (n: number) => Array.from({ length: n }, (_, i) => i);

describe.each([
  ['demo-gpt2 (biases)', DEMO_DIR],
  ['llama-gqa-bf16', fixtureDir('tiny/llama-gqa-bf16')],
])('%s: a layer with 0 heads and a layer with 0 FFN neurons', (_name, dir) => {
  it('export as ONNX and re-import with the same perplexity', async () => {
    const { ir } = await loadModelIR(dirSource(dir));
    const plan = {
      layers: ir.layers.map((l, i) => ({
        index: i,
        removed: false,
        removedHeads: i === 0 ? all(l.numHeads) : [],
        removedFfn: i === 1 ? all(l.ffnSize) : [],
      })),
    } as unknown as PruningPlan;
    const pruned = sliceModel(ir, plan);
    expect(pruned.layers[0]).toMatchObject({ numHeads: 0, numKvHeads: 0 });
    expect(pruned.layers[1]!.ffnSize).toBe(0);
    const source = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    const config = {
      ...source,
      prune_studio: {
        attention_scale_folded: true,
        layers: pruned.layers.map((l, i) => ({
          original_index: i,
          num_heads: l.numHeads,
          num_kv_heads: l.numKvHeads,
          ffn_size: l.ffnSize,
        })),
      },
    };
    const loaded = await loadModelIR(memSource({ [ONNX_MODEL_PATH]: decoderOnnx(pruned), 'config.json': config }));
    expect(loaded.ir.layers).toEqual(pruned.layers);
    const w0 = loaded.ir.weights.layers[0]!;
    expect(w0.q.weight.shape).toEqual([0, ir.spec.hiddenSize]);
    expect(w0.o.bias?.data).toEqual(pruned.weights.layers[0]!.o.bias?.data);
    expect(loaded.ir.weights.layers[1]!.down.bias?.data).toEqual(pruned.weights.layers[1]!.down.bias?.data);
    await verifyOnnxImport(runner, loaded.ir, loaded.onnxSource!);
    let s = 11;
    const ids = Array.from({ length: 96 }, () => (s = (s * 48271) % 2147483647) % ir.spec.vocabSize);
    const ppl = async (m: typeof ir) =>
      (await logitsModelPerplexity(runner, buildOnnx(m, { logits: true }), ids, ir.spec.vocabSize, 32, 16)).perplexity;
    const [before, after] = [await ppl(pruned), await ppl(loaded.ir)];
    expect(Math.abs(after / before - 1), `${after} vs ${before}`).toBeLessThan(1e-4);
    // The studio opens such a bundle (import check, sessions with 0-sized weights) and measures it.
    const files = {
      [ONNX_MODEL_PATH]: decoderOnnx(pruned),
      'config.json': new TextEncoder().encode(JSON.stringify(config)),
      'tokenizer.json': readFileSync(join(dir, 'tokenizer.json')),
    };
    const studio = createStudioApi({ runner, demoUrl: '' });
    await studio.loadModel({
      kind: 'files',
      files: Object.entries(files).map(([path, b]) => ({ path: `b/${path}`, file: new Blob([b as BlobPart]) })),
    });
    const text = readFileSync('public/data/evaluation.txt', 'utf8');
    const r = await studio.evaluatePerplexity({ text, textName: 'evaluation.txt', contextLength: 32, stride: 16, maxTokens: 96 });
    expect(Number.isFinite(r.perplexity)).toBe(true);
  }, 300_000);
});
