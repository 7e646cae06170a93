/**
 * Iterative prune-and-recover, pure parts: the round schedule, per-round selection (remaining
 * units only, kv groups, locked layers, at least one unit kept), masks -> plan, and the loop with
 * a fake engine (scores recomputed on the current masks, recovery hooks, progress records).
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../core/ir';
import { randomIR } from '../test-util/random-ir';
import { emptyScores } from '../saliency/units';
import type { MaskSet, UnitScores } from '../saliency/types';
import { createStats } from '../saliency/stats';
import { allocate } from './allocate';
import {
  cumulativeCount,
  defaultRounds,
  iterativePrune,
  masksToPlan,
  onesMaskSet,
  selectRound,
  trainingPlan,
  type IterativeEngine,
  type IterativeOptions,
} from './iterative';
import { planMasks } from './masks';
import type { DistillEngine } from './distill';

const base: IterativeOptions = { heads: 0.5, ffn: 0.5, rounds: 3, recovery: 'none', sgdSteps: 2, sgdLearningRate: 0.1 };

function scoresOf(ir: ModelIR, f: (kind: 'heads' | 'ffn', l: number, i: number) => number): UnitScores {
  const s = emptyScores(ir, 'taylor', { heads: true, ffn: true, layers: true });
  const H = s.numHeads;
  const F = s.ffnSize;
  for (let l = 0; l < s.numLayers; l++) {
    for (let h = 0; h < H; h++) s.heads![l * H + h] = f('heads', l, h);
    for (let j = 0; j < F; j++) s.ffn![l * F + j] = f('ffn', l, j);
  }
  return s;
}

describe('round schedule', () => {
  it('removes about the same share of what remains each round and hits the target exactly', () => {
    expect([1, 2, 3].map((r) => cumulativeCount(8, 0.5, r, 3))).toEqual([2, 3, 4]);
    expect([1, 2, 3].map((r) => cumulativeCount(1024, 0.7, r, 3))).toEqual([339, 565, 717]);
    const perRound = 1 - (1 - 0.7) ** (1 / 3);
    expect(339 / 1024).toBeCloseTo(perRound, 2);
    expect((565 - 339) / (1024 - 339)).toBeCloseTo(perRound, 2);
  });

  it('defaults to rounds of about 12.5% of what remains', () => {
    expect([0.5, 0.7, 0.1, 0].map((t) => defaultRounds(t))).toEqual([6, 10, 1, 1]);
    expect(1 - (1 - 0.7) ** (1 / defaultRounds(0.7))).toBeLessThan(0.125);
  });

  it('ends with the same counts as one-shot uniform allocation and keeps one unit', () => {
    const ir = randomIR({ heads: 4, ffn: 32 });
    const s = scoresOf(ir, (_k, l, i) => i + l);
    for (const ratio of [0.3, 0.5, 0.7]) {
      const plan = allocate(ir, s, s, null, { allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
      expect(cumulativeCount(4, ratio, 5, 5)).toBe(plan.layers[0]!.removedHeads.length);
      expect(cumulativeCount(32, ratio, 5, 5)).toBe(plan.layers[0]!.removedFfn.length);
    }
    expect(cumulativeCount(4, 0.99, 1, 1)).toBe(3);
  });
});

describe('selectRound', () => {
  it('picks the lowest-scored remaining units and never revives removed ones', () => {
    const ir = randomIR({ layers: 2, heads: 4, ffn: 8 });
    const m = onesMaskSet(ir);
    m.heads[3] = 0; // layer 0 head 3 already removed (it has the lowest score below)
    const s = scoresOf(ir, (kind, l, i) => (kind === 'heads' ? (l === 0 && i === 3 ? -10 : 10 - i) : i));
    const { masks, removed } = selectRound(ir, s, m, { ...base, rounds: 1 }, 1);
    expect(removed[0]!.removedHeads).toEqual([2]); // 2 of 4 in total; head 3 was gone already
    expect(removed[1]!.removedHeads).toEqual([2, 3]);
    expect(removed[0]!.removedFfn).toEqual([0, 1, 2, 3]);
    expect(Array.from(masks.heads.subarray(0, 4))).toEqual([1, 1, 0, 0]);
    expect(m.heads[2]).toBe(1); // input masks untouched
  });

  it('removes whole kv groups under grouped-query attention and skips locked layers', () => {
    const ir = randomIR({ layers: 2, heads: 4, kvHeads: 2, ffn: 8 });
    const s = scoresOf(ir, (kind, _l, i) => (kind === 'heads' ? [5, 5, 1, 2][i]! : i));
    const { removed } = selectRound(ir, s, onesMaskSet(ir), { ...base, rounds: 1, locked: [1] }, 1);
    expect(removed[0]!.removedHeads).toEqual([2, 3]);
    expect(removed[1]).toEqual({ removedHeads: [], removedFfn: [] });
  });
});

describe('masksToPlan', () => {
  it('round-trips through planMasks', () => {
    const ir = randomIR({ layers: 2, heads: 4, ffn: 8 });
    const m = onesMaskSet(ir);
    m.heads[5] = 0;
    m.ffn[3] = 0;
    m.ffn[12] = 0;
    const plan = masksToPlan(ir, m, 'x');
    expect(plan.layers.map((l) => [l.removedHeads, l.removedFfn])).toEqual([
      [[], [3]],
      [[1], [4]],
    ]);
    const back = planMasks(plan);
    expect(back.heads).toEqual(m.heads);
    expect(back.ffn).toEqual(m.ffn);
  });
});

describe('iterativePrune with a fake engine', () => {
  function fakeEngine(ir: ModelIR) {
    const seen: MaskSet[] = [];
    const engine: IterativeEngine = {
      now: () => 0,
      stats: async (model) => createStats(model, true),
      async scores(model, masks) {
        seen.push(masks);
        // scores depend on the current masks: a unit's score drops when its neighbour is gone
        return scoresOf(model, (kind, l, i) => {
          const width = kind === 'heads' ? 4 : 16;
          const m = kind === 'heads' ? masks.heads : masks.ffn;
          return ((i * 7) % width) + (m[l * width + ((i + 1) % width)] === 0 ? -100 : 0);
        });
      },
      async weightGradients(model) {
        const grads = new Map<string, Float64Array>();
        model.weights.layers.forEach((lw, l) => grads.set(`grad.o.${l}`, Float64Array.from(lw.o.weight.data)));
        let loss = 0;
        model.weights.layers.forEach((lw) => lw.o.weight.data.forEach((v) => (loss += v * v)));
        return { loss, grads };
      },
      perplexity: async (_m, masks) => 10 + masks.heads.filter((v) => v === 0).length,
      loss: async (model) => model.weights.layers.reduce((a, lw) => a + lw.o.weight.data.reduce((b, v) => b + v * v, 0), 0),
    };
    return { engine, seen, ir };
  }

  it('rescores on the current masks every round and reports each round', async () => {
    const { engine, seen, ir } = fakeEngine(randomIR({ layers: 2, heads: 4, ffn: 16 }));
    const rounds: number[] = [];
    const out = await iterativePrune(ir, { ...base, rounds: 3 }, engine, {
      onRound: (r) => rounds.push(r.headsRemoved),
      needs: { stats: false, gram: false },
    });
    expect(seen.length).toBe(3);
    expect(seen[1]!.heads.filter((v) => v === 0).length).toBe(2);
    expect(rounds).toEqual([2, 2, 4]);
    expect(out.rounds.map((r) => r.perplexity)).toEqual([12, 12, 14]);
    expect(out.plan.layers.every((l) => l.removedHeads.length === 2 && l.removedFfn.length === 8)).toBe(true);
  });

  it('gradient-descent recovery lowers the loss and never touches the input model', async () => {
    const { engine, ir } = fakeEngine(randomIR({ layers: 2, heads: 4, ffn: 16 }));
    const before = ir.weights.layers[0]!.o.weight.data.slice();
    const out = await iterativePrune(ir, { ...base, rounds: 2, recovery: 'sgd', sgdSteps: 3, sgdLearningRate: 0.1 }, engine, {
      needs: { stats: false, gram: false },
    });
    for (const r of out.rounds) expect(r.lossAfterRecovery).toBeLessThan(r.lossBeforeRecovery);
    expect(ir.weights.layers[0]!.o.weight.data).toEqual(before);
    expect(out.ir.weights.layers[0]!.o.weight.data[0]).toBeCloseTo(before[0]! * 0.9 ** 6, 5);
  });

  it('rejects a criterion that does not score the pruned units', async () => {
    const { engine, ir } = fakeEngine(randomIR());
    engine.scores = async (model) => emptyScores(model, 'ablation', { heads: true, layers: true });
    await expect(iterativePrune(ir, base, engine, { needs: { stats: false, gram: false } })).rejects.toThrow(/does not score FFN/);
  });

  /** Distillation on the o projections only: loss Σ w², gradient 2w, zero on masked heads' columns. */
  function fakeDistill(batchesSeen: number[]): DistillEngine {
    return {
      batches: 5,
      async step(model, masks, batch) {
        batchesSeen.push(batch);
        const grads = new Map<string, Float32Array>();
        let loss = 0;
        model.weights.layers.forEach((lw, l) => {
          const [rows, cols] = lw.o.weight.shape as [number, number];
          const H = model.layers[l]!.numHeads;
          const g = new Float32Array(rows * cols);
          for (let r = 0; r < rows; r++)
            for (let c = 0; c < cols; c++) {
              const alive = masks!.heads[l * H + Math.floor(c / (cols / H))] !== 0;
              const w = lw.o.weight.data[r * cols + c]!;
              if (alive) {
                g[r * cols + c] = 2 * w;
                loss += w * w;
              }
            }
          grads.set(`grad.o.${l}`, g);
        });
        return { loss, lm: loss, kl: 0, grads };
      },
    };
  }

  it('training recovery: one schedule over the run, batches cycle across rounds, masked units freeze, final phase recorded', async () => {
    const { engine, ir } = fakeEngine(randomIR({ layers: 2, heads: 4, ffn: 16 }));
    const seen: number[] = [];
    engine.distill = fakeDistill(seen);
    const opts = { ...base, rounds: 2, recovery: 'distill' as const, training: { steps: 3, learningRate: 1e-3 }, finalSteps: 4 };
    const out = await iterativePrune(ir, opts, engine, { needs: { stats: false, gram: false } });
    expect(seen).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(out.rounds.map((r) => r.round)).toEqual([1, 2, 3]);
    expect(out.rounds[2]!.final).toBe(true);
    expect(out.rounds[2]!.curve!.length).toBe(4);
    // the learning rate decays once over the run's 10 steps (no restart per round)
    const lrs = out.rounds.flatMap((r) => r.curve!.map((p) => p.lr));
    for (let i = 1; i < lrs.length; i++) expect(lrs[i]!).toBeLessThan(lrs[i - 1]!);
    expect(lrs[0]).toBeCloseTo(1e-3, 12);
    // head 0 goes in round 1, head 3 in round 2 (fake scores); a masked weight freezes where it was
    // (the shared Adam's moments do not keep moving it): under constant-sign gradients each Adam
    // step moves a live weight by about that step's lr
    expect(Array.from(out.masks.heads.subarray(0, 4))).toEqual([0, 1, 1, 0]);
    const [rows, cols] = out.ir.weights.layers[0]!.o.weight.shape as [number, number];
    const dh = cols / 4;
    const before = ir.weights.layers[0]!.o.weight.data;
    const after = out.ir.weights.layers[0]!.o.weight.data;
    const moved = (head: number) => {
      const r = Array.from({ length: rows }, (_, i) => i).find((i) => Math.abs(before[i * cols + head * dh]!) > 0.05)!;
      return Math.abs(after[r * cols + head * dh]! - before[r * cols + head * dh]!);
    };
    const sum = (a: number, b: number) => lrs.slice(a, b).reduce((x, y) => x + y, 0);
    expect(moved(0)).toBe(0); // masked before round 1's training
    expect(moved(3) / sum(0, 3)).toBeCloseTo(1, 2); // trained in round 1 only
    expect(moved(1) / sum(0, 10)).toBeCloseTo(1, 2);
  });

  it('trainingPlan: run schedule shares Adam and continues the cosine; round schedule restarts', () => {
    const opts = { ...base, recovery: 'distill' as const, training: { steps: 4, learningRate: 1 }, finalSteps: 4, rounds: 2 };
    const run = trainingPlan(opts);
    expect(run.total).toBe(12);
    const a = run.next(4);
    const b = run.next(4);
    const c = run.next(4);
    expect(a.adam).toBe(b.adam);
    expect([a.firstBatch, b.firstBatch, c.firstBatch]).toEqual([0, 4, 8]);
    expect(b.lrAt!(0)).toBeCloseTo((1 + Math.cos((Math.PI * 4) / 12)) / 2, 12);
    expect(c.lrAt!(3)).toBeCloseTo((1 + Math.cos((Math.PI * 11) / 12)) / 2, 12);
    const round = trainingPlan({ ...opts, trainingSchedule: 'round' });
    const r1 = round.next(4);
    const r2 = round.next(4);
    expect(r1.adam).toBeUndefined();
    expect(r1.lrAt).toBeUndefined();
    expect(r2.firstBatch).toBe(4);
  });
});
