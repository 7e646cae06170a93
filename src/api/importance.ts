/** Api operations for importance: calibration and criteria. */
import { InputError, ShapeMismatchError } from '../core/errors';
import { hasHessians } from '../core/stats';
import { collectStats, makeCalibrationSet, makeImageCalibrationSet, maskedLossOracle, type CalibrationSet } from '../saliency/calibrate';
import { collectStatsByLayer } from '../saliency/calibrate-by-layer';
import { openGramSpill } from './gram-storage';
import { checkImageDataset } from '../eval/image-dataset';
import { isImageClassifier } from './accuracy';
import { CRITERION_NAMES, getCriterion } from '../saliency/registry';
import type { CriterionInput, CriterionName, MaskSet, UnitScores } from '../saliency/types';
import { useBlockwise } from '../graph/block-run';
import { maskedLossesByBlocks } from './masked-losses';
import { assertFiniteLoss, assertFiniteScores } from './numeric';
import { checkTextSize, textWarnings } from './text-guard';
import { chunkedHeadNll, splitsHead, type HeadInput } from '../graph/head-chunks';
import { openModelSessionEmbedded, withModelSession } from '../graph/model-session';
import { tokensOf, type LoadedModel, type StudioState } from './state';
import type { CalibrationRequest, CalibrationSummary, JobOptions } from './types';

/** Token sequences cut from the text, or (image classifiers) the first images of req.images. */
function calibrationSet(m: LoadedModel, req: CalibrationRequest): { set: CalibrationSet; warnings: string[] } {
  if (isImageClassifier(m.ir)) {
    if (!req.images)
      throw new InputError(`${m.ir.name} is an image classifier: calibrate it on labelled images.`, 'Pass images (api.prepareImages).');
    const v = m.ir.spec.vision!;
    checkImageDataset(req.images, { channels: v.numChannels, imageSize: v.imageSize, numLabels: m.ir.spec.vocabSize });
    const name = req.images.description ?? req.textName;
    return { set: makeImageCalibrationSet(req.images, name, req.samples, m.ir.spec.maxPositions), warnings: [] };
  }
  const seq = Math.min(req.seq, m.ir.spec.maxPositions);
  checkTextSize(req.text, req.textName, req.samples * seq, req.maxTextChars);
  const ids = tokensOf(m, req.textName, req.text, req.samples * seq);
  const warnings = textWarnings(req.text, req.textName, ids.slice(0, req.samples * seq), m.tokenizer);
  return { set: makeCalibrationSet(ids, req.textName, req.samples, seq), warnings };
}

export async function calibrate(
  state: StudioState,
  m: LoadedModel,
  req: CalibrationRequest,
  options: JobOptions,
): Promise<CalibrationSummary> {
  const { set, warnings } = calibrationSet(m, req);
  const seq = set.seq;
  options.onProgress?.({ stage: 'build', done: 0, total: 1, message: 'Building the calibration graph' });
  // One block at a time (SparseGPT's sequential scheme): each block's session reads only its own
  // weights and lives for that block only; the residual stream of the calibration set is carried over.
  const graph = { masks: true, taps: true, grams: 'packed' as const, tokenLoss: true, logits: false };
  // embedded: block 0 is fed the embedding computed in JS, so only the (tied) head brings the vocabulary matrix into the runtime;
  // a large vocabulary's head runs apart from the last block, in chunks (graph/head-chunks.ts), so not even that.
  const headApart = splitsHead(m.ir);
  const last = m.ir.layers.length - 1;
  // each block's weights embedded once per session (read a tensor at a time from a spilled model's store), not fed per run
  const openBlock = (l: number) =>
    openModelSessionEmbedded(state.deps.runner, m.ir, {
      ...graph,
      layerRange: { from: l, to: l + 1, embedded: true, ...(headApart && l === last ? { head: false } : {}) },
    });
  const separateHead = async (x: HeadInput) => (await chunkedHeadNll(state.deps.runner, m.ir, [x]))[0]!;
  // A large model's Grams go to the host's storage layer by layer (api/gram-storage.ts).
  const spill = await openGramSpill(state.deps, m.ir, req.withHessians);
  const collect = { ...options, withGram: req.withHessians, afterBlock: spill.afterBlock, ...(headApart ? { separateHead } : {}) };
  let stats;
  try {
    // An image classifier's patch input runs as one graph (layerRange is built for token inputs).
    stats = set.images
      ? await withModelSession(state.deps.runner, m.ir, graph, (taps) => collectStats(m.ir, taps, set, collect))
      : await collectStatsByLayer(m.ir, openBlock, set, collect);
    warnings.push(...spill.finish(stats));
    assertFiniteLoss(stats.baseLoss, 'The calibration loss');
  } catch (e) {
    await spill.store?.dispose();
    throw e;
  }
  const summary: CalibrationSummary = {
    textName: set.textName,
    samples: set.samples,
    seq,
    tokens: stats.numTokens,
    baseLoss: stats.baseLoss,
    withHessians: req.withHessians,
    key: set.images
      ? `${m.ir.name}|${set.textName}|images|${set.samples}x${seq}`
      : `${m.ir.name}|${req.textName}|${req.text.length}|${set.samples}x${seq}`,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  const replaced = m.calibration;
  m.calibration = { set, stats, summary, ...(spill.store ? { store: spill.store } : {}) };
  m.scores.clear();
  await replaced?.store?.dispose();
  return summary;
}

export async function computeImportance(
  m: LoadedModel,
  name: CriterionName,
  options: JobOptions,
  extra: Pick<CriterionInput, 'gradients' | 'nvitGradients'> = {},
): Promise<UnitScores> {
  const criterion = getCriterion(name);
  const cal = m.calibration;
  if ((criterion.needs.stats || criterion.needs.maskedLoss) && !cal) {
    throw new InputError(`${criterion.label} needs calibration data.`, 'Run calibration (step 2) first.');
  }
  if (criterion.needs.gram && !hasHessians(cal?.stats)) {
    throw new InputError(`${criterion.label} needs Hessians (X^T X).`, 'Re-run calibration with Hessians enabled.');
  }
  const scores = await criterion.compute({
    ir: m.ir,
    ...(cal
      ? {
          stats: cal.stats,
          maskedLoss: maskedLossOracle(m.ir, m.evalSession, cal.set, 8, options.signal ? { signal: options.signal } : {}),
          ...(m.evalBlocks && useBlockwise(m.ir) && !cal.set.images
            ? {
                maskedLosses: (sets: readonly MaskSet[], onDone?: (fraction: number) => void) =>
                  maskedLossesByBlocks(m.evalBlocks!, cal.set, sets, {
                    ...(options.signal ? { signal: options.signal } : {}),
                    ...(onDone ? { onRun: (done: number, total: number) => onDone(done / total) } : {}),
                  }),
              }
            : {}),
        }
      : {}),
    ...(cal && criterion.needs.gradients ? extra : {}),
    ...(m.unitLatency ? { measuredCost: m.unitLatency } : {}),
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
