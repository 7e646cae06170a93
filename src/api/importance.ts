/** Api operations for importance: calibration and criteria. */
import { InputError, ShapeMismatchError } from '../core/errors';
import { collectStats, makeCalibrationSet, maskedLossOracle } from '../saliency/calibrate';
import { CRITERION_NAMES, getCriterion } from '../saliency/registry';
import type { CriterionInput, CriterionName, UnitScores } from '../saliency/types';
import { assertFiniteLoss, assertFiniteScores } from './numeric';
import { checkTextSize, textWarnings } from './text-guard';
import { withModelSession } from '../graph/model-session';
import { tokensOf, type LoadedModel, type StudioState } from './state';
import type { CalibrationRequest, CalibrationSummary, JobOptions } from './types';

export async function calibrate(
  state: StudioState,
  m: LoadedModel,
  req: CalibrationRequest,
  options: JobOptions,
): Promise<CalibrationSummary> {
  const seq = Math.min(req.seq, m.ir.spec.maxPositions);
  checkTextSize(req.text, req.textName, req.samples * seq, req.maxTextChars);
  const ids = tokensOf(m, req.textName, req.text, req.samples * seq);
  const warnings = textWarnings(req.text, req.textName, ids.slice(0, req.samples * seq), m.tokenizer);
  const set = makeCalibrationSet(ids, req.textName, req.samples, seq);
  options.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Building the calibration graph' });
  // The tap session lives for this calibration only (its activation arena is released with it).
  const graph = { masks: true, taps: true, grams: true, tokenLoss: true, logits: false };
  const stats = await withModelSession(state.deps.runner, m.ir, graph, (taps) =>
    collectStats(m.ir, taps, set, { ...options, withGram: req.withHessians }),
  );
  const summary: CalibrationSummary = {
    textName: req.textName,
    samples: set.samples,
    seq,
    tokens: stats.numTokens,
    baseLoss: stats.baseLoss,
    withHessians: req.withHessians,
    key: `${m.ir.name}|${req.textName}|${req.text.length}|${set.samples}x${seq}`,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  assertFiniteLoss(stats.baseLoss, 'The calibration loss');
  m.calibration = { set, stats, summary };
  m.scores.clear();
  return summary;
}

export async function computeImportance(
  m: LoadedModel,
  name: CriterionName,
  options: JobOptions,
  extra: Pick<CriterionInput, 'gradients'> = {},
): Promise<UnitScores> {
  const criterion = getCriterion(name);
  const cal = m.calibration;
  if ((criterion.needs.stats || criterion.needs.maskedLoss) && !cal) {
    throw new InputError(`${criterion.label} needs calibration data.`, 'Run calibration (step 2) first.');
  }
  if (criterion.needs.gram && !cal?.stats.layers[0]?.attnIn.gram) {
    throw new InputError(`${criterion.label} needs Hessians (X^T X).`, 'Re-run calibration with Hessians enabled.');
  }
  const scores = await criterion.compute({
    ir: m.ir,
    ...(cal
      ? {
          stats: cal.stats,
          maskedLoss: maskedLossOracle(m.ir, m.evalSession, cal.set, 8, options.signal ? { signal: options.signal } : {}),
        }
      : {}),
    ...(cal && criterion.needs.gradients ? extra : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  assertFiniteScores(scores, criterion.label);
  m.scores.set(name, scores);
  return scores;
}

/** Checks scores computed earlier against the loaded model and keeps them for allocation. */
export function restoreScores(m: LoadedModel, scores: UnitScores): void {
  if (!(CRITERION_NAMES as readonly string[]).includes(scores.criterion)) {
    throw new InputError(
      `Unknown criterion "${String(scores.criterion)}" in the restored scores.`,
      `Use one of: ${CRITERION_NAMES.join(', ')}.`,
    );
  }
  const L = m.ir.layers.length;
  const H = m.ir.layers[0]?.numHeads ?? 0;
  const F = m.ir.layers[0]?.ffnSize ?? 0;
  const parts: [string, ArrayLike<number> | null | undefined, number][] = [
    ['heads', scores.heads, L * H],
    ['ffn', scores.ffn, L * F],
    ['layers', scores.layers, L],
  ];
  const wrong = parts.filter(([, values, n]) => values != null && values.length !== n);
  if (scores.numLayers !== L || scores.numHeads !== H || scores.ffnSize !== F || wrong.length) {
    throw new ShapeMismatchError(
      `The restored ${scores.criterion} scores are for ${scores.numLayers} layers x ${scores.numHeads} heads x ${scores.ffnSize} FFN neurons, ` +
        `but the loaded model has ${L} x ${H} x ${F}${wrong.length ? ` (wrong length: ${wrong.map(([p]) => p).join(', ')})` : ''}.`,
      'Recompute the scores for this model.',
    );
  }
  const copy = (v: ArrayLike<number> | null) => (v ? Float64Array.from(v) : null);
  const kept: UnitScores = { ...scores, heads: copy(scores.heads), ffn: copy(scores.ffn), layers: copy(scores.layers) };
  assertFiniteScores(kept, `The restored ${scores.criterion} scores`);
  m.scores.set(kept.criterion, kept);
}
