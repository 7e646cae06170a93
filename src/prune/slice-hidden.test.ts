/**
 * Hidden-size (embedding-channel) slicing against the independent numpy reference
 * (tools/reference/hidden_slice_golden.py -> fixtures/golden/hidden-slice.json): every tiny
 * fixture family (GPT-2 tied / untied, Llama tied / GQA, Qwen2 with q/k/v biases), a quarter of
 * d_model removed through a validated plan; then the safetensors + config.json round trip.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportSafetensors, loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import { emptyPlan, validatePlan } from '../core/plan';
import { parameterCount } from '../core/ir';
import { bundleConfig } from '../exporters/hub-config';
import { createNodeRunner } from '../runtime/ort-node';
import { floats, idsFeed, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { fixtureDir } from '../test-util/model-fixtures';
import { planMasks } from './masks';
import { sliceModel } from './slice';
import { createStudioApi } from '../api/studio';
import { dirname } from 'node:path';

interface HiddenGolden {
  ids: number[];
  models: Record<string, { removed_hidden: number[]; hidden_size: number; logits: number[][] }>;
}

const golden = JSON.parse(readFileSync('fixtures/golden/hidden-slice.json', 'utf8')) as HiddenGolden;
const runner = createNodeRunner();
const tmp = mkdtempSync(join(tmpdir(), 'hidden-slice-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function slicedFixture(repo: string) {
  const { ir } = await loadModelIR(dirSource(fixtureDir(repo)));
  const g = golden.models[repo]!;
  const plan = validatePlan({ ...emptyPlan(ir), removedHidden: g.removed_hidden }, ir);
  return { ir, sliced: sliceModel(ir, plan), g };
}

const logitsOf = async (ir: Parameters<typeof runGraph>[1]) =>
  floats((await runGraph(runner, ir, { logits: true }, idsFeed([golden.ids]))).logits);

describe('hidden-size slicing matches the numpy reference', () => {
  it.each(Object.keys(golden.models))('%s', async (repo) => {
    const { ir, sliced, g } = await slicedFixture(repo);
    expect(sliced.spec.hiddenSize).toBe(g.hidden_size);
    expect(sliced.weights.lmHead === undefined).toBe(ir.weights.lmHead === undefined);
    const d = ir.spec.hiddenSize;
    const perMatrix = ir.spec.vocabSize * (ir.weights.lmHead ? 2 : 1);
    expect(parameterCount(sliced)).toBeLessThan(parameterCount(ir) - perMatrix * (d - g.hidden_size) + 1);
    expect(maxAbsDiff(await logitsOf(sliced), g.logits.flat())).toBeLessThan(1e-4);
  });
});

describe('a hidden-pruned model round-trips through safetensors + config.json', () => {
  it.each(['tiny/gpt2-sharded', 'tiny/llama-gqa-bf16'])('%s', async (repo) => {
    const { sliced } = await slicedFixture(repo);
    const base = JSON.parse(readFileSync(join(fixtureDir(repo), 'config.json'), 'utf8')) as Record<string, unknown>;
    const dir = join(tmp, repo.replace('/', '_'));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const config = bundleConfig({ base: { ...base, torch_dtype: 'float32' }, ir: sliced, pruneStudio: {} });
    expect((config.prune_studio as { hidden_size: number }).hidden_size).toBe(sliced.spec.hiddenSize);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'model.safetensors'), exportSafetensors(sliced));
    const { ir: reloaded } = await loadModelIR(dirSource(dir));
    expect(reloaded.spec.hiddenSize).toBe(sliced.spec.hiddenSize);
    expect(maxAbsDiff(await logitsOf(reloaded), await logitsOf(sliced))).toBeLessThan(1e-6);
  });
});

describe('plan validation', () => {
  it('refuses out-of-range and all-removed hidden channels', async () => {
    const { ir } = await loadModelIR(dirSource(fixtureDir('tiny/llama-tied')));
    const d = ir.spec.hiddenSize;
    expect(() => validatePlan({ ...emptyPlan(ir), removedHidden: [d] }, ir)).toThrow(/removedHidden/);
    expect(() => validatePlan({ ...emptyPlan(ir), removedHidden: Array.from({ length: d }, (_, i) => i) }, ir)).toThrow(
      /every hidden channel/,
    );
    expect(validatePlan({ ...emptyPlan(ir), removedHidden: [3, 1] }, ir).removedHidden).toEqual([1, 3]);
    expect(validatePlan(emptyPlan(ir), ir).removedHidden).toBeUndefined();
    expect(() => planMasks({ ...emptyPlan(ir), removedHidden: [2] })).toThrow(/hidden channels/);
  });
});

describe('the ONNX bundle of a hidden-pruned model re-opens in the studio', () => {
  it('tiny/llama-tied: same perplexity after export and re-import', async () => {
    const text = 'the quick brown fox jumps over the lazy dog. '.repeat(30);
    const ppl = { text, textName: 't', contextLength: 32, stride: 16, maxTokens: 256 };
    const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: fixtureDir('tiny/llama-tied') });
    const ir = api.state.loaded!.ir;
    await api.applyPlan({ plan: { ...emptyPlan(ir), removedHidden: [0, 5, 9, 17, 30] }, compensation: 'none' });
    const before = await api.evaluatePerplexity({ ...ppl, target: 'pruned' });
    const bundle = await api.exportModel();
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-4);
    const dir = join(tmp, 'bundle-llama');
    for (const f of bundle.files) {
      mkdirSync(dirname(join(dir, f.name)), { recursive: true });
      writeFileSync(join(dir, f.name), f.bytes);
    }
    const again = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    await again.loadModel({ kind: 'dir', path: dir });
    expect(again.state.loaded!.ir.spec.hiddenSize).toBe(27);
    const after = await again.evaluatePerplexity({ ...ppl, target: 'dense' });
    expect(Math.abs(after.perplexity / before.perplexity - 1)).toBeLessThan(1e-4);
  }, 120_000);
});
