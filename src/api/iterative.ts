/**
 * Api operation `iterativePrune`: runs src/prune/iterative.ts with an engine over three sessions of
 * the full-size model whose o / down projections are graph inputs (so recovered weights are fed,
 * never rebuilt): the gradient graph (Taylor / Fisher scores, gradient-descent recovery), a masked
 * token-loss graph (perplexity after each round, ablation) and a tap graph (statistics, OBS
 * Hessians). The result is sliced and installed as the applied model, exactly like applyPlan.
 */
import { InputError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { RunnerSession } from '../core/runner';
import { type buildOnnx } from '../graph/build';
import { allWeightFeeds, weightFeeds } from '../graph/grad/loss';
import { defaultRounds, iterativePrune as runRounds, onesMaskSet, type IterativeEngine, type IterativeOptions } from '../prune/iterative';
import { projectionGradNames } from '../prune/recover';
import { redistributeSettings } from '../prune/compensation/redistribute';
import { recoveryCompensation, usesSgd, usesTraining } from '../prune/recovery/registry';
import { collectStats, maskedLossOracle } from '../saliency/calibrate';
import { batchGradients, collectMaskGradients } from '../saliency/gradients';
import { getCriterion } from '../saliency/registry';
import type { MaskSet } from '../saliency/types';
import { maskFeeds, streamPerplexity } from './evaluation';
import { gradientSession, releaseGradientSession } from './gradients';
import { prunedPerplexity } from './pruning';
import { installApplied } from './install';
import { denseTeacher, distillEngine, openTrainingSession, recoveryOptions, trainingSet } from './recovery';
import type { LoadedModel, StudioState } from './state';
import { openModelSession } from '../graph/model-session';
import type { IterativeJobOptions, IterativeRequest, IterativeResult } from './types';

export const SGD_DEFAULTS = { steps: 10, learningRate: 0.05 };

function optionsOf(req: IterativeRequest): IterativeOptions {
  return {
    heads: req.heads,
    ffn: req.ffn,
    rounds: req.rounds ?? defaultRounds(Math.max(req.heads, req.ffn)),
    recovery: req.recovery,
    sgdSteps: req.sgdSteps ?? SGD_DEFAULTS.steps,
    sgdLearningRate: req.sgdLearningRate ?? SGD_DEFAULTS.learningRate,
    ...(usesTraining(req.recovery) ? { training: recoveryOptions(req.training ?? {}) } : {}),
    ...(req.finalSteps !== undefined ? { finalSteps: req.finalSteps } : {}),
    ...(req.trainingSchedule ? { trainingSchedule: req.trainingSchedule } : {}),
    ...(req.locked ? { locked: req.locked } : {}),
  };
}

async function engineFor(state: StudioState, m: LoadedModel, req: IterativeRequest, options: IterativeJobOptions) {
  const cal = m.calibration;
  if (!cal) throw new InputError('Iterative pruning needs calibration data.', 'Run calibration (step 2) first.');
  const criterion = getCriterion(req.criterion);
  // Distillation trains every block linear weight, so every graph then takes all of them as inputs.
  const trains = usesTraining(req.recovery);
  const weightInputs = trains ? ('all' as const) : true;
  const feedsOf = trains ? allWeightFeeds : weightFeeds;
  const open = (o: Parameters<typeof buildOnnx>[1]) =>
    openModelSession(state.deps.runner, m.ir, { ...o, masks: true, logits: false, weightInputs });
  const grad = trains ? await open({ gradients: { masks: true } }) : await gradientSession(state, m, options);
  const evalW = await open({ tokenLoss: true });
  const sessions: RunnerSession[] = trains ? [grad, evalW] : [evalW];
  let distill;
  if (trains) {
    const o = recoveryOptions(req.training ?? {});
    const set = trainingSet(m, req.training ?? {});
    const training = await openTrainingSession(state, m, o.mix);
    sessions.push(training);
    distill = distillEngine(training, set, await denseTeacher(state, m, set), o.batchSize);
  }
  let taps: RunnerSession | undefined;
  const signal = options.signal ? { signal: options.signal } : {};
  const engine: IterativeEngine = {
    now: state.now,
    ...(distill ? { distill } : {}),
    async stats(ir, masks, withGram) {
      if (!taps) sessions.push((taps = await open({ taps: true, grams: 'packed', tokenLoss: true })));
      return collectStats(ir, taps, cal.set, { withGram, masks, extraFeeds: feedsOf(ir), ...signal });
    },
    scores(ir, masks, stats) {
      const base = { masks, extraFeeds: feedsOf(ir) };
      return criterion.compute({
        ir,
        ...(stats ? { stats } : {}),
        maskedLoss: maskedLossOracle(ir, evalW, cal.set, 8, { ...base, ...signal }),
        gradients: () => collectMaskGradients(ir, grad, cal.set, { ...base, ...signal }),
        ...signal,
      });
    },
    loss(ir, masks) {
      return maskedLossOracle(ir, evalW, cal.set, 8, { masks, extraFeeds: feedsOf(ir), ...signal })(onesMaskSet(ir));
    },
    weightGradients(ir, masks) {
      return batchGradients(ir, grad, cal.set, projectionGradNames(ir), { masks, extraFeeds: feedsOf(ir), ...signal });
    },
    async perplexity(ir: ModelIR, masks: MaskSet) {
      const feeds = { ...maskFeeds(ir, masks), ...feedsOf(ir) };
      return (await streamPerplexity(m, evalW, m.ir.spec.maxPositions, req.perplexity, feeds, signal)).perplexity;
    },
  };
  return { engine, criterion, release: () => Promise.all([...sessions.map((s) => s.release()), releaseGradientSession(m)]) };
}

function trainingSummary(m: LoadedModel, req: IterativeRequest) {
  const set = trainingSet(m, req.training ?? {});
  return { textName: set.textName, samples: set.samples, seq: set.seq };
}

export async function iterativePrune(
  state: StudioState,
  m: LoadedModel,
  req: IterativeRequest,
  options: IterativeJobOptions,
): Promise<IterativeResult> {
  const opts = optionsOf(req);
  const { engine, criterion, release } = await engineFor(state, m, req, options);
  const rounds: IterativeResult['rounds'] = [];
  const onRound = (r: IterativeResult['rounds'][number]) => {
    rounds.push(r);
    options.onRound?.(r);
  };
  let result;
  try {
    const t0 = state.now();
    const dense = onesMaskSet(m.ir);
    onRound({
      round: 0,
      rounds: opts.rounds,
      headsRemoved: 0,
      headsTotal: dense.heads.length,
      ffnRemoved: 0,
      ffnTotal: dense.ffn.length,
      lossBeforeRecovery: NaN,
      lossAfterRecovery: NaN,
      perplexity: await engine.perplexity(m.ir, dense),
      ms: state.now() - t0,
    });
    result = await runRounds(m.ir, opts, engine, {
      ...options,
      onRound,
      needs: { stats: criterion.needs.stats, gram: criterion.needs.gram },
    });
  } finally {
    await release();
  }
  const training = opts.training && { ...opts.training, ...recoveryOptions(req.training ?? {}).mix, ...trainingSummary(m, req) };
  const plan = {
    ...result.plan,
    name: req.name ?? `${req.criterion}-iterative-${opts.rounds}x-${opts.recovery}-h${req.heads}-f${req.ffn}`,
  };
  plan.derivation = {
    criterion: req.criterion,
    allocation: `iterative-uniform (${opts.rounds} rounds, recovery ${opts.recovery}${usesSgd(opts.recovery) ? `: ${opts.sgdSteps} steps, lr ${opts.sgdLearningRate}` : ''}${opts.training ? `: ${opts.training.steps} steps/round + ${opts.finalSteps ?? 0} final, lr ${opts.training.learningRate}, schedule ${opts.trainingSchedule ?? 'run'}` : ''})`,
    targets: { heads: req.heads, ffn: req.ffn, layers: 0 },
    calibration: { textName: m.calibration!.summary.textName, samples: m.calibration!.summary.samples, seq: m.calibration!.summary.seq },
    ...(usesSgd(opts.recovery) ? {} : { compensation: recoveryCompensation(opts.recovery) }),
  };
  plan.createdAt = new Date().toISOString();
  const applied = await installApplied(
    state,
    m,
    plan,
    result.ir,
    recoveryCompensation(opts.recovery),
    {
      method: opts.recovery,
      rounds: opts.rounds,
      ...(usesSgd(opts.recovery) ? { sgdSteps: opts.sgdSteps, sgdLearningRate: opts.sgdLearningRate } : {}),
    },
    training && {
      steps: training.steps * opts.rounds + (opts.finalSteps ?? 0),
      learningRate: training.learningRate,
      lm: training.lm,
      kl: training.kl,
      textName: training.textName,
      samples: training.samples,
      seq: training.seq,
    },
  );
  if (recoveryCompensation(opts.recovery) === 'redistribute') applied.compensationOptions = redistributeSettings(m.ir);
  const perplexity = await prunedPerplexity(m, req.perplexity, options.signal ? { signal: options.signal } : {});
  return { plan, applied, rounds, perplexity };
}
