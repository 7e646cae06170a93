/** Api operations on plans: live masked preview, apply (compensate + slice), verified export. */
import { InputError } from '../core/errors';
import { validatePlan, type PruningPlan } from '../core/plan';
import { asFloat32, int64Tensor } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { planMasks } from '../prune/masks';
import { compensate } from '../prune/compensate';
import { maskFeeds, streamPerplexity } from './evaluation';
import { installApplied } from './install';
import { modelCard, prunedConfig } from './model-card';
import type { LoadedModel, StudioState } from './state';
import { openModelSession } from './sessions';
import { requirePruned } from './state';
import type { AppliedModel, ApplyRequest, ExportBundle, JobOptions, PerplexityResult, PlanRequest, PreviewRequest } from './types';
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
  return streamPerplexity(m, m.evalSession, m.ir.spec.maxPositions, req.perplexity, maskFeeds(m.ir, planMasks(plan)), options);
}

export async function applyPlan(state: StudioState, m: LoadedModel, req: ApplyRequest, options: JobOptions): Promise<AppliedModel> {
  const plan = validatePlan(req.plan, m.ir);
  options.onProgress?.({ stage: 'apply', done: 0, total: 2, message: `Compensating (${req.compensation})` });
  const compensatedIr = compensate(m.ir, plan, m.calibration?.stats, req.compensation);
  options.onProgress?.({ stage: 'apply', done: 1, total: 2, message: 'Slicing and opening a session on the pruned model' });
  const summary = await installApplied(state, m, plan, compensatedIr, req.compensation);
  options.onProgress?.({ stage: 'apply', done: 2, total: 2, message: 'Pruned model ready' });
  return summary;
}

export async function prunedPerplexity(m: LoadedModel, req: PreviewRequest['perplexity'], options: JobOptions): Promise<PerplexityResult> {
  const p = requirePruned(m);
  const result = await streamPerplexity(m, p.session, p.ir.spec.maxPositions, req, {}, options);
  p.perplexity = result;
  return result;
}

/** Fixed probe input for export verification: the first tokens of the calibration set, or a ramp. */
function probeIds(m: LoadedModel): number[] {
  const n = Math.min(64, m.ir.spec.maxPositions);
  const cal = m.calibration?.set.sequences[0];
  return cal && cal.length >= n ? cal.slice(0, n) : Array.from({ length: n }, (_, i) => (i * 31 + 7) % m.ir.spec.vocabSize);
}

export async function verifyExport(
  state: StudioState,
  m: LoadedModel,
  onnx: Uint8Array,
  plan: PruningPlan,
): Promise<ExportBundle['verification']> {
  const p = requirePruned(m);
  const ids = probeIds(m);
  const feeds = { input_ids: int64Tensor(ids, [1, ids.length]) };
  const fresh = await state.deps.runner.open(onnx);
  const reference = await openModelSession(state.deps.runner, p.compensatedIr, { masks: true, logits: true });
  try {
    const a = asFloat32((await fresh.run(feeds, ['logits'])).logits, 'logits');
    const b = asFloat32((await reference.run({ ...feeds, ...maskFeeds(p.compensatedIr, planMasks(plan)) }, ['logits'])).logits, 'logits');
    let maxAbsLogitDiff = 0;
    for (let i = 0; i < a.length; i++) maxAbsLogitDiff = Math.max(maxAbsLogitDiff, Math.abs(a[i]! - b[i]!));
    return { maxAbsLogitDiff, positions: ids.length, reference: 'masked preview of the same plan on the (compensated) full-size model' };
  } finally {
    await fresh.release();
    await reference.release();
  }
}

export const EXPORT_TOLERANCE = 1e-3;

export async function exportPruned(state: StudioState, m: LoadedModel, options: JobOptions): Promise<ExportBundle> {
  const p = requirePruned(m);
  options.onProgress?.({ stage: 'export', done: 0, total: 2, message: 'Writing ONNX' });
  const onnx = buildOnnx(p.ir, { logits: true });
  options.onProgress?.({ stage: 'export', done: 1, total: 2, message: 'Re-opening the export and checking it against the preview' });
  const verification = await verifyExport(state, m, onnx, p.summary.plan);
  if (!(verification.maxAbsLogitDiff < EXPORT_TOLERANCE)) {
    throw new InputError(
      `The exported model differs from the preview (max |Δlogit| = ${verification.maxAbsLogitDiff.toExponential(2)}).`,
      'This is a bug in Prune Studio; please report it with the plan file.',
    );
  }
  const enc = new TextEncoder();
  const files = [
    { name: 'model.onnx', bytes: onnx },
    { name: 'config.json', bytes: enc.encode(JSON.stringify(prunedConfig(m, p), null, 2)) },
    ...(m.tokenizerJson ? [{ name: 'tokenizer.json', bytes: m.tokenizerJson }] : []),
    { name: 'plan.json', bytes: enc.encode(JSON.stringify(p.summary.plan, null, 2)) },
    { name: 'README.md', bytes: enc.encode(modelCard(m, p, verification)) },
  ];
  options.onProgress?.({ stage: 'export', done: 2, total: 2, message: 'Export verified' });
  return { files, verification };
}
