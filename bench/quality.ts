/**
 * Benchmark: pruning quality on the demo model (uniform allocation), perplexity on the first 8192
 * tokens of evaluation.txt (context 128, stride 64).
 *  - rows: 50% / 70% of heads and FFN neurons removed: every criterion that scores both unit types
 *    vs random selection (RANDOM_SEEDS), each under compensation none / bias / OBS, so a criterion
 *    is compared with random selection at the same compensation;
 *  - byUnitType: 50% of heads only and 50% of FFN neurons only, no compensation, so a criterion
 *    that is good for one unit type and bad for the other shows where;
 *  - ffnByLayer: 50% of the FFN neurons of one layer at a time (the others dense), no compensation:
 *    where a criterion's FFN selection gains or loses against random;
 *  - slimgpt: SlimGPT (layer-wise OBS, sequential calibration, greedy selection) uniform and
 *    incremental at each ratio, next to the best one-shot criterion with OBS compensation.
 */
import { allocate, type AllocationRequest } from '../src/prune/allocate';
import { COMPENSATIONS, type Compensation } from '../src/prune/compensate';
import type { CriterionName, UnitScores } from '../src/saliency/types';
import type { createStudioApi } from '../src/api/studio';
import { mulberry32 } from '../src/eval/generate';
import { CALIB_TEXT, EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;
type Targets = Omit<AllocationRequest, 'allocation'>;
const PPL = { text: EVAL_TEXT, textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: 8192 };
const RANDOM_SEEDS = [1, 2, 3, 4, 5, 6];
/** Criteria that score heads and FFN neurons. */
const BOTH = ['magnitude', 'wanda', 'flap', 'obs', 'taylor', 'fisher'] as const;
/** Criteria that score heads only. */
const HEADS_ONLY = ['ablation'] as const;
/** Criteria that read only the weights (no calibration data). */
const DATA_FREE: readonly string[] = ['magnitude'];

function randomScores(like: UnitScores, seed: number): UnitScores {
  const r = mulberry32(seed);
  return { ...like, criterion: 'magnitude', heads: like.heads!.map(() => r()), ffn: like.ffn!.map(() => r()), layers: null };
}

/** Heads-only criteria get FFN scores of zero: only used with targets.ffn = 0. */
function withFfn(s: UnitScores): UnitScores {
  return s.ffn ? s : { ...s, ffn: new Float64Array(s.numLayers * s.ffnSize) };
}

async function pplOf(api: Api, scores: UnitScores, targets: Targets, compensation: Compensation): Promise<number> {
  const ir = api.state.loaded!.ir;
  const s = withFfn(scores);
  const plan = allocate(ir, s, s, null, { allocation: 'uniform', ...targets });
  await api.applyPlan({ plan, compensation });
  return (await api.evaluatePerplexity({ ...PPL, target: 'pruned' })).perplexity;
}

interface Spread {
  seeds: number[];
  mean: number;
  min: number;
  max: number;
}

function spread(seeds: number[]): Spread {
  return { seeds, mean: seeds.reduce((a, b) => a + b, 0) / seeds.length, min: Math.min(...seeds), max: Math.max(...seeds) };
}

async function randomBaseline(api: Api, like: UnitScores, targets: Targets, compensation: Compensation, seeds = RANDOM_SEEDS) {
  const ppl: number[] = [];
  for (const seed of seeds) ppl.push(await pplOf(api, randomScores(like, seed), targets, compensation));
  return spread(ppl);
}

async function unitTypeRow(api: Api, scores: Map<CriterionName, UnitScores>, part: 'heads' | 'ffn', ratio: number) {
  const targets = part === 'heads' ? { heads: ratio, ffn: 0, layers: 0 } : { heads: 0, ffn: ratio, layers: 0 };
  const random = await randomBaseline(api, scores.get('magnitude')!, targets, 'none');
  const names = part === 'heads' ? [...BOTH, ...HEADS_ONLY] : [...BOTH];
  const byCriterion: Record<string, number> = {};
  for (const name of names) byCriterion[name] = await pplOf(api, scores.get(name)!, targets, 'none');
  const losesToRandom = names.filter((n) => byCriterion[n]! >= random.mean);
  return { part, ratio, random, byCriterion, losesToRandom };
}

/** 50% of one layer's FFN neurons at a time: magnitude and wanda vs random (3 seeds). */
async function ffnByLayer(api: Api, scores: Map<CriterionName, UnitScores>, ratio: number) {
  const rows: Record<string, unknown>[] = [];
  for (let layer = 0; layer < scores.get('magnitude')!.numLayers; layer++) {
    const targets = { heads: 0, ffn: 0, layers: 0, overrides: { [layer]: { ffn: ratio } } };
    const random = await randomBaseline(api, scores.get('magnitude')!, targets, 'none', RANDOM_SEEDS.slice(0, 3));
    const magnitude = await pplOf(api, scores.get('magnitude')!, targets, 'none');
    const wanda = await pplOf(api, scores.get('wanda')!, targets, 'none');
    rows.push({ layer, ratio, random, magnitude, wanda, magnitudeBeatsRandom: magnitude < random.mean });
  }
  return rows;
}

async function ratioRow(api: Api, scores: Map<CriterionName, UnitScores>, ratio: number) {
  const targets = { heads: ratio, ffn: ratio, layers: 0 };
  const randomByCompensation = {} as Record<Compensation, Spread>;
  for (const c of COMPENSATIONS) randomByCompensation[c] = await randomBaseline(api, scores.get('magnitude')!, targets, c);
  const byCriterion: Record<string, Record<Compensation, number>> = {};
  for (const name of BOTH) {
    const row = {} as Record<Compensation, number>;
    for (const c of COMPENSATIONS) row[c] = await pplOf(api, scores.get(name)!, targets, c);
    byCriterion[name] = row;
  }
  const losesToRandom = (c: Compensation) => BOTH.filter((n) => byCriterion[n]![c] >= randomByCompensation[c].mean);
  return {
    ratio,
    random: randomByCompensation.none,
    randomByCompensation,
    byCriterion,
    checks: {
      everyCriterionBeatsRandom: losesToRandom('none').length === 0,
      losesToRandom: losesToRandom('none'),
      dataAwareCriteriaBeatRandom: losesToRandom('none').every((n) => DATA_FREE.includes(n)),
      losesToRandomAtSameCompensation: Object.fromEntries(COMPENSATIONS.map((c) => [c, losesToRandom(c)])),
      obsCompensationBeatsNone: BOTH.every((n) => byCriterion[n]!.obs < byCriterion[n]!.none),
      obsBeatsNoneForRandom: randomByCompensation.obs.mean < randomByCompensation.none.mean,
    },
  };
}

async function slimGptRows(api: Api, ratios: number[], rows: Record<string, unknown>[]) {
  const out: Record<string, unknown>[] = [];
  for (const [i, ratio] of ratios.entries()) {
    const byCriterion = rows[i]!.byCriterion as Record<string, Record<Compensation, number>>;
    const [bestName, best] = Object.entries(byCriterion).reduce((a, b) => (b[1].obs < a[1].obs ? b : a));
    const row: Record<string, unknown> = { ratio, bestOneShotObs: { criterion: bestName, perplexity: best.obs } };
    for (const allocation of ['uniform', 'incremental'] as const) {
      const t0 = performance.now();
      const r = await api.slimGptPrune({ heads: ratio, ffn: ratio, allocation, perplexity: PPL });
      row[allocation] = { perplexity: r.perplexity.perplexity, parameters: r.applied.parameters, ms: Math.round(performance.now() - t0) };
    }
    out.push(row);
  }
  return out;
}

export async function benchQuality(api: Api, ratios = [0.5, 0.7], log: (line: string) => void = () => {}) {
  await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true });
  const dense = (await api.evaluatePerplexity(PPL)).perplexity;
  const scores = new Map<CriterionName, UnitScores>();
  for (const name of [...BOTH, ...HEADS_ONLY]) scores.set(name, await api.computeImportance(name));
  const rows: Record<string, unknown>[] = [];
  for (const ratio of ratios) {
    rows.push(await ratioRow(api, scores, ratio));
    log(`quality: ratio ${ratio} done`);
  }
  const byUnitType = [await unitTypeRow(api, scores, 'heads', 0.5), await unitTypeRow(api, scores, 'ffn', 0.5)];
  log('quality: by unit type done');
  const byLayer = await ffnByLayer(api, scores, 0.5);
  log('quality: by layer done');
  const slimgpt = await slimGptRows(api, ratios, rows);
  return {
    protocol: {
      ...PPL,
      text: undefined,
      allocation: 'uniform',
      calibration: '16 x 128 tokens of calibration.txt',
      randomSeeds: RANDOM_SEEDS,
      dataFreeCriteria: DATA_FREE,
    },
    densePerplexity: dense,
    rows,
    byUnitType,
    ffnByLayer: byLayer,
    slimgpt,
  };
}
