/** What the UI's jobs read as inputs: the evaluation text (fetched once) and the latency request of the current settings. */
import type { LatencyRequest } from '../api/types';
import { FetchError } from '../core/errors';
import { useStudio } from '../store';
import { LATENCY_DEFAULTS, EVALUATION_TEXT } from './defaults';
import { report } from './jobs';

export function latencyRequest(): LatencyRequest {
  const { batch, seq } = useStudio.getState().latencySetup;
  return { ...LATENCY_DEFAULTS, batch, seq };
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
