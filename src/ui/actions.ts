/**
 * UI actions for the model and its dense baseline: load a model, measure its perplexity and latency,
 * and put the results in the store. Each runs as an engine job (./jobs.ts): progress, cancellable,
 * and on failure its message + hint shows while every earlier result stays on screen.
 */
import type { LatencyRequest, ModelSource } from '../api/types';
import { modelKey } from '../store/model-key';
import { cancelPreview, quiet, resumePreview } from './prune-actions';
import { noteRestored } from './restore';
import { loadCriteria, restoreCachedScores } from './importance-actions';
import { FetchError } from '../core/errors';
import { useStudio } from '../store';
import { EVALUATION_TEXT, LATENCY_DEFAULTS, PERPLEXITY_DEFAULTS } from './defaults';
import { job, report } from './jobs';

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
  st.setModel(summary);
  st.setDensePerplexity(null);
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

/** The latency request of the studio: the protocol defaults with the batch and length set for this model. */
export function latencyRequest(): LatencyRequest {
  const { batch, seq } = useStudio.getState().latencySetup;
  return { ...LATENCY_DEFAULTS, batch, seq };
}

export async function loadSelectedModel(): Promise<boolean> {
  if (useStudio.getState().sourceKind !== 'demo') return false;
  return loadSource({ kind: 'demo' });
}

/** Loads a Hub or local-files model, then measures its dense baseline. */
export async function loadModelFrom(source: ModelSource): Promise<void> {
  if (!(await loadSource(source))) return;
  if (!(await runDensePerplexity())) return;
  await runDenseLatency();
}

let evaluationText: Promise<string> | undefined;
export async function fetchEvaluationText(): Promise<string> {
  const url = `${import.meta.env.BASE_URL}${EVALUATION_TEXT.path}`;
  evaluationText ??= fetch(url).then(async (res) => {
    if (!res.ok) throw new FetchError(`Fetching ${url} failed with HTTP ${res.status}.`, res.status);
    return res.text();
  });
  try {
    return await evaluationText;
  } catch (e) {
    evaluationText = undefined;
    throw e;
  }
}

/** The evaluation text, or undefined after reporting why it could not be read. */
export async function evaluationTextOrReport(): Promise<string | undefined> {
  try {
    return await fetchEvaluationText();
  } catch (e) {
    report('Reading the evaluation text', e);
    return undefined;
  }
}

export async function runDensePerplexity(): Promise<boolean> {
  if (!useStudio.getState().model || !(await free())) return false;
  const text = await evaluationTextOrReport();
  if (text === undefined) return false;
  const result = await job('Perplexity', 'evaluatePerplexity', [{ ...PERPLEXITY_DEFAULTS, text }]);
  if (result) useStudio.getState().setDensePerplexity(result);
  resumePreview();
  return result !== undefined;
}

export async function runDenseLatency(): Promise<boolean> {
  if (!useStudio.getState().model || !(await free())) return false;
  const result = await job('Latency', 'measureLatency', [latencyRequest()]);
  if (result) useStudio.getState().setDenseLatency(result);
  resumePreview();
  return result !== undefined;
}

/** Load the selected model, then its dense perplexity, then its latency; stops at the first failure. */
export async function loadAndMeasureBaseline(): Promise<void> {
  if (!(await loadSelectedModel())) return;
  if (!(await runDensePerplexity())) return;
  await runDenseLatency();
}

let started = false;
/** First page load: the demo model and its baseline, once (React StrictMode runs effects twice in dev). */
export function startOnce(): void {
  if (started) return;
  started = true;
  void loadAndMeasureBaseline();
}
