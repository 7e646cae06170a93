/**
 * transformers.js compatibility for a Llama with grouped-query attention (issue 12, item 2; the GPT-2
 * demo is in transformers-js.test.ts): the tiny Llama fixture (4 heads, 2 kv heads, rotary, untied
 * head) pruned, exported as a bundle, loaded by @huggingface/transformers from local files only;
 * greedy `generate` must give the studio's own greedy tokens. Plans: 50% of heads and FFN in every
 * layer (1 kv head each), and layers with different kv-head counts (2 and 1).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { createNodeRunner } from '../runtime/ort-node';
import { fixtureDir } from '../test-util/model-fixtures';
import type { ExportBundle } from './index';
import { createStudioApi } from './studio';

const runner = createNodeRunner({ threads: 1 });
const calibration = readFileSync('public/data/calibration.txt', 'utf8');
const PROMPT = 'The history of the city';
const NEW_TOKENS = 12;
const root = mkdtempSync(join(tmpdir(), 'tfjs-llama-'));
const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root;
  env.useBrowserCache = false;
  env.useFSCache = false;
  await api.loadModel({ kind: 'dir', path: fixtureDir('tiny/llama-gqa-bf16') });
  await api.calibrate({ text: calibration, textName: 'calibration.txt', samples: 2, seq: 32, withHessians: false });
  await api.computeImportance('wanda');
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

function writeBundle(name: string, bundle: ExportBundle): string {
  for (const f of bundle.files) {
    const path = join(root, name, f.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.bytes);
  }
  return name;
}

describe.each([
  ['uniform', 'uniform', 0.5],
  ['per-layer (kv heads 2 and 1)', 'uniform', 0],
] as const)('tiny Llama (GQA), %s plan', (_label, allocation, ratio) => {
  it('transformers.js greedy generation gives the studio generation tokens', async () => {
    const plan = await api.allocatePlan({ criterion: 'wanda', allocation, heads: ratio, ffn: 0.5, layers: 0, name: _label });
    // Layers of different shapes: layer 1 loses its second kv group (query heads 2 and 3).
    if (ratio === 0) plan.layers[1]!.removedHeads = [2, 3];
    const applied = await api.applyPlan({ plan, compensation: 'none' });
    const kv = applied.layers.map((l) => l.numKvHeads);
    expect(kv).toEqual(ratio === 0 ? [2, 1] : [1, 1]);
    const name = writeBundle(`llama-${ratio}`, await api.exportModel({ format: 'onnx', dtype: 'fp32' }));
    const studio = await api.generate({ prompt: PROMPT, maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, seed: 0, target: 'pruned' });
    const tokenizer = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
    const model = await AutoModelForCausalLM.from_pretrained(name, { local_files_only: true, device: 'cpu' });
    try {
      const inputs = tokenizer(PROMPT);
      const prompt = Array.from(inputs.input_ids.data as BigInt64Array, Number);
      const out = (await model.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false, min_new_tokens: NEW_TOKENS })) as Tensor;
      const tokens = Array.from(out.data as BigInt64Array, Number).slice(prompt.length);
      expect(tokens).toHaveLength(NEW_TOKENS);
      expect(tokens, `prompt ${prompt.join(' ')}; kv heads ${kv.join(', ')}`).toEqual(studio.ids);
    } finally {
      await model.dispose();
    }
  }, 300_000);
});
