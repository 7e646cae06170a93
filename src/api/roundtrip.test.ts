/**
 * Round trip (issue 12, item 1): every bundle the studio writes loads back into a fresh studio
 * (loadModel on the bundle's files, as a user picks the folder) and its perplexity equals the
 * exporting session's within 1e-4 relative: the demo model and the tiny fixtures, dense and pruned
 * (compensation none / bias / OBS, uniform and global allocation), SlimGPT and iterative results,
 * ONNX (onnx/model.onnx, 1/sqrt(head_dim) folded into q and un-folded on import) and safetensors.
 * Also: config.json's Hub-layout keys when the layers share one shape (and only then), the
 * transformers.js file layout, and the named refusals (a Llama with bias compensation as safetensors).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ShapeMismatchError } from '../core/errors';
import { dirSource } from '../cli/dir-source';
import { createNodeRunner } from '../runtime/ort-node';
import { fixtureDir } from '../test-util/model-fixtures';
import { DEMO_DIR } from '../test-util/golden';
import { createStudioApi } from './studio';
import type { Compensation, ExportBundle, PerplexityRequest, StudioApi } from './index';
import type { ExportFormat } from '../exporters/types';
import type { Allocation } from '../prune/allocate';

const runner = createNodeRunner({ threads: 1 });
const text = readFileSync('public/data/evaluation.txt', 'utf8');
const calibration = readFileSync('public/data/calibration.txt', 'utf8');
const REL = 1e-4;

const ppl = (contextLength: number, maxTokens: number): PerplexityRequest => ({
  text,
  textName: 'evaluation.txt',
  contextLength,
  stride: contextLength / 2,
  maxTokens,
});

function json(bundle: ExportBundle, name: string): Record<string, unknown> {
  const f = bundle.files.find((x) => x.name === name);
  expect(f, `${name} in the bundle`).toBeDefined();
  return JSON.parse(new TextDecoder().decode(f!.bytes)) as Record<string, unknown>;
}

/** A fresh studio loads the bundle from its files (a folder pick) and measures perplexity. */
async function reloadPerplexity(bundle: ExportBundle, request: PerplexityRequest): Promise<number> {
  const fresh = createStudioApi({ runner, demoUrl: '' });
  const files = bundle.files.map((f) => ({ path: `bundle/${f.name}`, file: new Blob([f.bytes as BlobPart]) }));
  await fresh.loadModel({ kind: 'files', files });
  return (await fresh.evaluatePerplexity(request)).perplexity;
}

/** Exports the applied model of `api` in `format` and checks the re-loaded perplexity. */
async function roundTrip(api: StudioApi, format: ExportFormat, request: PerplexityRequest): Promise<ExportBundle> {
  const expected = (await api.evaluatePerplexity({ ...request, target: 'pruned' })).perplexity;
  const bundle = await api.exportModel({ format, dtype: 'fp32' });
  const got = await reloadPerplexity(bundle, request);
  expect(Math.abs(got / expected - 1), `${format}: re-loaded ${got} vs exporting session ${expected}`).toBeLessThan(REL);
  return bundle;
}

interface Case {
  name: string;
  dir: string;
  perplexity: PerplexityRequest;
  seq: number;
  llama: boolean;
  /** Labels of PLANS to run (default all); the 17 MB demo model runs the two that cover the most. */
  plans?: string[];
}

const CASES: Case[] = [
  {
    name: 'demo-gpt2',
    dir: DEMO_DIR,
    perplexity: ppl(64, 256),
    seq: 64,
    llama: false,
    plans: ['dense', 'global 40%, obs'],
  },
  ...['gpt2-sharded', 'gpt2-untied-f16', 'llama-gqa-bf16', 'llama-tied', 'qwen2-f16'].map((n) => ({
    name: n,
    dir: fixtureDir(`tiny/${n}`),
    perplexity: ppl(32, 160),
    seq: 32,
    llama: !n.startsWith('gpt2'),
  })),
];

const PLANS: { label: string; allocation: Allocation; ratio: number; compensation: Compensation }[] = [
  { label: 'dense', allocation: 'uniform', ratio: 0, compensation: 'none' },
  { label: 'uniform 50%, none', allocation: 'uniform', ratio: 0.5, compensation: 'none' },
  { label: 'uniform 50%, bias', allocation: 'uniform', ratio: 0.5, compensation: 'bias' },
  { label: 'global 40%, obs', allocation: 'global', ratio: 0.4, compensation: 'obs' },
];

describe.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  it('every plan round-trips as ONNX and safetensors (perplexity within 1e-4 relative)', async () => {
    const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: c.dir });
    await api.calibrate({ text: calibration, textName: 'calibration.txt', samples: 2, seq: c.seq, withHessians: true });
    await api.computeImportance('wanda');
    for (const p of PLANS.filter((x) => !c.plans || c.plans.includes(x.label))) {
      const plan = await api.allocatePlan({
        criterion: 'wanda',
        allocation: p.allocation,
        heads: p.ratio,
        ffn: p.ratio,
        layers: 0,
        name: p.label,
      });
      const applied = await api.applyPlan({ plan, compensation: p.compensation });
      const onnx = await roundTrip(api, 'onnx', c.perplexity);
      expect(onnx.files.map((f) => f.name)).toEqual([
        'onnx/model.onnx',
        'config.json',
        'generation_config.json',
        'tokenizer.json',
        'tokenizer_config.json',
        'plan.json',
        'README.md',
      ]);
      const config = json(onnx, 'config.json');
      const ps = config.prune_studio as Record<string, unknown>;
      expect(ps.attention_scale_folded).toBe(true);
      expect(config['transformers.js_config']).toEqual({ dtype: 'fp32', use_external_data_format: false });
      expect((ps.layers as { num_heads: number }[]).map((l) => l.num_heads)).toEqual(applied.layers.map((l) => l.numHeads));
      const uniform = applied.layers.every((l) => JSON.stringify(l) === JSON.stringify(applied.layers[0]));
      const l0 = applied.layers[0]!;
      if (c.llama) {
        expect(ps.hub_layout).toBe(uniform && p.compensation !== 'bias');
        if (ps.hub_layout) {
          expect(config).toMatchObject({
            num_attention_heads: l0.numHeads,
            num_key_value_heads: l0.numKvHeads,
            intermediate_size: l0.ffnSize,
            num_hidden_layers: applied.layers.length,
          });
          expect(config.head_dim).toBeGreaterThan(0);
        }
      } else {
        // GPT-2 cannot describe pruned heads (head_dim = n_embd / n_head): only FFN/layer pruning keeps the Hub layout.
        expect(ps.hub_layout).toBe(uniform && p.ratio === 0);
        if (!ps.hub_layout) expect(String(ps.hub_layout_reason)).toMatch(/differ in shape|head_dim/);
        if (ps.hub_layout) expect(config).toMatchObject({ n_head: l0.numHeads, n_inner: l0.ffnSize });
      }
      const st = c.llama && p.compensation === 'bias' ? undefined : await roundTrip(api, 'safetensors', c.perplexity);
      if (st) {
        expect(st.files[0]!.name).toBe('model.safetensors');
        expect(json(st, 'config.json').prune_studio).not.toHaveProperty('attention_scale_folded');
      } else {
        await expect(api.exportModel({ format: 'safetensors', dtype: 'fp32' })).rejects.toBeInstanceOf(ShapeMismatchError);
      }
    }
  }, 600_000);
});

describe('tiny llama (GQA): SlimGPT and iterative results round-trip', () => {
  it('SlimGPT (OBS) and iterative prune-and-recover bundles re-load with the same perplexity', async () => {
    const c = CASES.find((x) => x.name === 'llama-gqa-bf16')!;
    const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: c.dir });
    await api.calibrate({ text: calibration, textName: 'calibration.txt', samples: 2, seq: c.seq, withHessians: true });
    const slim = await api.slimGptPrune({ heads: 0.25, ffn: 0.5, allocation: 'incremental', perplexity: c.perplexity });
    expect(slim.applied.layers.map((l) => l.numHeads)).toEqual([4, 2]);
    await roundTrip(api, 'onnx', c.perplexity);
    await roundTrip(api, 'safetensors', c.perplexity);
    await api.iterativePrune({ criterion: 'magnitude', heads: 0.5, ffn: 0.5, rounds: 2, recovery: 'obs', perplexity: c.perplexity });
    await roundTrip(api, 'onnx', c.perplexity);
    await roundTrip(api, 'safetensors', c.perplexity);
  }, 600_000);
});
