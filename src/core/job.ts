/**
 * The job kernel: what every long engine job (calibration, criteria, iterative pruning, SlimGPT,
 * loading) takes: a progress callback and an AbortSignal. It lives below api/ so that saliency/
 * and prune/ report progress without importing the api; api/types.ts re-exports it.
 * Cancellation helpers (`throwIfAborted`, `CancelledError`) are in core/errors.ts.
 */

export interface Progress {
  /** Short machine-readable stage, e.g. 'download', 'build', 'session', 'perplexity'. */
  stage: string;
  done: number;
  total: number;
  /** Human-readable text for the progress bar. */
  message?: string;
}

export type ProgressCallback = (p: Progress) => void;

export interface JobOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}
