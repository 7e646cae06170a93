/**
 * Benchmark: iterative prune-and-recover vs one-shot pruning on the demo model, at 50% and 70% of
 * heads and FFN neurons removed (uniform per layer), with the same criterion (Taylor by default).
 * One-shot: scores on the dense model, then compensation 'none' or 'obs', or gradient-descent
 * recovery with as many steps as the iterative run takes in total ('sgd', 'obs+sgd' in one round).
 * Iterative: R rounds of (re-score on the masked, recovered model → prune → recover with 'obs',
 * 'sgd' or both). Perplexity of
 * the final physically pruned model on the first 4096 tokens of evaluation.txt (context 128,
 * stride 64); calibration: calibration.txt, `samples` x 128 tokens.
 */
import type { createStudioApi } from '../src/api/studio';
import type { IterativeRound } from '../src/api/types';
import type { Compensation } from '../src/prune/compensate';
import type { Recovery } from '../src/prune/recovery/registry';
import type { CriterionName } from '../src/saliency/types';
import { CALIB_TEXT, EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;
export const ITERATIVE_PPL = { text: EVAL_TEXT, textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: 4096 };

export interface Variant {
  recovery: Recovery;
  rounds: number;
  sgdSteps?: number;
  sgdLearningRate?: number;
}

export const DEFAULT_VARIANTS: Variant[] = [
  { recovery: 'obs', rounds: 3 },
  { recovery: 'obs', rounds: 5 },
  { recovery: 'sgd', rounds: 3, sgdSteps: 10, sgdLearningRate: 0.05 },
  { recovery: 'obs+sgd', rounds: 3, sgdSteps: 5, sgdLearningRate: 0.05 },
];

export interface IterativeBenchOptions {
  criterion?: CriterionName;
  ratios?: number[];
  samples?: number;
  variants?: Variant[];
  log?: (line: string) => void;
}

function sameRecovery(oneShotPpl: Record<string, number>, v: Variant): number {
  const key = v.sgdSteps ? `${v.recovery} (${v.sgdSteps * v.rounds} steps)` : v.recovery;
  return oneShotPpl[key] ?? NaN;
}

async function oneShot(api: Api, criterion: CriterionName, ratio: number, compensation: Compensation): Promise<number> {
  const plan = await api.allocatePlan({ criterion, allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
  await api.applyPlan({ plan, compensation });
  return (await api.evaluatePerplexity({ ...ITERATIVE_PPL, target: 'pruned' })).perplexity;
}

export async function benchIterative(api: Api, o: IterativeBenchOptions = {}) {
  const criterion = o.criterion ?? 'taylor';
  const samples = o.samples ?? 16;
  const log = o.log ?? (() => {});
  const variants = o.variants ?? DEFAULT_VARIANTS;
  await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples, seq: 128, withHessians: true });
  const dense = (await api.evaluatePerplexity(ITERATIVE_PPL)).perplexity;
  await api.computeImportance(criterion);
  const rows: Record<string, unknown>[] = [];
  for (const ratio of o.ratios ?? [0.5, 0.7]) {
    const oneShotPpl: Record<string, number> = {
      none: await oneShot(api, criterion, ratio, 'none'),
      obs: await oneShot(api, criterion, ratio, 'obs'),
    };
    // one-shot + gradient steps = one round with the same total number of steps as the iterative runs
    for (const v of variants.filter((x) => x.sgdSteps && x.rounds > 1)) {
      const key = `${v.recovery} (${v.sgdSteps! * v.rounds} steps)`;
      if (key in oneShotPpl) continue;
      const r = await api.iterativePrune({
        criterion,
        heads: ratio,
        ffn: ratio,
        ...v,
        rounds: 1,
        sgdSteps: v.sgdSteps! * v.rounds,
        perplexity: ITERATIVE_PPL,
      });
      oneShotPpl[key] = r.perplexity.perplexity;
    }
    log(
      `ratio ${ratio}: one-shot ${Object.entries(oneShotPpl)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ')}`,
    );
    const iterative: Record<string, unknown>[] = [];
    for (const r of variants) {
      const t0 = performance.now();
      const trace: IterativeRound[] = [];
      const res = await api.iterativePrune(
        { criterion, heads: ratio, ffn: ratio, ...r, perplexity: ITERATIVE_PPL },
        {
          onRound: (x) => (
            trace.push(x),
            log(
              `  ${r.recovery} round ${x.round}: ${x.headsRemoved}/${x.headsTotal} heads, ${x.ffnRemoved}/${x.ffnTotal} neurons, ppl ${x.perplexity.toFixed(2)}`,
            )
          ),
        },
      );
      iterative.push({
        ...r,
        perplexity: res.perplexity.perplexity,
        seconds: Math.round((performance.now() - t0) / 100) / 10,
        perRound: trace.map((x) => ({
          round: x.round,
          headsRemoved: x.headsRemoved,
          ffnRemoved: x.ffnRemoved,
          perplexity: x.perplexity,
          lossBefore: x.lossBeforeRecovery,
          lossAfter: x.lossAfterRecovery,
        })),
        /** One-shot pruning with the same criterion and the same recovery (same total gradient steps). */
        oneShotSameRecovery: sameRecovery(oneShotPpl, r),
        beatsOneShotSameRecovery: res.perplexity.perplexity < sameRecovery(oneShotPpl, r),
        beatsBestOneShot: res.perplexity.perplexity < Math.min(...Object.values(oneShotPpl)),
      });
      log(`  ${r.recovery}: final ${res.perplexity.perplexity.toFixed(2)} (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
    rows.push({ ratio, oneShot: oneShotPpl, iterative });
  }
  return {
    protocol: {
      perplexity: { ...ITERATIVE_PPL, text: undefined },
      calibration: { textName: 'calibration.txt', samples, seq: 128 },
      criterion,
      allocation: 'uniform',
      heads: 'ratio',
      ffn: 'ratio',
    },
    densePerplexity: dense,
    rows,
  };
}
