/**
 * transformers.js compatibility (issue 12, item 2): the pruned demo model exported as a bundle is
 * loaded by @huggingface/transformers (onnxruntime-node) from local files only, and its greedy
 * `generate` (with the KV cache: onnx/model.onnx is the with-past graph) gives exactly the tokens of
 * the studio's own generation (api.generate, greedy, on the applied model). Two plans: the same head
 * count in every layer, and different head counts per layer (transformers.js sizes each layer's empty
 * past from the graph's declared input shape). The quantized variants (onnx/model_fp16.onnx,
 * model_quantized.onnx, model_q4.onnx, picked by `transformers.js_config.dtype`) load and generate the
 * same tokens as a greedy loop with the KV cache over the same file in the studio's runner.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AutoModelForCausalLM, AutoTokenizer, env, type Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { asFloat32, int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { decodeModel } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import { tokenizerFromJson } from '../io/tokenizer';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import type { Allocation } from '../prune/allocate';
import type { ExportBundle, ExportDtype } from './index';
import { createStudioApi } from './studio';

const runner = createNodeRunner({ threads: 1 });
const calibration = readFileSync('public/data/calibration.txt', 'utf8');
const evaluation = readFileSync('public/data/evaluation.txt', 'utf8');
const PPL = { text: evaluation, textName: 'evaluation.txt', contextLength: 64, stride: 32, maxTokens: 256 } as const;
const PROMPT = 'The history of the city';
const NEW_TOKENS = 20;
const root = mkdtempSync(join(tmpdir(), 'tfjs-bundle-'));
const studioTokenizer = tokenizerFromJson(
  JSON.parse(readFileSync(join(DEMO_DIR, 'tokenizer.json'), 'utf8')),
  JSON.parse(readFileSync(join(DEMO_DIR, 'tokenizer_config.json'), 'utf8')),
  'demo-gpt2',
);
const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });

beforeAll(async () => {
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root;
  env.useBrowserCache = false;
  env.useFSCache = false;
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  await api.calibrate({ text: calibration, textName: 'calibration.txt', samples: 2, seq: 64, withHessians: true });
  await api.computeImportance('wanda');
}, 300_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Writes the bundle as a local model folder `<root>/<name>` (what a user copies next to their app). */
function writeBundle(name: string, bundle: ExportBundle): string {
  for (const f of bundle.files) {
    const path = join(root, name, f.name);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.bytes);
  }
  return name;
}

async function applyPlan(allocation: Allocation): Promise<number[]> {
  const plan = await api.allocatePlan({ criterion: 'wanda', allocation, heads: 0.5, ffn: 0.5, layers: 0, name: `${allocation} 50%` });
  const applied = await api.applyPlan({ plan, compensation: 'none' });
  return applied.layers.map((l) => l.numHeads);
}

/** transformers.js: greedy generate from the local folder; returns the new token ids. */
async function transformersJsTokens(name: string): Promise<{ prompt: number[]; tokens: number[]; inputNames: readonly string[] }> {
  const tokenizer = await AutoTokenizer.from_pretrained(name, { local_files_only: true });
  const model = await AutoModelForCausalLM.from_pretrained(name, { local_files_only: true, device: 'cpu' });
  try {
    const inputs = tokenizer(PROMPT);
    const prompt = Array.from(inputs.input_ids.data as BigInt64Array, Number);
    const out = (await model.generate({ ...inputs, max_new_tokens: NEW_TOKENS, do_sample: false })) as Tensor;
    const all = Array.from(out.data as BigInt64Array, Number);
    const session = (model as unknown as { sessions: Record<string, { inputNames: readonly string[] }> }).sessions.model!;
    return { prompt, tokens: all.slice(prompt.length), inputNames: session.inputNames };
  } finally {
    await model.dispose();
  }
}

/** Greedy generation over a with-past graph in the studio's runner: prefill, then one token per step with the presents. */
async function greedyWithPast(session: RunnerSession, bytes: Uint8Array, prompt: number[], n: number, eos: number): Promise<number[]> {
  let feeds: Feeds = modelFeeds(decodeModel(bytes), [prompt]);
  const tokens: number[] = [];
  let total = prompt.length;
  for (let step = 0; step < n; step++) {
    const out = await session.run(feeds);
    const logits = asFloat32(out.logits, 'logits');
    const V = out.logits!.dims[2]!;
    const last = logits.subarray(logits.length - V);
    let best = 0;
    for (let v = 1; v < V; v++) if (last[v]! > last[best]!) best = v;
    tokens.push(best);
    if (best === eos) break;
    feeds = {
      input_ids: int64Tensor([best], [1, 1]),
      attention_mask: int64Tensor(new Array<number>(total + 1).fill(1), [1, total + 1]),
      position_ids: int64Tensor([total], [1, 1]),
    };
    for (const [k, v] of Object.entries(out)) if (k.startsWith('present.')) feeds[k.replace('present.', 'past_key_values.')] = v;
    total++;
  }
  return tokens;
}

/** The model card's "Model file" section: the variant row and the written file's perplexity (relative to the session's). */
function cardModelFile(bundle: ExportBundle, dtype: string): { perplexity: number; relative: number } {
  const card = new TextDecoder().decode(bundle.files.find((f) => f.name === 'README.md')!.bytes);
  const model = bundle.files[0]!;
  expect(card).toContain(`| ${dtype} | \`${model.name}\` | ${model.bytes.length} (`);
  const m = /itself, measured after writing: \*\*([\d.]+)\*\*.*relative difference ([-+\de.]+)\)/.exec(card);
  expect(m, card).not.toBeNull();
  return { perplexity: Number(m![1]), relative: Number(m![2]) };
}

const OPTIMUM_INPUTS = ['input_ids', 'attention_mask', 'position_ids', 'past_key_values.0.key', 'past_key_values.0.value'];

describe.each([
  ['uniform', 'uniform' as Allocation],
  ['global (different head counts per layer)', 'global' as Allocation],
])('pruned demo model, %s 50%% plan', (_label, allocation) => {
  it('transformers.js greedy text-generation gives the studio generation tokens', async () => {
    const heads = await applyPlan(allocation);
    if (allocation === 'uniform') expect(new Set(heads).size).toBe(1);
    else expect(new Set(heads).size, `head counts ${heads.join(', ')}`).toBeGreaterThan(1);
    await api.evaluatePerplexity({ ...PPL, target: 'pruned' });
    const bundle = await api.exportModel({ format: 'onnx', dtype: 'fp32' });
    // The written with-past file scores the session's tokens alike (deliverable 6: perplexity in the README).
    expect(Math.abs(cardModelFile(bundle, 'fp32').relative)).toBeLessThan(1e-4);
    const name = writeBundle(`demo-${allocation}`, bundle);
    const studio = await api.generate({ prompt: PROMPT, maxNewTokens: NEW_TOKENS, temperature: 0, topK: 0, seed: 0, target: 'pruned' });
    const tjs = await transformersJsTokens(name);
    expect(tjs.prompt).toEqual(studioTokenizer.encode(PROMPT));
    expect(tjs.inputNames).toEqual(expect.arrayContaining(OPTIMUM_INPUTS));
    expect(tjs.tokens).toHaveLength(studio.newTokens);
    expect(studioTokenizer.decode(tjs.tokens)).toBe(studio.text);
    expect(tjs.tokens.length).toBe(NEW_TOKENS);
  }, 300_000);

  it.runIf(allocation === 'global')(
    'quantized variants: transformers.js picks the dtype file and matches a KV-cache greedy loop over it',
    async () => {
      await applyPlan(allocation);
      const fp32 = (await api.evaluatePerplexity({ ...PPL, target: 'pruned' })).perplexity;
      const cases: [ExportDtype, string][] = [
        ['fp16', 'onnx/model_fp16.onnx'],
        ['int8', 'onnx/model_quantized.onnx'],
        ['int4-gptq', 'onnx/model_q4.onnx'],
      ];
      for (const [dtype, file] of cases) {
        const bundle = await api.exportModel({ format: 'onnx', dtype });
        expect(bundle.files[0]!.name).toBe(file);
        const card = cardModelFile(bundle, dtype);
        console.log(`${dtype}: ${file} ${bundle.files[0]!.bytes.length} bytes, perplexity ${card.perplexity} (fp32 ${fp32.toFixed(3)})`);
        expect(Math.abs(card.perplexity / fp32 - 1), dtype).toBeLessThan(0.1);
        const name = writeBundle(`demo-${allocation}-${dtype}`, bundle);
        const tjs = await transformersJsTokens(name);
        const bytes = bundle.files[0]!.bytes;
        const session = await runner.open(bytes);
        try {
          const ours = await greedyWithPast(session, bytes, tjs.prompt, NEW_TOKENS, studioTokenizer.eosId ?? -1);
          expect(tjs.tokens, dtype).toEqual(ours);
        } finally {
          await session.release();
        }
      }
    },
    600_000,
  );
});
