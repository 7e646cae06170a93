/**
 * Benchmark: pruning quality on the demo model at 50% of heads and FFN neurons removed
 * (uniform allocation): every score-based criterion vs random selection, and OBS compensation vs
 * none. Perplexity on the first 8192 tokens of evaluation.txt (context 128, stride 64).
 */
import { allocate } from '../src/prune/allocate';
import type { Compensation } from '../src/prune/compensate';
import type { UnitScores } from '../src/saliency/types';
import type { createStudioApi } from '../src/api/studio';
import { mulberry32 } from '../src/eval/generate';
import { EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;
const PPL = { text: EVAL_TEXT, textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: 8192 };

function randomScores(like: UnitScores, seed: number): UnitScores {
  const r = mulberry32(seed);
  return { ...like, criterion: 'magnitude', heads: like.heads!.map(() => r()), ffn: like.ffn!.map(() => r()), layers: null };
}

async function pplOf(api: Api, scores: UnitScores, ratio: number, compensation: Compensation): Promise<number> {
  const ir = api.state.loaded!.ir;
  const plan = allocate(ir, scores, scores, null, { allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
  await api.applyPlan({ plan, compensation });
  return (await api.evaluatePerplexity({ ...PPL, target: 'pruned' })).perplexity;
}

export async function benchQuality(api: Api, ratios = [0.5, 0.7]) {
  const dense = (await api.evaluatePerplexity(PPL)).perplexity;
  const scored = ['magnitude', 'wanda', 'flap', 'obs'] as const;
  const scores = new Map<string, UnitScores>();
  for (const name of scored) scores.set(name, await api.computeImportance(name));
  const rows: Record<string, unknown>[] = [];
  for (const ratio of ratios) {
    const random: number[] = [];
    for (const seed of [1, 2, 3]) random.push(await pplOf(api, randomScores(scores.get('magnitude')!, seed), ratio, 'none'));
    const randomMean = random.reduce((a, b) => a + b, 0) / random.length;
    const byCriterion: Record<string, Record<Compensation, number>> = {};
    for (const name of scored) {
      byCriterion[name] = {
        none: await pplOf(api, scores.get(name)!, ratio, 'none'),
        bias: await pplOf(api, scores.get(name)!, ratio, 'bias'),
        obs: await pplOf(api, scores.get(name)!, ratio, 'obs'),
      };
    }
    rows.push({
      ratio,
      random: { seeds: random, mean: randomMean },
      byCriterion,
      checks: {
        everyCriterionBeatsRandom: scored.every((n) => byCriterion[n]!.none < randomMean),
        obsCompensationBeatsNone: scored.every((n) => byCriterion[n]!.obs < byCriterion[n]!.none),
      },
    });
  }
  return { protocol: { ...PPL, text: undefined, allocation: 'uniform', heads: 'ratio', ffn: 'ratio' }, densePerplexity: dense, rows };
}
