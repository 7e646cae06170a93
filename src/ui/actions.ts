/**
 * UI actions for the model and its dense baseline: load a model, measure its perplexity and latency,
 * and put the results in the store. Each runs as an engine job (./jobs.ts): progress, cancellable,
 * and on failure its message + hint shows while every earlier result stays on screen.
 */
import type { ModelSource } from '../api/types';
import { modelKey } from '../store/model-key';
import { cancelPreview, quiet, resumePreview } from './prune-actions';
import { noteRestored } from './restore';
import { loadCriteria, restoreCachedScores } from './importance-actions';
import { useStudio } from '../store';
import { LATENCY_DEFAULTS, PERPLEXITY_DEFAULTS } from './defaults';
import { job, type JobStartOptions } from './jobs';
import { evaluationTextOrReport, latencyRequest } from './inputs';
import { demoImagesAndAccuracy, demoVitSource, isClassifier } from './vision-actions';

export { evaluationTextOrReport, fetchEvaluationText, latencyRequest } from './inputs';

/** Another engine job runs (a live preview does not count: it is stopped, and resumed afterwards). */
function busy(): boolean {
  const j = useStudio.getState().job;
  return j !== null && !j.id.startsWith('preview-');
}

/** Whether the engine is free for a baseline job, after stopping the live preview. */
async function free(): Promise<boolean> {
  if (busy()) return false;
  await quiet();
  return !busy();
}

/**
 * Loads a model; everything scoped to the previous one (preview, applied model, measurements,
 * calibration, scores) is cleared, its plans are kept aside, and this model's plans, results and
 * cached scores come back, with a note of what was restored and what must be recomputed.
 */
async function loadSource(source: ModelSource): Promise<boolean> {
  if (!(await free())) return false;
  const summary = await job('Loading model', 'loadModel', [source]);
  if (!summary) return false;
  cancelPreview();
  const st = useStudio.getState();
  st.resetModelResults();
  st.resetVision();
  st.setModel(summary);
  st.setDensePerplexity(null);
  st.setDenseHeldOut(null);
  st.setDenseLatency(null);
  st.setUnitLatency(null);
  st.setCalibration(null);
  st.clearScores();
  st.setLatencySetup({ batch: LATENCY_DEFAULTS.batch, seq: Math.min(LATENCY_DEFAULTS.seq, summary.spec.maxPositions) });
  st.switchPlanModel(modelKey(summary));
  await loadCriteria();
  await noteRestored(await restoreCachedScores());
  return true;
}

export async function loadSelectedModel(): Promise<boolean> {
  const kind = useStudio.getState().sourceKind;
  if (kind === 'demo-vit') return loadSource(demoVitSource());
  if (kind !== 'demo') return false;
  return loadSource({ kind: 'demo' });
}

/** The dense quality after a load: perplexity (language models); a classifier's accuracy needs images (the demo's are fetched). */
async function denseQuality(options: JobStartOptions): Promise<boolean> {
  if (!isClassifier(useStudio.getState().model)) return runDensePerplexity(options);
  if (useStudio.getState().sourceKind === 'demo-vit') return demoImagesAndAccuracy(options);
  return true;
}

/**
 * Resolves once the browser has painted what the store holds now (at most 250 ms: a hidden tab paints
 * no frame). The dense baseline waits for it after a load, so the loaded model's panels are laid out
 * while the engine is idle: their first layout fetches new font sizes from the browser's font service,
 * synchronously, and with the engine's threads on every core that wait was a 100-950 ms main-thread
 * task (bench/ui-stalls.spec.ts, Chromium on Linux).
 */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 250);
    requestAnimationFrame(() =>
      setTimeout(() => {
        clearTimeout(timer);
        resolve();
      }, 0),
    );
  });
}

/** Loads a Hub or local-files model, then measures its dense baseline. */
export async function loadModelFrom(source: ModelSource): Promise<void> {
  if (!(await loadSource(source))) return;
  await afterPaint();
  if (!(await denseQuality(FOLLOWS_LOAD))) return;
  if (isClassifier(useStudio.getState().model)) return; // latency feeds are token ids in the engine for now
  await runDenseLatency(FOLLOWS_LOAD);
}

/** The baseline jobs that follow a load keep a message the person got in between (e.g. a refused plan file). */
const FOLLOWS_LOAD: JobStartOptions = { keepMessages: true };

export async function runDensePerplexity(options: JobStartOptions = {}): Promise<boolean> {
  if (!useStudio.getState().model || !(await free())) return false;
  const text = await evaluationTextOrReport();
  if (text === undefined) return false;
  const result = await job('Perplexity', 'evaluatePerplexity', [{ ...PERPLEXITY_DEFAULTS, text }], options);
  if (result) useStudio.getState().setDensePerplexity(result);
  resumePreview();
  return result !== undefined;
}

export async function runDenseLatency(options: JobStartOptions = {}): Promise<boolean> {
  if (!useStudio.getState().model || !(await free())) return false;
  const result = await job('Latency', 'measureLatency', [latencyRequest()], options);
  if (result) useStudio.getState().setDenseLatency(result);
  resumePreview();
  return result !== undefined;
}

/** Load the selected model, then its dense perplexity, then its latency; stops at the first failure. */
export async function loadAndMeasureBaseline(): Promise<void> {
  if (!(await loadSelectedModel())) return;
  await afterPaint();
  if (!(await denseQuality(FOLLOWS_LOAD))) return;
  if (isClassifier(useStudio.getState().model)) return; // latency feeds are token ids in the engine for now
  await runDenseLatency(FOLLOWS_LOAD);
}

let started = false;
/** First page load: the demo model and its baseline, once (React StrictMode runs effects twice in dev). */
export function startOnce(): void {
  if (started) return;
  started = true;
  void loadAndMeasureBaseline();
}
