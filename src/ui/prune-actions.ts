/**
 * Pruning actions: controls -> allocatePlan -> store plan (timeline) -> live masked preview
 * (debounced, the previous preview cancelled, the estimate streamed from progress); apply with
 * compensation -> exact perplexity + measured latency -> a results row; one-click magnitude scores.
 */
import type { AppliedModel, PerplexityRequest, PerplexityResult } from '../api/types';
import type { PruningPlan } from '../core/plan';
import { useStudio } from '../store';
import type { PruneControls } from '../store/plan';
import type { ResultRow } from '../store/results';
import { evaluationTextOrReport, fetchEvaluationText } from './actions';
import { engine, job, report } from './jobs';
import { LATENCY_DEFAULTS, PERPLEXITY_DEFAULTS } from './defaults';
import { estimatePlan } from './plan-cost';

/** Live estimate protocol: the first 2,048 tokens of the evaluation text, ctx 128, stride 64. */
export const PREVIEW_PROTOCOL: Omit<PerplexityRequest, 'text'> = { ...PERPLEXITY_DEFAULTS, maxTokens: 2048, target: 'dense' };
export const EXACT_PROTOCOL: Omit<PerplexityRequest, 'text'> = { ...PERPLEXITY_DEFAULTS, target: 'pruned' };

const ESTIMATE = /([\d.]+) ± ([\d.]+) after (\d+) tokens/;

let timer: ReturnType<typeof setTimeout> | undefined;
let preview: AbortController | undefined;
let previewRun: Promise<void> = Promise.resolve();
let seq = 0;

/** Resolves when no other (non-preview) job is running: the engine runs one job at a time. */
export function whenIdle(): Promise<void> {
  return new Promise((resolve) => {
    const idle = () => {
      const j = useStudio.getState().job;
      return j === null || j.id.startsWith('preview-');
    };
    if (idle()) return resolve();
    const unsub = useStudio.subscribe(() => {
      if (idle()) {
        unsub();
        resolve();
      }
    });
  });
}

/** Stops the live preview and waits until it has settled and the engine is free (before other jobs). */
export async function quiet(): Promise<void> {
  cancelPreview();
  await previewRun;
  await whenIdle();
}

export function cancelPreview(): void {
  if (timer) clearTimeout(timer);
  timer = undefined;
  preview?.abort();
}

/** A control moved: update the controls, then (debounced) allocate a plan from them. */
export function changeControls(patch: Partial<PruneControls>): void {
  useStudio.getState().setControls(patch);
  cancelPreview();
  timer = setTimeout(() => void allocateFromControls(), 150);
}

function solvesGlobal(c: PruneControls): c is PruneControls & { globalMetric: 'parameters' | 'flops' } {
  return c.useGlobal && c.globalMetric !== 'units';
}

function hasTargets(c: PruneControls): boolean {
  return c.heads > 0 || c.ffn > 0 || c.layers > 0 || Object.keys(c.overrides).length > 0 || (solvesGlobal(c) && c.global > 0);
}

/** Plan names say what was asked: e.g. magnitude-uniform-params30-l0 or magnitude-uniform-h30-f30-l0. */
function planName(criterion: string, c: PruneControls): string {
  const targets = solvesGlobal(c)
    ? `${c.globalMetric === 'flops' ? 'flops' : 'params'}${Math.round(c.global * 100)}`
    : `h${Math.round(c.heads * 100)}-f${Math.round(c.ffn * 100)}`;
  return `${criterion}-${c.allocation}-${targets}-l${c.layers}`;
}

export async function allocateFromControls(): Promise<void> {
  const { controls: c, scores, selectedCriterion, model } = useStudio.getState();
  const criterion =
    c.criterion && scores[c.criterion]
      ? c.criterion
      : scores[selectedCriterion]
        ? selectedCriterion
        : (Object.keys(scores)[0] as PruneControls['criterion']);
  if (!model || !criterion || !hasTargets(c)) return;
  try {
    const plan = await engine().run('allocatePlan', [
      {
        criterion,
        allocation: c.allocation,
        heads: c.heads,
        ffn: c.ffn,
        layers: c.layers,
        overrides: c.overrides,
        locked: c.locked,
        name: planName(criterion, c),
        ...(solvesGlobal(c) ? { target: { metric: c.globalMetric, fraction: c.global } } : {}),
      },
    ]);
    // a solved global target: the heads / FFN sliders show the ratio the engine found
    const solved = plan.derivation?.global ? plan.derivation.targets : undefined;
    if (solved) useStudio.getState().setControls({ heads: solved.heads, ffn: solved.ffn });
    useStudio.getState().setPlan(plan); // the plan subscription below starts the preview
  } catch (e) {
    report('Allocating a plan', e);
  }
}

/** Masked perplexity of `plan` on the dense session, streamed; cancels any earlier preview. */
export async function runPreview(plan: PruningPlan): Promise<void> {
  preview?.abort();
  const controller = new AbortController();
  preview = controller;
  const previous = previewRun;
  let done: () => void = () => {};
  previewRun = new Promise((r) => (done = r));
  try {
    await previous;
    await whenIdle();
    if (controller.signal.aborted) return;
    const text = await fetchEvaluationText();
    const st = useStudio.getState();
    const id = `preview-${++seq}`;
    st.setPreview({ plan: plan.name, running: true, estimate: null, final: null });
    st.startJob(id, 'Preview');
    try {
      const final = await engine().run('previewPlan', [{ plan, perplexity: { ...PREVIEW_PROTOCOL, text } }], {
        signal: controller.signal,
        onProgress: (p) => {
          useStudio.getState().setProgress(id, p);
          const m = ESTIMATE.exec(p.message ?? '');
          const cur = useStudio.getState().preview;
          if (m && cur && preview === controller)
            useStudio.getState().setPreview({ ...cur, estimate: { ppl: Number(m[1]), band: Number(m[2]), tokens: Number(m[3]) } });
        },
      });
      useStudio.getState().setPreview({ plan: plan.name, running: false, estimate: null, final });
    } finally {
      useStudio.getState().endJob(id);
    }
  } catch (e) {
    const cur = useStudio.getState().preview;
    if (cur && preview === controller) useStudio.getState().setPreview({ ...cur, running: false });
    if (!controller.signal.aborted) report('Preview', e);
  } finally {
    done();
  }
}

/** Re-preview whenever the current plan changes (controls, heatmap toggles, undo/redo, load). */
let watching = false;
export function watchPlan(): void {
  if (watching) return;
  watching = true;
  useStudio.subscribe((s, prev) => {
    const ready = s.model && s.plan && s.plan.model.name === s.model.name;
    if (s.plan !== prev.plan || (s.model !== prev.model && ready)) {
      if (ready && s.plan) void runPreview(s.plan);
      else cancelPreview();
    }
  });
}

/** Measures latency per kv group and per neuron on this backend; latency-aware plans then use it. */
export async function measureUnitCosts(): Promise<void> {
  await quiet();
  const u = await job('Measuring latency per head and per neuron', 'measureUnitLatency', [LATENCY_DEFAULTS]);
  if (!u) return;
  useStudio.getState().setUnitLatency(u);
  await allocateFromControls();
}

export async function computeMagnitude(): Promise<void> {
  await quiet();
  const scores = await job('Computing magnitude scores', 'computeImportance', ['magnitude']);
  if (!scores) return;
  const st = useStudio.getState();
  st.setScores('magnitude', scores);
  if (!st.controls.criterion) st.setControls({ criterion: 'magnitude' });
}

/** Apply the current plan, then exact perplexity (8,192 tokens) and measured latency (dense and pruned). */
export async function applyCurrent(): Promise<void> {
  const { plan, controls } = useStudio.getState();
  if (!plan) return;
  await quiet();
  const applied = await job('Applying the plan', 'applyPlan', [{ plan, compensation: controls.compensation }]);
  if (!applied) return;
  await measureApplied(applied, {
    criterion: applied.plan.derivation?.criterion ?? 'manual',
    allocation: applied.plan.derivation?.allocation ?? 'manual',
    compensation: applied.compensation,
  });
}

/**
 * A new applied model (apply, iterative, SlimGPT): exact perplexity on the studio protocol (unless
 * the engine already measured it on that protocol), latency dense vs pruned, and a results row,
 * so every row of the results table is measured the same way.
 */
export async function measureApplied(
  applied: AppliedModel,
  meta: Pick<ResultRow, 'criterion' | 'allocation' | 'compensation'>,
  exact?: PerplexityResult,
): Promise<void> {
  const model = useStudio.getState().model;
  if (!model) return;
  useStudio.getState().setApplied(applied);
  let ppl = exact;
  if (!ppl) {
    const text = await evaluationTextOrReport();
    if (text === undefined) return;
    ppl = await job('Pruned perplexity', 'evaluatePerplexity', [{ ...EXACT_PROTOCOL, text }]);
    if (!ppl) return;
  }
  useStudio.getState().setPrunedPerplexity(ppl);
  // Dense and pruned interleaved run by run (same request as the baseline), so drift hits both alike.
  const compared = await job('Latency, dense vs pruned', 'compareLatency', [LATENCY_DEFAULTS]);
  if (!compared) return;
  const lat = compared.pruned;
  const st = useStudio.getState();
  st.setDenseLatency(compared.dense);
  st.setPrunedLatency(lat);
  const est = estimatePlan(model, applied.plan, null, LATENCY_DEFAULTS.seq);
  st.addResult({
    id: `${Date.now()}`,
    plan: applied.plan.name,
    ...meta,
    parameters: applied.parameters,
    perplexity: ppl.perplexity,
    latencyMs: lat.medianMs,
    denseLatencyMs: st.denseLatency?.medianMs ?? null,
    flopRatio: applied.cost.flops / applied.denseCost.flops || est.flopRatio,
    at: new Date().toISOString(),
  });
}
