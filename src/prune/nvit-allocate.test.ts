/**
 * NViT global allocation: one ranking over kv groups, FFN neurons and hidden channels to a FLOP or
 * parameter target; the plan validates, applies through the api (hidden size narrowed), and the
 * applied model's own FLOP count (prune/cost.ts on the sliced IR) removes what the plan promised.
 */
import { describe, expect, it } from 'vitest';
import { createStudioApi } from '../api/studio';
import { dirSource } from '../cli/dir-source';
import { parameterCount } from '../core/ir';
import { validatePlan } from '../core/plan';
import { createNodeRunner } from '../runtime/ort-node';
import { emptyScores } from '../saliency/units';
import { fixtureDir } from '../test-util/model-fixtures';
import { forwardFlops } from './cost';
import { nvitGlobalPlan, structuralParameters } from './nvit-allocate';
import { sliceModel } from './slice';
import { loadModelIR } from '../arch/load';

const LLAMA = 'tiny/llama-gqa-bf16';

describe('nvit global allocation', () => {
  it('removes the lowest-ranked units of all three kinds until the target is met', async () => {
    const { ir } = await loadModelIR(dirSource(fixtureDir(LLAMA)));
    const s = emptyScores(ir, 'nvit', { heads: true, ffn: true });
    s.heads!.set(s.heads!.map((_, i) => 100 + (i % 3)));
    s.ffn!.set(s.ffn!.map((_, i) => (i * 7919) % 97));
    s.hidden = Float64Array.from({ length: ir.spec.hiddenSize }, (_, c) => (c < 4 ? -1 : 50 + c));
    const plan = nvitGlobalPlan(ir, s, { metric: 'flops', fraction: 0.4 });
    validatePlan(JSON.parse(JSON.stringify(plan)), ir);
    expect(plan.removedHidden?.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(plan.layers.some((l) => l.removedFfn.length > 0)).toBe(true);
    expect(plan.layers.every((l) => l.removedHeads.length === 0)).toBe(true); // kv groups (≥ 200) outrank every neuron and channel here
    const sliced = sliceModel(ir, plan);
    const achieved = 1 - forwardFlops(sliced.spec, sliced.layers, 128) / forwardFlops(ir.spec, ir.layers, 128);
    expect(achieved).toBeGreaterThanOrEqual(0.4);
    expect(achieved).toBeCloseTo(plan.derivation!.global!.achieved, 12);

    const p = nvitGlobalPlan(ir, s, { metric: 'parameters', fraction: 0.3 });
    const sp = sliceModel(ir, p);
    expect(
      1 - structuralParameters(sp, sp.layers, sp.spec.hiddenSize) / structuralParameters(ir, ir.layers, ir.spec.hiddenSize),
    ).toBeGreaterThanOrEqual(0.3);
    expect(parameterCount(sp)).toBeLessThan(parameterCount(ir) * 0.72);
  });

  it('end to end with NViT scores through the api', async () => {
    const api = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: fixtureDir(LLAMA) });
    await api.calibrate({
      text: 'the quick brown fox jumps over the lazy dog. '.repeat(20),
      textName: 't',
      samples: 2,
      seq: 16,
      withHessians: false,
    });
    const scores = await api.computeImportance('nvit');
    const plan = nvitGlobalPlan(api.state.loaded!.ir, scores, { metric: 'flops', fraction: 0.5 });
    const applied = await api.applyPlan({ plan, compensation: 'none' });
    expect(applied.cost.flops).toBeLessThan(applied.denseCost.flops);
    expect(api.state.loaded!.pruned!.ir.spec.hiddenSize).toBe(32 - (plan.removedHidden?.length ?? 0));
  }, 120_000);
});
