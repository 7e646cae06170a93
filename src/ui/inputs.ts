/**
 * What the UI's jobs read as inputs: the evaluation and held-out texts (each fetched once) and the
 * latency request of the current settings.
 */
import type { LatencyRequest } from '../api/types';
import { FetchError } from '../core/errors';
import { useStudio } from '../store';
import { LATENCY_DEFAULTS, EVALUATION_TEXT, HELDOUT_TEXT } from './defaults';
import { report } from './jobs';

export function latencyRequest(): LatencyRequest {
  const { batch, seq } = useStudio.getState().latencySetup;
  return { ...LATENCY_DEFAULTS, batch, seq };
}

/** A shipped text under public/, fetched once (a failed fetch is retried next time). */
function shippedText(path: string): () => Promise<string> {
  let text: Promise<string> | undefined;
  return async () => {
    const url = `${import.meta.env.BASE_URL}${path}`;
    text ??= fetch(url).then(async (res) => {
      if (!res.ok) throw new FetchError(`Fetching ${url} failed with HTTP ${res.status}.`, res.status);
      return res.text();
    });
    try {
      return await text;
    } catch (e) {
      text = undefined;
      throw e;
    }
  };
}

export const fetchEvaluationText = shippedText(EVALUATION_TEXT.path);
export const fetchHeldOutText = shippedText(HELDOUT_TEXT.path);

/** The evaluation text, or undefined after reporting why it could not be read. */
export async function evaluationTextOrReport(): Promise<string | undefined> {
  try {
    return await fetchEvaluationText();
  } catch (e) {
    report('Reading the evaluation text', e);
    return undefined;
  }
}

/** The held-out text, or undefined after reporting why it could not be read. */
export async function heldOutTextOrReport(): Promise<string | undefined> {
  try {
    return await fetchHeldOutText();
  } catch (e) {
    report('Reading the held-out text', e);
    return undefined;
  }
}
