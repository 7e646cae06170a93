/**
 * An applied model that does not keep its compensated full-size copy (StudioDeps.compensatedCopy
 * 'rebuild', the default for large models) is compensated and sliced layer by layer
 * (prune/compensate.ts compensatedSlice: bitwise the slice of the whole compensated copy) and
 * rebuilds the full-size model from the sliced one (prune/unslice.ts unsliceModel): for OBS and bias compensation the rebuilt model has the kept copy's weights at
 * every kept row / column and its biases, re-slicing it gives the applied model exactly, and the
 * export verified against the rebuilt reference passes as with the kept one. Projections the
 * compensation left unchanged are shared with the dense model, not copied.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Linear, ModelIR } from '../core/ir';
import { dirSource } from '../cli/dir-source';
import { createNodeRunner } from '../runtime/ort-node';
import { loadDemoCalibrated } from '../test-util/golden';
import { sliceModel } from '../prune/slice';
import { unsliceModel } from '../prune/unslice';
import type { PruningPlan } from '../core/plan';
import { compensatedModel } from './install';
import { createStudioApi } from './studio';

const runner = createNodeRunner();
const kept = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
const rebuilt = createStudioApi({ runner, demoUrl: '', openDir: dirSource, compensatedCopy: 'rebuild' });
const KINDS = ['q', 'k', 'v', 'o', 'up', 'down'] as const;
let plan: PruningPlan;

beforeAll(async () => {
  for (const api of [kept, rebuilt]) {
    await loadDemoCalibrated(api, { samples: 4, seq: 64 }, true);
    await api.computeImportance('magnitude');
  }
  plan = await kept.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
}, 300_000);

const linears = (ir: ModelIR): [string, Linear][] =>
  ir.weights.layers.flatMap((lw, l) => KINDS.map((k) => [`${k}.${l}`, lw[k]] as [string, Linear]));

describe('compensated full-size model rebuilt from the slice', () => {
  it.each(['obs', 'bias'] as const)(
    '%s: equals the kept copy where it counts, re-slices exactly, and verifies the export',
    async (compensation) => {
      await kept.applyPlan({ plan, compensation });
      await rebuilt.applyPlan({ plan, compensation });
      const k = kept.state.loaded!;
      const r = rebuilt.state.loaded!;
      expect(k.pruned!.compensatedIr).toBeDefined();
      expect(r.pruned!.compensatedIr).toBeUndefined();
      const copy = k.pruned!.compensatedIr!;
      const full = compensatedModel(r, r.pruned!);
      // the compensation changed the o / down weights (the kept copy differs from the dense model)
      expect(copy.weights.layers[0]!.down).not.toBe(k.ir.weights.layers[0]!.down);

      // re-slicing the rebuilt model gives the applied model's weights and biases exactly
      const resliced = sliceModel(full, plan);
      const applied = linears(r.pruned!.ir);
      // compensated and sliced layer by layer (no full-size copy) = sliced from the whole compensated copy
      linears(k.pruned!.ir).forEach(([name, lin], i) => expect(lin.weight.data, name).toEqual(applied[i]![1].weight.data));
      linears(resliced).forEach(([name, lin], i) => {
        expect(Array.from(lin.weight.data), name).toEqual(Array.from(applied[i]![1].weight.data));
        expect(lin.bias && Array.from(lin.bias.data), name).toEqual(applied[i]![1].bias && Array.from(applied[i]![1].bias.data));
      });
      // ... and the kept copy's o / down biases (bias compensation moves the removed units' mean into them)
      copy.weights.layers.forEach((lw, l) => {
        for (const kind of ['o', 'down'] as const)
          expect(Array.from(full.weights.layers[l]![kind].bias?.data ?? []), `${kind}.${l}`).toEqual(Array.from(lw[kind].bias?.data ?? []));
      });
      expect(unsliceModel(k.ir, plan, k.pruned!.ir).weights.layers[1]!.o.weight.data).toEqual(full.weights.layers[1]!.o.weight.data);
      // projections the compensation left unchanged are the dense model's own arrays (no copy); changed ones are copies
      r.ir.weights.layers.forEach((lw, l) => {
        for (const kind of KINDS) {
          const changed = !copy.weights.layers[l]![kind].weight.data.every((v, i) => Object.is(v, lw[kind].weight.data[i]));
          const shared = full.weights.layers[l]![kind].weight.data === lw[kind].weight.data;
          expect(shared, `${kind}.${l} shared`).toBe(!changed);
        }
      });
      expect(full.weights.layers[0]!.q.weight.data).toBe(r.ir.weights.layers[0]!.q.weight.data);

      const a = await kept.exportModel();
      const b = await rebuilt.exportModel();
      expect(b.verification.maxAbsLogitDiff).toBeLessThan(1e-4);
      expect(b.verification.maxAbsLogitDiff).toBeCloseTo(a.verification.maxAbsLogitDiff, 6);
    },
    300_000,
  );

  it('refuses a plan that removes hidden channels', () => {
    const m = kept.state.loaded!;
    expect(() => unsliceModel(m.ir, { ...plan, removedHidden: [0] }, m.ir)).toThrow(/hidden channels/);
  });
});
