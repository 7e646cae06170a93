/**
 * Sweep curves: perplexity against the fraction of heads and FFN neurons removed, for computed
 * criteria and for random selection (one series per seed), from masks on the open dense session
 * (no compensation, no rebuild: an estimate of what applying the plan without compensation gives;
 * masking a unit equals slicing it away, so at compensation "none" the number is the applied one).
 * With compensation 'bias' or 'obs' each point is instead the plan compensated and sliced as Apply
 * builds it, scored on a temporary session ('exact' points; pruning.ts previewCompensated).
 * Every point is the same evaluation tokens; fraction 0 is the dense model on those tokens.
 */
import { InputError } from '../core/errors';
import { checkpoint } from '../core/job';
import type { ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import { mulberry32 } from '../eval/generate';
import { allocate } from '../prune/allocate';
import type { Allocation } from '../prune/allocation/registry';
import { planMasks } from '../prune/masks';
import type { UnitScores } from '../saliency/types';
import { maskFeeds, streamPerplexity } from './evaluation';
import { previewCompensated } from './pruning';
import type { LoadedModel, StudioState } from './state';
import type { JobOptions, PerplexityResult, SweepJobOptions, SweepPoint, SweepRequest, SweepResult, SweepSeries } from './types';

/** Name of a series: the criterion, or `random:<seed>`. */
export function seriesName(s: SweepSeries): string {
  return 'random' in s ? `random:${s.random}` : s.criterion;
}

/** Uniform random scores for every head and FFN neuron (seeded; the same seed gives the same plan). */
export function randomScores(ir: ModelIR, seed: number): UnitScores {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const rnd = mulberry32(seed);
  return {
    criterion: `random:${seed}`,
    numLayers: L,
    numHeads: H,
    ffnSize: F,
    heads: Float64Array.from({ length: L * H }, rnd),
    ffn: Float64Array.from({ length: L * F }, rnd),
    layers: null,
  };
}

function seriesScores(m: LoadedModel, s: SweepSeries): UnitScores {
  if ('random' in s) return randomScores(m.ir, s.random);
  const scores = m.scores.get(s.criterion);
  if (!scores) throw new InputError(`No ${s.criterion} scores yet.`, 'Compute the criterion first (step 3).');
  if (!scores.heads && !scores.ffn)
    throw new InputError(`${s.criterion} scores whole layers only.`, 'Sweep a criterion that scores heads or FFN neurons.');
  return scores;
}

/** The plan a sweep point evaluates: `fraction` of heads and / or FFN neurons by `allocation`. */
export function sweepPlan(
  ir: ModelIR,
  scores: UnitScores,
  fraction: number,
  units: SweepRequest['units'],
  allocation: Allocation,
): PruningPlan {
  const heads = units === 'ffn' ? 0 : fraction;
  const ffn = units === 'heads' ? 0 : fraction;
  return allocate(
    ir,
    scores,
    scores,
    null,
    { heads, ffn, layers: 0, allocation },
    `sweep-${scores.criterion}-${Math.round(fraction * 100)}`,
  );
}

/** One point's perplexity: masks on the dense session, or the compensated sliced model. */
function scorePoint(
  state: StudioState,
  m: LoadedModel,
  plan: PruningPlan,
  req: SweepRequest,
  signal?: AbortSignal,
): Promise<PerplexityResult> {
  const job = signal ? { signal } : {};
  const compensation = req.compensation ?? 'none';
  if (compensation !== 'none') return previewCompensated(state, m, { plan, compensation, perplexity: req.perplexity }, job);
  return streamPerplexity(m, m.evalSession, m.ir.spec.maxPositions, req.perplexity, maskFeeds(m.ir, planMasks(plan)), job, m.evalBlocks);
}

export async function sweep(
  state: StudioState,
  m: LoadedModel,
  req: SweepRequest,
  options: SweepJobOptions & JobOptions,
): Promise<SweepResult> {
  for (const f of req.fractions) {
    if (!(f >= 0 && f < 1)) throw new InputError(`Sweep fractions must be in [0, 1), got ${f}.`);
  }
  const allocation = req.allocation ?? 'uniform';
  const units = req.units ?? 'both';
  const compensation = req.compensation ?? 'none';
  const total = req.series.length * req.fractions.length;
  const points: SweepPoint[] = [];
  for (const s of req.series) {
    const scores = seriesScores(m, s);
    for (const fraction of req.fractions) {
      await checkpoint(options, 'The sweep', {
        stage: 'sweep',
        done: points.length,
        total,
        message: `${seriesName(s)} at ${Math.round(fraction * 100)}%`,
      });
      const plan = sweepPlan(m.ir, scores, fraction, units, allocation);
      const r = await scorePoint(state, m, plan, req, options.signal);
      const point: SweepPoint = {
        series: seriesName(s),
        ...('random' in s ? { seed: s.random } : {}),
        fraction,
        perplexity: r.perplexity,
        meanNll: r.meanNll,
        tokens: r.protocol.tokensScored,
        kind: compensation === 'none' ? 'estimate' : 'exact',
      };
      points.push(point);
      options.onPoint?.(point);
    }
  }
  options.onProgress?.({ stage: 'sweep', done: total, total });
  return { points, units, allocation, compensation };
}
