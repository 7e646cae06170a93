/** Protocol defaults of the dense baseline (shown next to every number they produce). */
import type { LatencyRequest, PerplexityRequest } from '../api/types';

export const EVALUATION_TEXT = { name: 'evaluation.txt', path: 'data/evaluation.txt' } as const;
/** A text of another domain (e-mails) that neither the demo model's training nor calibration saw (heldout.json). */
export const HELDOUT_TEXT = { name: 'heldout.txt', path: 'data/heldout.txt' } as const;

export const PERPLEXITY_DEFAULTS: Omit<PerplexityRequest, 'text'> = {
  textName: EVALUATION_TEXT.name,
  contextLength: 128,
  stride: 64,
  maxTokens: 8192,
  target: 'dense',
};

export const LATENCY_DEFAULTS: LatencyRequest = { target: 'dense', batch: 1, seq: 128, warmup: 3, runs: 10 };
