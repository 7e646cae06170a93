/**
 * Benchmark: pruning quality on the demo model (uniform allocation), perplexity on the first 8192
 * tokens of evaluation.txt (context 128, stride 64).
 *  - rows: 50% / 70% of heads and FFN neurons removed: every criterion that scores both unit types
 *    vs random selection (mean of RANDOM_SEEDS), and compensation none / bias / OBS;
 *  - byUnitType: 50% of heads only and 50% of FFN neurons only, no compensation, so a criterion
 *    that is good for one unit type and bad for the other shows where.
 */
import { allocate } from '../src/prune/allocate';
import type { Compensation } from '../src/prune/compensate';
import type { CriterionName, UnitScores } from '../src/saliency/types';
import type { createStudioApi } from '../src/api/studio';
import { mulberry32 } from '../src/eval/generate';
import { CALIB_TEXT, EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;
const PPL = { text: EVAL_TEXT, textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: 8192 };
const RANDOM_SEEDS = [1, 2, 3, 4, 5, 6];
/** Criteria that score heads and FFN neurons. */
const BOTH = ['magnitude', 'wanda', 'flap', 'obs', 'taylor', 'fisher'] as const;
/** Criteria that score heads only. */
const HEADS_ONLY = ['ablation'] as const;

interface Split {
  heads: number;
  ffn: number;
}

function randomScores(like: UnitScores, seed: number): UnitScores {
  const r = mulberry32(seed);
  return { ...like, criterion: 'magnitude', heads: like.heads!.map(() => r()), ffn: like.ffn!.map(() => r()), layers: null };
}

/** Heads-only criteria get FFN scores of zero: only used with split.ffn = 0. */
function withFfn(s: UnitScores): UnitScores {
  return s.ffn ? s : { ...s, ffn: new Float64Array(s.numLayers * s.ffnSize) };
}

async function pplOf(api: Api, scores: UnitScores, split: Split, compensation: Compensation): Promise<number> {
  const ir = api.state.loaded!.ir;
  const s = withFfn(scores);
  const plan = allocate(ir, s, s, null, { allocation: 'uniform', heads: split.heads, ffn: split.ffn, layers: 0 });
  await api.applyPlan({ plan, compensation });
  return (await api.evaluatePerplexity({ ...PPL, target: 'pruned' })).perplexity;
}

async function randomBaseline(api: Api, like: UnitScores, split: Split) {
  const seeds: number[] = [];
  for (const seed of RANDOM_SEEDS) seeds.push(await pplOf(api, randomScores(like, seed), split, 'none'));
  return { seeds, mean: seeds.reduce((a, b) => a + b, 0) / seeds.length, min: Math.min(...seeds), max: Math.max(...seeds) };
}

async function unitTypeRow(api: Api, scores: Map<CriterionName, UnitScores>, part: 'heads' | 'ffn', ratio: number) {
  const split = part === 'heads' ? { heads: ratio, ffn: 0 } : { heads: 0, ffn: ratio };
  const random = await randomBaseline(api, scores.get('magnitude')!, split);
  const names = part === 'heads' ? [...BOTH, ...HEADS_ONLY] : [...BOTH];
  const byCriterion: Record<string, number> = {};
  for (const name of names) byCriterion[name] = await pplOf(api, scores.get(name)!, split, 'none');
  const losesToRandom = names.filter((n) => byCriterion[n]! >= random.mean);
  return { part, ratio, random, byCriterion, losesToRandom };
}

export async function benchQuality(api: Api, ratios = [0.5, 0.7]) {
  await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true });
  const dense = (await api.evaluatePerplexity(PPL)).perplexity;
  const scores = new Map<CriterionName, UnitScores>();
  for (const name of [...BOTH, ...HEADS_ONLY]) scores.set(name, await api.computeImportance(name));
  const rows: Record<string, unknown>[] = [];
  for (const ratio of ratios) {
    const split = { heads: ratio, ffn: ratio };
    const random = await randomBaseline(api, scores.get('magnitude')!, split);
    const byCriterion: Record<string, Record<Compensation, number>> = {};
    for (const name of BOTH) {
      const s = scores.get(name)!;
      byCriterion[name] = {
        none: await pplOf(api, s, split, 'none'),
        bias: await pplOf(api, s, split, 'bias'),
        obs: await pplOf(api, s, split, 'obs'),
      };
    }
    rows.push({
      ratio,
      random,
      byCriterion,
      checks: {
        everyCriterionBeatsRandom: BOTH.every((n) => byCriterion[n]!.none < random.mean),
        losesToRandom: BOTH.filter((n) => byCriterion[n]!.none >= random.mean),
        obsCompensationBeatsNone: BOTH.every((n) => byCriterion[n]!.obs < byCriterion[n]!.none),
      },
    });
  }
  const byUnitType = [await unitTypeRow(api, scores, 'heads', 0.5), await unitTypeRow(api, scores, 'ffn', 0.5)];
  return {
    protocol: {
      ...PPL,
      text: undefined,
      allocation: 'uniform',
      calibration: '16 x 128 tokens of calibration.txt',
      randomSeeds: RANDOM_SEEDS,
    },
    densePerplexity: dense,
    rows,
    byUnitType,
  };
}
