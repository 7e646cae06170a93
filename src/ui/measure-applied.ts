/**
 * A new applied model measured the same way wherever it comes from (apply, iterative, SlimGPT,
 * recovery): exact and held-out perplexity, dense vs pruned latency, and a results row of this model
 * (a classifier: accuracy on the test images).
 */
import { accuracyCell, isClassifier, prunedAccuracy } from './vision-actions';
import type { AppliedModel, PerplexityRequest, PerplexityResult } from '../api/types';
import { useStudio } from '../store';
import { modelKey } from '../store/model-key';
import type { LossPoint, ResultRow } from '../store/results';
import { evaluationTextOrReport, heldOutTextOrReport, latencyRequest } from './inputs';
import { job } from './jobs';
import { HELDOUT_TEXT, PERPLEXITY_DEFAULTS } from './defaults';
import { estimatePlan } from './plan-cost';
import { rememberApplied } from './restore';

/** The exact protocol: the whole evaluation text (8,192 tokens), ctx 128, stride 64, on the applied model. */
export const EXACT_PROTOCOL: Omit<PerplexityRequest, 'text'> = { ...PERPLEXITY_DEFAULTS, target: 'pruned' };

/**
 * The applied model's perplexity on the held-out text (same protocol as the exact one; about 5 s on
 * the demo model in Node), and the dense model's once per load (the column's reference).
 */
async function heldOutPerplexity(): Promise<PerplexityResult | undefined> {
  const text = await heldOutTextOrReport();
  if (text === undefined) return undefined;
  const request = { ...EXACT_PROTOCOL, text, textName: HELDOUT_TEXT.name, role: 'heldOut' as const };
  if (!useStudio.getState().denseHeldOut) {
    const dense = await job('Dense held-out perplexity', 'evaluatePerplexity', [{ ...request, target: 'dense' }]);
    if (!dense) return undefined;
    useStudio.getState().setDenseHeldOut(dense);
  }
  return job('Held-out perplexity', 'evaluatePerplexity', [request]);
}

/**
 * A new applied model (apply, iterative, SlimGPT, recovery): exact perplexity on the studio protocol
 * (unless the engine already measured it on that protocol) and on the held-out text, latency dense vs
 * pruned, and a results row, so every row of the results table is measured the same way.
 */
export async function measureApplied(
  applied: AppliedModel,
  meta: Pick<ResultRow, 'criterion' | 'allocation' | 'compensation'>,
  exact?: PerplexityResult,
  curve?: LossPoint[],
): Promise<void> {
  const model = useStudio.getState().model;
  if (!model) return;
  useStudio.getState().setApplied(applied);
  if (isClassifier(model)) return measureAppliedClassifier(applied, meta);
  let ppl = exact;
  if (!ppl) {
    const text = await evaluationTextOrReport();
    if (text === undefined) return;
    ppl = await job('Pruned perplexity', 'evaluatePerplexity', [{ ...EXACT_PROTOCOL, text }]);
    if (!ppl) return;
  }
  useStudio.getState().setPrunedPerplexity(ppl);
  const heldOut = await heldOutPerplexity();
  if (!heldOut) return;
  useStudio.getState().setPrunedHeldOut(heldOut);
  // Dense and pruned interleaved run by run (same request as the baseline), so drift hits both alike;
  // the baseline panel keeps its own measurement.
  const request = latencyRequest();
  const compared = await job('Latency, dense vs pruned', 'compareLatency', [request]);
  if (!compared) return;
  const st = useStudio.getState();
  st.setLatencyComparison(compared);
  st.setPrunedLatency(compared.pruned);
  const est = estimatePlan(model, applied.plan, null, request.seq);
  const key = modelKey(model);
  // the row's description (e.g. "obs + recovery 60 steps"), so the note after a reload names the training too
  rememberApplied(key, applied.plan.name, meta.compensation);
  st.addResult({
    id: `${Date.now()}`,
    model: key,
    plan: applied.plan.name,
    ...meta,
    parameters: applied.parameters,
    perplexity: ppl.perplexity,
    heldOutPerplexity: heldOut.perplexity,
    ...(curve ? { curve } : {}),
    latencyMs: compared.pruned.medianMs,
    denseLatencyMs: compared.dense.medianMs,
    flopRatio: applied.cost.flops / applied.denseCost.flops || est.flopRatio,
    at: new Date().toISOString(),
  });
}

/** A classifier's applied model: accuracy on the test images and a results row (latency is not measured for image inputs yet). */
async function measureAppliedClassifier(applied: AppliedModel, meta: Pick<ResultRow, 'criterion' | 'allocation' | 'compensation'>) {
  const model = useStudio.getState().model;
  const acc = await prunedAccuracy();
  if (!model || !acc) return;
  const key = modelKey(model);
  rememberApplied(key, applied.plan.name, meta.compensation);
  useStudio.getState().addResult({
    id: `${Date.now()}`,
    model: key,
    plan: applied.plan.name,
    ...meta,
    parameters: applied.parameters,
    perplexity: Number.NaN,
    accuracy: accuracyCell(acc),
    latencyMs: Number.NaN,
    denseLatencyMs: null,
    flopRatio: applied.cost.flops / applied.denseCost.flops || estimatePlan(model, applied.plan, null, latencyRequest().seq).flopRatio,
    at: new Date().toISOString(),
  });
}
