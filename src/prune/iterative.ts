/**
 * Iterative prune-and-recover: reach a target fraction of heads and FFN neurons in R rounds on
 * the full-size model with masks. Round r removes, in every layer, the lowest-scored remaining
 * units until a fraction f_r = 1 − (1 − target)^(r/R) is gone (so each round removes about the
 * same share of what remains; the last round hits the target exactly, with the same rounding as
 * one-shot uniform allocation). Each round: statistics and importance on the current masked,
 * recovered model → select → recover (a method of recovery/registry.ts) → perplexity.
 * Training recoveries ('distill', 'obs+distill', ...) share one training schedule over the run:
 * the minibatches keep cycling through the training set across rounds, and with schedule 'run'
 * (default) one Adam and one cosine learning-rate decay span every round's steps plus `finalSteps`
 * steps on the final structure after the last round; 'round' restarts Adam and the cosine each round.
 * The engine (sessions, perplexity) is injected, so this module stays pure.
 */
import { InputError, throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { emptyPlan, type PlanLayer, type PruningPlan } from '../core/plan';
import type { ProgressCallback } from '../core/job';
import type { CalibrationStats } from '../core/stats';
import type { MaskSet, UnitScores } from '../saliency/types';
import { removalCount } from './allocate';
import { floorCount } from './allocation/select';
import { withOwnProjections } from './recover';
import { getRecovery, type Recovery } from './recovery/registry';
import type { RecoveryEngine } from './recovery/types';
import { distill, learningRateAt, validateDistill, type CurvePoint, type DistillHooks, type DistillOptions } from './distill';
import { createAdam } from './adam';

export interface IterativeOptions {
  heads: number;
  ffn: number;
  rounds: number;
  recovery: Recovery;
  /** Gradient-descent steps per round and learning rate ('sgd', 'obs+sgd'). */
  sgdSteps: number;
  sgdLearningRate: number;
  /** Distillation training per round ('distill'): steps per round, peak learning rate. */
  training?: DistillOptions;
  /** Training steps on the final structure after the last round (training recoveries; default 0). */
  finalSteps?: number;
  /** 'run' (default): one Adam and one cosine decay over all rounds' steps and the final steps; 'round': fresh each round. */
  trainingSchedule?: 'run' | 'round';
  locked?: readonly number[];
  /** Floor: every layer keeps at least this fraction of its FFN neurons (default 0.05). */
  minFfnShare?: number;
}

export interface RoundRecord {
  round: number;
  rounds: number;
  headsRemoved: number;
  headsTotal: number;
  ffnRemoved: number;
  ffnTotal: number;
  /** Mean calibration loss before and after the gradient steps (NaN without them). */
  lossBeforeRecovery: number;
  lossAfterRecovery: number;
  perplexity: number;
  ms: number;
  /** Training loss per step of this round's recovery ('distill'). */
  curve?: CurvePoint[];
  /** The record of the final training phase (round = rounds + 1, no units removed in it). */
  final?: boolean;
}

/** What the loop needs from an inference engine, always evaluated at (ir weights, masks). */
export interface IterativeEngine extends RecoveryEngine {
  stats(ir: ModelIR, masks: MaskSet, withGram: boolean): Promise<CalibrationStats>;
  scores(ir: ModelIR, masks: MaskSet, stats: CalibrationStats | undefined): Promise<UnitScores>;
  perplexity(ir: ModelIR, masks: MaskSet): Promise<number>;
  now(): number;
}

export interface IterativeHooks {
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  onRound?: (r: RoundRecord) => void;
  /** The criterion needs statistics / X^T X (read from its `needs`). */
  needs: { stats: boolean; gram: boolean };
}

/** Units removed from a layer of n after round r of R (at least `keep` units stay, default one). */
export function cumulativeCount(n: number, target: number, round: number, rounds: number, keep = 1): number {
  return removalCount(round >= rounds ? target : 1 - (1 - target) ** (round / rounds), n, keep);
}

/** Rounds needed so that each removes about `perRound` of what remains (default 12.5%: the 10-15% rule of thumb). */
export function defaultRounds(target: number, perRound = 0.125): number {
  if (!(target > 0)) return 1;
  return Math.max(1, Math.ceil(Math.log(1 - target) / Math.log(1 - perRound) - 1e-9));
}

export function onesMaskSet(ir: ModelIR): MaskSet {
  const L = ir.layers.length;
  return {
    heads: new Float32Array(L * (ir.layers[0]?.numHeads ?? 0)).fill(1),
    ffn: new Float32Array(L * (ir.layers[0]?.ffnSize ?? 0)).fill(1),
    layers: new Float32Array(L).fill(1),
  };
}

function lowestRemaining(scores: (i: number) => number, alive: number[], count: number): number[] {
  return [...alive].sort((a, b) => scores(a) - scores(b) || a - b).slice(0, Math.max(0, count));
}

/** Picks this round's units: per layer, the lowest-scored remaining kv groups / neurons. Mutates nothing. */
export function selectRound(
  ir: ModelIR,
  scores: UnitScores,
  masks: MaskSet,
  opts: IterativeOptions,
  round: number,
): { masks: MaskSet; removed: Pick<PlanLayer, 'removedHeads' | 'removedFfn'>[] } {
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const next: MaskSet = { heads: masks.heads.slice(), ffn: masks.ffn.slice(), layers: masks.layers.slice() };
  const locked = new Set(opts.locked ?? []);
  const removed = ir.layers.map((shape, l) => {
    const out = { removedHeads: [] as number[], removedFfn: [] as number[] };
    if (locked.has(l)) return out;
    if (opts.heads > 0 && scores.heads) {
      const g = shape.numHeads / shape.numKvHeads;
      const groups = Array.from({ length: shape.numKvHeads }, (_, k) => Array.from({ length: g }, (_, j) => k * g + j));
      const alive = groups.flatMap((members, k) => (members.every((h) => masks.heads[l * H + h] === 0) ? [] : [k]));
      const want = cumulativeCount(shape.numKvHeads, opts.heads, round, opts.rounds) - (shape.numKvHeads - alive.length);
      const score = (k: number) => groups[k]!.reduce((a, h) => a + scores.heads![l * H + h]!, 0);
      out.removedHeads = lowestRemaining(score, alive, want)
        .flatMap((k) => groups[k]!)
        .sort((a, b) => a - b);
    }
    if (opts.ffn > 0 && scores.ffn) {
      const alive = Array.from({ length: F }, (_, j) => j).filter((j) => masks.ffn[l * F + j] !== 0);
      const want = cumulativeCount(F, opts.ffn, round, opts.rounds, floorCount('ffn', F, opts.minFfnShare)) - (F - alive.length);
      out.removedFfn = lowestRemaining((j) => scores.ffn![l * F + j]!, alive, want).sort((a, b) => a - b);
    }
    for (const h of out.removedHeads) next.heads[l * H + h] = 0;
    for (const j of out.removedFfn) next.ffn[l * F + j] = 0;
    return out;
  });
  return { masks: next, removed };
}

/** The plan whose masked preview equals the given masks (no layer removal). */
export function masksToPlan(ir: ModelIR, masks: MaskSet, name: string): PruningPlan {
  const plan = emptyPlan(ir, name);
  const H = plan.model.numHeads;
  const F = plan.model.ffnSize;
  plan.layers = plan.layers.map((entry, l) => ({
    ...entry,
    removedHeads: Array.from({ length: H }, (_, h) => h).filter((h) => masks.heads[l * H + h] === 0),
    removedFfn: Array.from({ length: F }, (_, j) => j).filter((j) => masks.ffn[l * F + j] === 0),
  }));
  return plan;
}

function count(m: Float32Array): number {
  return m.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
}

export function validateIterative(opts: IterativeOptions, scores?: Pick<UnitScores, 'heads' | 'ffn' | 'criterion'>): void {
  if (!(opts.heads >= 0 && opts.heads < 1) || !(opts.ffn >= 0 && opts.ffn < 1))
    throw new InputError('Targets must be fractions in [0, 1).');
  if (!Number.isInteger(opts.rounds) || opts.rounds < 1 || opts.rounds > 50)
    throw new InputError(`Rounds must be an integer in 1..50, got ${opts.rounds}.`);
  if (getRecovery(opts.recovery).needs.gradients && !(opts.sgdSteps >= 1 && opts.sgdLearningRate > 0))
    throw new InputError('Gradient-descent recovery needs steps >= 1 and a positive learning rate.');
  if (getRecovery(opts.recovery).needs.training) {
    if (!opts.training) throw new InputError('Distillation recovery needs a step budget and a learning rate.');
    validateDistill(opts.training);
  }
  const fin = opts.finalSteps ?? 0;
  if (!Number.isInteger(fin) || fin < 0 || fin > 10_000) throw new InputError(`Final steps must be an integer in 0..10000, got ${fin}.`);
  if (scores && ((opts.heads > 0 && !scores.heads) || (opts.ffn > 0 && !scores.ffn))) {
    throw new InputError(
      `${scores.criterion} does not score ${opts.heads > 0 && !scores.heads ? 'heads' : 'FFN neurons'}.`,
      'Pick a criterion that scores the units you prune.',
    );
  }
}

/**
 * The optimizer hooks of each training phase (rounds 1..R, then the final phase): minibatches keep
 * cycling across phases; with schedule 'run' one Adam and one cosine over the run's total steps.
 */
export function trainingPlan(opts: IterativeOptions) {
  const training = opts.training;
  const perRound = training?.steps ?? 0;
  const total = perRound * opts.rounds + (opts.finalSteps ?? 0);
  const shared = (opts.trainingSchedule ?? 'run') === 'run';
  const adam = shared ? createAdam() : undefined;
  let offset = 0;
  return {
    total,
    adam,
    next(steps: number): Pick<DistillHooks, 'adam' | 'lrAt' | 'firstBatch'> {
      const first = offset;
      offset += steps;
      if (!shared || !training || !adam) return { firstBatch: first };
      return { adam, firstBatch: first, lrAt: (t) => learningRateAt({ ...training, steps: total }, first + t) };
    },
  };
}

/** Runs the rounds; returns the recovered full-size model (o / down changed), the final masks and the plan. */
export async function iterativePrune(ir0: ModelIR, opts: IterativeOptions, engine: IterativeEngine, hooks: IterativeHooks) {
  validateIterative(opts);
  let ir = withOwnProjections(ir0);
  let masks = onesMaskSet(ir0);
  const records: RoundRecord[] = [];
  const recovery = getRecovery(opts.recovery);
  const withGram = hooks.needs.gram || recovery.needs.hessians;
  const plan = trainingPlan(opts);
  const progress = (round: number, step: string) =>
    hooks.onProgress?.({ stage: 'iterative', done: round - 1, total: opts.rounds, message: `Round ${round}/${opts.rounds}: ${step}` });
  for (let r = 1; r <= opts.rounds; r++) {
    throwIfAborted(hooks.signal, 'Iterative pruning');
    const t0 = engine.now();
    progress(r, 'statistics and importance');
    const stats = hooks.needs.stats || withGram ? await engine.stats(ir, masks, withGram) : undefined;
    const scores = await engine.scores(ir, masks, stats);
    validateIterative(opts, scores);
    const picked = selectRound(ir, scores, masks, opts, r);
    masks = picked.masks;
    const recovered = await recovery.apply({
      ir,
      removed: picked.removed,
      ...(stats ? { stats } : {}),
      masks,
      engine,
      sgdSteps: opts.sgdSteps,
      sgdLearningRate: opts.sgdLearningRate,
      ...(opts.training ? { training: opts.training, optimizer: plan.next(opts.training.steps) } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      progress: (step) => progress(r, step),
    });
    ir = recovered.ir;
    progress(r, 'perplexity');
    const perplexity = await engine.perplexity(ir, masks);
    const record: RoundRecord = {
      round: r,
      rounds: opts.rounds,
      headsRemoved: count(masks.heads),
      headsTotal: masks.heads.length,
      ffnRemoved: count(masks.ffn),
      ffnTotal: masks.ffn.length,
      lossBeforeRecovery: recovered.lossBefore,
      lossAfterRecovery: recovered.lossAfter,
      perplexity,
      ms: engine.now() - t0,
      ...(recovered.curve ? { curve: recovered.curve } : {}),
    };
    records.push(record);
    hooks.onRound?.(record);
  }
  const fin = opts.finalSteps ?? 0;
  if (fin > 0 && recovery.needs.training && engine.distill && opts.training) {
    const t0 = engine.now();
    const out = await distill(
      ir,
      masks,
      engine.distill,
      { ...opts.training, steps: fin },
      {
        ...plan.next(fin),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
        onStep: (p) => progress(opts.rounds, `final training step ${p.step}/${fin} (loss ${p.loss.toFixed(3)})`),
      },
    );
    ir = out.ir;
    const record: RoundRecord = {
      round: opts.rounds + 1,
      rounds: opts.rounds,
      headsRemoved: count(masks.heads),
      headsTotal: masks.heads.length,
      ffnRemoved: count(masks.ffn),
      ffnTotal: masks.ffn.length,
      lossBeforeRecovery: out.curve[0]?.loss ?? NaN,
      lossAfterRecovery: out.curve.at(-1)?.loss ?? NaN,
      perplexity: await engine.perplexity(ir, masks),
      ms: engine.now() - t0,
      curve: out.curve,
      final: true,
    };
    records.push(record);
    hooks.onRound?.(record);
  }
  hooks.onProgress?.({ stage: 'iterative', done: opts.rounds, total: opts.rounds, message: 'Iterative pruning done' });
  return { ir, masks, plan: masksToPlan(ir0, masks, 'iterative'), rounds: records };
}
