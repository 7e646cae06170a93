/**
 * Golden test: physical slicing and bias / OBS compensation on the demo model against the
 * independent PyTorch reference (fixtures/golden/prune.json, tools/reference/prune_golden.py).
 * Also checks the export: smaller tensors, logits equal to the masked preview, reload in onnxruntime-node.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from '../api/studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { asFloat32, int64Tensor } from '../core/runner';
import { decodeModel } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import type { PruningPlan } from '../core/plan';
import { loadDemoCalibrated, readGolden } from '../test-util/golden';
import type { Compensation } from './compensate';

interface PruneGolden {
  calibration: { samples: number; seq: number };
  protocol: { max_tokens: number; context: number; stride: number; logits_input_ids: number[]; logits_positions: number[] };
  dense: { perplexity: number; parameters: number };
  cases: {
    plan: string;
    compensation: Compensation;
    perplexity: number;
    tokens_scored: number;
    parameters: number;
    head_counts: number[];
    ffn_counts: number[];
    logits: number[][];
  }[];
  plans: Record<string, PruningPlan>;
}

const golden = readGolden<PruneGolden>('prune.json');
const checkerRecord = () =>
  JSON.parse(readFileSync('fixtures/onnx-checker.json', 'utf8')) as { cases: { name: string; sha256: string; ok: boolean }[] };
const runner = createNodeRunner();
const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
const evalText = readFileSync('public/data/evaluation.txt', 'utf8');
const ppl = {
  text: evalText,
  textName: 'evaluation.txt',
  contextLength: golden.protocol.context,
  stride: golden.protocol.stride,
  maxTokens: golden.protocol.max_tokens,
};

beforeAll(async () => {
  await loadDemoCalibrated(api, golden.calibration, true);
}, 300_000);

describe('apply matches the PyTorch reference', () => {
  for (const c of golden.cases) {
    it(`${c.plan} with compensation ${c.compensation}`, async () => {
      const applied = await api.applyPlan({ plan: golden.plans[c.plan]!, compensation: c.compensation });
      expect(applied.parameters).toBe(c.parameters);
      expect(applied.layers.map((l) => l.numHeads)).toEqual(c.head_counts);
      expect(applied.layers.map((l) => l.ffnSize)).toEqual(c.ffn_counts);
      const r = await api.evaluatePerplexity({ ...ppl, target: 'pruned' });
      expect(r.protocol.tokensScored).toBe(c.tokens_scored);
      expect(Math.abs(r.perplexity / c.perplexity - 1)).toBeLessThan(0.01);

      const ids = golden.protocol.logits_input_ids;
      const session = api.state.loaded!.pruned!.session;
      const out = await session.run({ input_ids: int64Tensor(ids, [1, ids.length]), labels: int64Tensor(ids, [1, ids.length]) }, [
        'logits',
      ]);
      const logits = asFloat32(out.logits, 'logits');
      const V = 4096;
      golden.protocol.logits_positions.forEach((pos, k) => {
        let worst = 0;
        c.logits[k]!.forEach((e, v) => (worst = Math.max(worst, Math.abs(logits[pos * V + v]! - e))));
        expect(worst).toBeLessThan(1e-3);
      });
    }, 120_000);
  }
});

describe('export of a pruned model', () => {
  it('is physically smaller, equals the masked preview and reloads in onnxruntime-node', async () => {
    await api.applyPlan({ plan: golden.plans['golden-50']!, compensation: 'none' });
    const bundle = await api.exportModel();
    expect(bundle.files.map((f) => f.name)).toEqual([
      'onnx/model.onnx',
      'config.json',
      'generation_config.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'plan.json',
      'README.md',
    ]);
    expect(bundle.verification.maxAbsLogitDiff).toBeLessThan(1e-3);
    const onnx = bundle.files[0]!.bytes;
    // These exact bytes passed onnx.checker (full_check) + strict shape inference: fixtures/onnx-checker.json.
    const checked = checkerRecord().cases.find((c) => c.name.startsWith('demo-gpt2 pruned export, golden-50'));
    expect(createHash('sha256').update(onnx).digest('hex')).toBe(checked?.sha256);
    expect(checked?.ok).toBe(true);
    const dense = await api.exportOnnx();
    expect(onnx.length).toBeLessThan(dense.length * 0.7);
    const config = JSON.parse(new TextDecoder().decode(bundle.files[1]!.bytes));
    expect(config.prune_studio.layers.map((l: { num_heads: number }) => l.num_heads)).toEqual([4, 4, 4, 4]);
    const reloaded = await runner.open(onnx);
    const ids = golden.protocol.logits_input_ids;
    const out = await reloaded.run(modelFeeds(decodeModel(onnx), [ids]));
    expect(out.logits?.dims).toEqual([1, ids.length, 4096]);
    await reloaded.release();
  }, 120_000);
});
