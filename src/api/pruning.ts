/**
 * Api operations on plans: allocation, live masked preview, the exact compensated preview (a
 * temporary sliced copy), apply (compensate + slice); export is in export.ts.
 */
import { warmGemmThreads } from '../core/gemm-threads';
import { InputError, throwIfAborted } from '../core/errors';
import { validatePlan, type PruningPlan } from '../core/plan';
import { planMasks } from '../prune/masks';
import { compensate, compensatedSlice } from '../prune/compensate';
import { redistributeSettings } from '../prune/compensation/redistribute';
import { stoppable } from '../core/job';
import { maskFeeds, streamPerplexity } from './evaluation';
import { installApplied, installByLayers, keepsCompensated } from './install';
import { checkPruning } from './memory';
import type { LayerWeights } from '../core/ir';
import type { LoadedModel, StudioState } from './state';
import { requirePruned } from './state';
import type {
  AppliedModel,
  ApplyRequest,
  CompensatedPreviewRequest,
  JobOptions,
  PerplexityResult,
  PlanRequest,
  PreviewRequest,
} from './types';
import { openRunSession } from '../graph/model-session';
import { allocate } from '../prune/allocate';
import { ratioForTarget } from '../prune/target';

export function allocatePlan(m: LoadedModel, req: PlanRequest): PruningPlan {
  const scores = m.scores.get(req.criterion);
  if (!scores) throw new InputError(`No ${req.criterion} scores yet.`, 'Compute the criterion first (step 3).');
  const layerScores =
    req.layers > 0
      ? m.scores.get(req.layerCriterion ?? req.criterion)?.layers
        ? m.scores.get(req.layerCriterion ?? req.criterion)!
        : m.scores.get('block-influence')
      : undefined;
  if (req.layers > 0 && !layerScores) {
    throw new InputError(
      `${req.criterion} does not score whole layers.`,
      'Compute block influence, ablation or magnitude to remove layers.',
    );
  }
  const { criterion, layerCriterion: _lc, name, target, ...requested } = req;
  const measured = req.allocation === 'latency' ? m.unitLatency : undefined;
  const targets = measured ? { ...requested, unitCost: { kvGroup: measured.kvGroupMs, neuron: measured.neuronMs } } : requested;
  const planName = name ?? `${criterion}-${req.allocation}`;
  const allocateFor = (t: typeof targets) => allocate(m.ir, scores, scores, layerScores ?? null, t, planName);
  if (target && !(target.fraction >= 0 && target.fraction < 1))
    throw new InputError(`The global target must be a fraction in [0, 1), got ${target.fraction}.`);
  const solved = target && ratioForTarget(m.ir, (r) => allocateFor({ ...targets, heads: r, ffn: r }), target.metric, target.fraction);
  const plan = solved ? solved.plan : allocateFor(targets);
  plan.derivation = {
    criterion,
    allocation: req.allocation,
    targets: { heads: solved?.ratio ?? req.heads, ffn: solved?.ratio ?? req.ffn, layers: req.layers },
    ...(solved ? { global: { ...target, achieved: solved.achieved } } : {}),
    ...(measured ? { latencyCosts: { kvGroupMs: measured.kvGroupMs, neuronMs: measured.neuronMs, backend: measured.backend.name } } : {}),
    calibration: m.calibration && {
      textName: m.calibration.summary.textName,
      samples: m.calibration.summary.samples,
      seq: m.calibration.summary.seq,
    },
  };
  plan.createdAt = new Date().toISOString();
  return plan;
}

export async function previewPlan(m: LoadedModel, req: PreviewRequest, options: JobOptions): Promise<PerplexityResult> {
  const plan = validatePlan(req.plan, m.ir);
  return streamPerplexity(
    m,
    m.evalSession,
    m.ir.spec.maxPositions,
    req.perplexity,
    maskFeeds(m.ir, planMasks(plan)),
    options,
    m.evalBlocks,
  );
}

/**
 * Compensates a copy of the dense weights for the plan (progress per layer, cancellable); with
 * `how` = compensatedSlice, the sliced model of that copy, made one layer at a time.
 */
function compensatedCopy(
  m: LoadedModel,
  plan: PruningPlan,
  compensation: ApplyRequest['compensation'],
  options: JobOptions,
  methodOptions?: ApplyRequest['compensationOptions'],
  how: typeof compensate = compensate,
) {
  const check = (layer: number, layers: number) => {
    // The report polls the worker's cancel flag; OBS compensation takes seconds per layer on 124M.
    options.onProgress?.({
      stage: 'apply',
      done: layer / layers,
      total: 2,
      message: `Compensating (${compensation}), layer ${layer + 1}/${layers}`,
    });
    throwIfAborted(options.signal, 'Compensating');
  };
  // stoppable: the OBS kernels inside a layer also stop within one block when the job is cancelled.
  return stoppable(options, 'Compensating', () => how(m.ir, plan, m.calibration?.stats, compensation, check, methodOptions));
}

/** The plan with its compensation, sliced and evaluated on a temporary session (m.pruned untouched). */
export async function previewCompensated(
  state: StudioState,
  m: LoadedModel,
  req: CompensatedPreviewRequest,
  options: JobOptions,
): Promise<PerplexityResult> {
  const plan = validatePlan(req.plan, m.ir);
  if (req.compensation !== 'none') await warmGemmThreads(2000);
  const ir = compensatedCopy(m, plan, req.compensation, options, req.compensationOptions, compensatedSlice);
  throwIfAborted(options.signal, 'Compensated preview');
  const session = await openRunSession(state.deps.runner, ir, { logits: false, tokenLoss: true }, m.evalSession.backend);
  try {
    return await streamPerplexity(m, session, ir.spec.maxPositions, req.perplexity, {}, options);
  } finally {
    await session.release();
  }
}

export async function applyPlan(state: StudioState, m: LoadedModel, req: ApplyRequest, options: JobOptions): Promise<AppliedModel> {
  const plan = validatePlan(req.plan, m.ir);
  checkPruning(state, m, plan);
  options.onProgress?.({ stage: 'apply', done: 0, total: 2, message: `Compensating (${req.compensation})` });
  // the helper threads of the float64 products (core/gemm-threads.ts), where the host has them, up before the compensation
  if (req.compensation !== 'none') await warmGemmThreads(2000);
  let summary: AppliedModel;
  if (keepsCompensated(state, m, plan)) {
    const compensatedIr = compensatedCopy(m, plan, req.compensation, options, req.compensationOptions);
    options.onProgress?.({ stage: 'apply', done: 1, total: 2, message: 'Slicing and opening a session on the pruned model' });
    summary = await installApplied(state, m, plan, compensatedIr, req.compensation);
  } else {
    // Large models: compensated and sliced layer by layer, no full-size copy (install.ts compensatedModel rebuilds it on use).
    const sliced = (onLayer: (weights: LayerWeights) => void) => {
      const ir = compensatedCopy(m, plan, req.compensation, options, req.compensationOptions, (ir0, p, stats, mode, check, o) =>
        compensatedSlice(ir0, p, stats, mode, check, o, onLayer),
      );
      options.onProgress?.({ stage: 'apply', done: 1, total: 2, message: 'Opening a session on the pruned model' });
      return ir;
    };
    summary = await installByLayers(state, m, plan, sliced, req.compensation);
  }
  // the record of the applied model (and the model card) carries the redistribution's rank and ridge
  if (req.compensation === 'redistribute') summary.compensationOptions = redistributeSettings(m.ir, req.compensationOptions);
  options.onProgress?.({ stage: 'apply', done: 2, total: 2, message: 'Pruned model ready' });
  return summary;
}

export async function prunedPerplexity(m: LoadedModel, req: PreviewRequest['perplexity'], options: JobOptions): Promise<PerplexityResult> {
  const p = requirePruned(m);
  const result = await streamPerplexity(m, p.session, p.ir.spec.maxPositions, req, {}, options, p.evalBlocks);
  if (req.role === 'heldOut') p.heldOut = result;
  else p.perplexity = result;
  return result;
}
