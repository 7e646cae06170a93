/**
 * Pruning actions: controls -> allocatePlan -> store plan (timeline, with the controls that made it)
 * -> live preview (debounced, the previous one cancelled): the masked estimate streamed from
 * progress, then the exact compensated number; apply with compensation -> measured by measure-applied.ts (exact perplexity +
 * dense vs pruned latency, a results row); one-click magnitude scores.
 */
import { accuracyPreview, isClassifier } from './vision-actions';
import type { PerplexityRequest, PerplexityResult } from '../api/types';
import type { PruningPlan } from '../core/plan';
import { compensationInfos, type Compensation } from '../prune/compensate';
import { unmetNeed } from '../prune/method';
import type { CriterionName } from '../saliency/types';
import { useStudio, type StudioStore } from '../store';
import { modelKey } from '../store/model-key';
import type { PruneControls } from '../store/plan';
import type { PreviewView } from '../store/results';
import { fetchEvaluationText, latencyRequest } from './inputs';
import { cacheScores } from './importance-actions';
import { engine, job, report } from './jobs';
import { PERPLEXITY_DEFAULTS } from './defaults';
import { measureApplied } from './measure-applied';

const COMPENSATIONS = compensationInfos();

/** Live estimate protocol: the first 2,048 tokens of the evaluation text, ctx 128, stride 64. */
export const PREVIEW_PROTOCOL: Omit<PerplexityRequest, 'text'> = { ...PERPLEXITY_DEFAULTS, maxTokens: 2048, target: 'dense' };

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

let controlsVersion = 0;

/** A control moved: update the controls, then (debounced) allocate a plan from them. */
export function changeControls(patch: Partial<PruneControls>): void {
  const st = useStudio.getState();
  st.setControls(patch);
  // a slider moved less than the debounce ago: its allocation is still to come (cancelPreview drops the timer)
  const allocationPending = timer !== undefined;
  cancelPreview();
  if (!allocationPending && Object.keys(patch).every((k) => k === 'compensation')) {
    // The plan does not depend on the compensation: same timeline entry (its controls follow), new preview.
    if (st.plan) st.setPlan(st.plan, useStudio.getState().controls);
    const plan = useStudio.getState().plan;
    if (plan && planIsCurrent()) void runPreview(plan);
    return;
  }
  controlsVersion++;
  timer = setTimeout(() => {
    timer = undefined;
    void allocateFromControls();
  }, 150);
}

/** The criterion a plan is made with: the chosen one if computed, else the one shown, else the first computed. */
export function resolveCriterion(s: Pick<StudioStore, 'controls' | 'scores' | 'selectedCriterion'>): CriterionName | null {
  const c = s.controls.criterion;
  if (c && s.scores[c]) return c;
  if (s.scores[s.selectedCriterion]) return s.selectedCriterion;
  return (Object.keys(s.scores)[0] as CriterionName | undefined) ?? null;
}

/** The current plan belongs to the loaded model (same name and fingerprint). */
export function planIsCurrent(s: StudioStore = useStudio.getState()): boolean {
  return !!s.model && !!s.plan && s.planModel === modelKey(s.model);
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
  const st = useStudio.getState();
  const { controls: c, model } = st;
  const criterion = resolveCriterion(st);
  if (!model || !criterion || !hasTargets(c)) return;
  const version = controlsVersion;
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
    // the controls moved again (or another model was loaded) meanwhile: a newer allocation follows
    if (version !== controlsVersion || useStudio.getState().model !== model) return;
    // a solved global target: the heads / FFN sliders show the ratio the engine found; the
    // criterion dropdown shows the criterion the plan was made with
    const solved = plan.derivation?.global ? plan.derivation.targets : undefined;
    const now = useStudio.getState().controls;
    const snapshot = { ...now, criterion, ...(solved ? { heads: solved.heads, ffn: solved.ffn } : {}) };
    useStudio.getState().setPlan(plan, snapshot); // the plan subscription below starts the preview
  } catch (e) {
    report('Allocating a plan', e);
  }
}

/**
 * Live preview of `plan`, cancelling any earlier one: first the fast estimate (the plan's units
 * masked on the dense session, streamed), then, when a compensation is chosen, the exact number
 * (the compensation applied to a copy of the weights, sliced and evaluated on the same tokens).
 * The masked estimate is reused when only the compensation changed.
 */
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
    if (isClassifier(useStudio.getState().model)) {
      await previewJob('Preview accuracy', (id) => accuracyPreview(plan, controller.signal, id));
      return;
    }
    const text = await fetchEvaluationText();
    if (controller.signal.aborted) return;
    const cur = useStudio.getState().preview;
    const masked = cur?.plan === plan.name && cur.final ? cur.final : await maskedPreview(plan, text, controller);
    if (!masked || controller.signal.aborted) return;
    const { compensation } = useStudio.getState().controls;
    if (compensation === 'none' || !compensationReady(compensation)) return;
    await compensatedPreview(plan, compensation, text, controller);
  } catch (e) {
    const cur = useStudio.getState().preview;
    if (cur && preview === controller)
      useStudio
        .getState()
        .setPreview({ ...cur, running: false, ...(cur.compensated ? { compensated: { ...cur.compensated, running: false } } : {}) });
    if (!controller.signal.aborted) report('Preview', e);
  } finally {
    done();
  }
}

/** Whether the calibration a compensation needs is there. */
export function compensationReady(name: Compensation, s: StudioStore = useStudio.getState()): boolean {
  const info = COMPENSATIONS.find((m) => m.name === name);
  return !!info && unmetNeed(info.needs, s.calibration) === null;
}

async function previewJob<T>(label: string, run: (id: string) => Promise<T>): Promise<T> {
  const id = `preview-${++seq}`;
  useStudio.getState().startJob(id, label);
  try {
    return await run(id);
  } finally {
    useStudio.getState().endJob(id);
  }
}

async function maskedPreview(plan: PruningPlan, text: string, controller: AbortController): Promise<PerplexityResult | undefined> {
  useStudio.getState().setPreview({ plan: plan.name, running: true, estimate: null, final: null });
  const final = await previewJob('Preview', (id) =>
    engine().run('previewPlan', [{ plan, perplexity: { ...PREVIEW_PROTOCOL, text } }], {
      signal: controller.signal,
      onProgress: (p) => {
        useStudio.getState().setProgress(id, p);
        const m = ESTIMATE.exec(p.message ?? '');
        const cur = useStudio.getState().preview;
        if (m && cur && preview === controller)
          useStudio.getState().setPreview({ ...cur, estimate: { ppl: Number(m[1]), band: Number(m[2]), tokens: Number(m[3]) } });
      },
    }),
  );
  if (preview !== controller) return undefined;
  useStudio.getState().setPreview({ plan: plan.name, running: false, estimate: null, final });
  return final;
}

async function compensatedPreview(plan: PruningPlan, compensation: Compensation, text: string, controller: AbortController): Promise<void> {
  const set = (c: NonNullable<PreviewView['compensated']>) => {
    const cur = useStudio.getState().preview;
    if (cur && preview === controller) useStudio.getState().setPreview({ ...cur, compensated: c });
  };
  set({ compensation, running: true, result: null });
  const result = await previewJob(`Preview with ${compensation} compensation`, (id) =>
    engine().run('previewCompensated', [{ plan, compensation, perplexity: { ...PREVIEW_PROTOCOL, text } }], {
      signal: controller.signal,
      onProgress: (p) => useStudio.getState().setProgress(id, p),
    }),
  );
  set({ compensation, running: false, result });
}

/** Restarts the live preview of the current plan if it was stopped before its final number (e.g. by a baseline job). */
export function resumePreview(): void {
  const s = useStudio.getState();
  if (!planIsCurrent(s) || !s.plan) return;
  if (isClassifier(s.model) && s.previewAccuracy?.plan === s.plan.name && s.previewAccuracy.result) return;
  const p = s.preview;
  const compensated = s.controls.compensation === 'none' || !compensationReady(s.controls.compensation, s) || !!p?.compensated?.result;
  if (p?.plan === s.plan.name && p.final && compensated) return;
  void runPreview(s.plan);
}

/** Re-preview whenever the current plan changes (controls, heatmap toggles, undo/redo, load). */
let watching = false;
export function watchPlan(): void {
  if (watching) return;
  watching = true;
  useStudio.subscribe((s, prev) => {
    const ready = planIsCurrent(s);
    if (s.plan !== prev.plan || s.model !== prev.model || s.planModel !== prev.planModel) {
      if (ready && s.plan) void runPreview(s.plan);
      else cancelPreview();
    }
  });
}

/** Measures latency per kv group and per neuron on this backend; latency-aware plans then use it. */
export async function measureUnitCosts(): Promise<void> {
  await quiet();
  const u = await job('Measuring latency per head and per neuron', 'measureUnitLatency', [latencyRequest()]);
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
  await cacheScores('magnitude', scores);
}

/** Apply the current plan, then exact perplexity (8,192 tokens) and measured latency (dense and pruned). */
export async function applyCurrent(): Promise<void> {
  const { plan, controls } = useStudio.getState();
  if (!plan || !planIsCurrent() || !compensationReady(controls.compensation)) return;
  await quiet();
  const applied = await job('Applying the plan', 'applyPlan', [{ plan, compensation: controls.compensation }]);
  if (!applied) return;
  await measureApplied(applied, {
    criterion: applied.plan.derivation?.criterion ?? 'manual',
    allocation: applied.plan.derivation?.allocation ?? 'manual',
    compensation: applied.compensation,
  });
}

/** Dense and pruned latency again, interleaved (the Apply card's "measure again"). */
export async function remeasureComparison(): Promise<void> {
  if (!useStudio.getState().applied) return;
  await quiet();
  const compared = await job('Latency, dense vs pruned', 'compareLatency', [latencyRequest()]);
  if (!compared) return;
  useStudio.getState().setLatencyComparison(compared);
  useStudio.getState().setPrunedLatency(compared.pruned);
}
