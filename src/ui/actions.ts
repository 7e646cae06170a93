/**
 * UI actions: start engine jobs through the worker client and put their results in the store.
 * Each job has progress, can be cancelled, and on failure shows its message + hint while every
 * earlier result stays on screen.
 */
import type { ModelSource, Progress } from '../api/types';
import { loadCriteria, restoreCachedScores } from './importance-actions';
import { FetchError, StudioError } from '../core/errors';
import { useStudio } from '../store';
import { EVALUATION_TEXT, LATENCY_DEFAULTS, PERPLEXITY_DEFAULTS } from './defaults';
import { createStudioClient, isCancelled, type StudioClient } from './studio-client';
import type { ArgsOf, ResultOf, StudioMethod } from '../../workers/protocol';

let client: StudioClient | undefined;
export function engine(): StudioClient {
  client ??= createStudioClient();
  return client;
}

const controllers = new Map<string, AbortController>();
let jobSeq = 0;

/** Runs one engine method as a visible, cancellable job; returns undefined when it failed or was cancelled. */
export async function job<M extends StudioMethod>(label: string, method: M, args: ArgsOf<M>): Promise<ResultOf<M> | undefined> {
  const store = useStudio.getState();
  const id = `job-${++jobSeq}`;
  const controller = new AbortController();
  controllers.set(id, controller);
  store.startJob(id, label);
  try {
    return await engine().run(method, args, {
      signal: controller.signal,
      onProgress: (p: Progress) => useStudio.getState().setProgress(id, p),
    });
  } catch (e) {
    report(label, e);
    return undefined;
  } finally {
    controllers.delete(id);
    useStudio.getState().endJob(id);
  }
}

export function report(context: string, e: unknown): void {
  const { setError, setNotice } = useStudio.getState();
  if (isCancelled(e)) {
    setNotice(`${context} was cancelled.`);
    return;
  }
  if (e instanceof StudioError) {
    setError({ context, code: e.code, message: e.message, hint: e.hint });
  } else {
    const message = e instanceof Error ? e.message : String(e);
    setError({
      context,
      code: 'UNKNOWN',
      message,
      hint: 'This is unexpected: reload the page and retry; the browser console has details.',
    });
  }
}

export function cancelJob(id: string): void {
  controllers.get(id)?.abort();
}

export function dismissError(): void {
  useStudio.getState().setError(null);
}

function busy(): boolean {
  return useStudio.getState().job !== null;
}

async function loadSource(source: ModelSource): Promise<boolean> {
  const { setModel, setDensePerplexity, setDenseLatency, setUnitLatency, setCalibration, clearScores } = useStudio.getState();
  if (busy()) return false;
  const summary = await job('Loading model', 'loadModel', [source]);
  if (!summary) return false;
  setModel(summary);
  setDensePerplexity(null);
  setDenseLatency(null);
  setUnitLatency(null);
  setCalibration(null);
  clearScores();
  await loadCriteria();
  await restoreCachedScores();
  return true;
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
  if (busy() || !useStudio.getState().model) return false;
  const text = await evaluationTextOrReport();
  if (text === undefined) return false;
  const result = await job('Perplexity', 'evaluatePerplexity', [{ ...PERPLEXITY_DEFAULTS, text }]);
  if (result) useStudio.getState().setDensePerplexity(result);
  return result !== undefined;
}

export async function runDenseLatency(): Promise<boolean> {
  if (busy() || !useStudio.getState().model) return false;
  const result = await job('Latency', 'measureLatency', [LATENCY_DEFAULTS]);
  if (result) useStudio.getState().setDenseLatency(result);
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
