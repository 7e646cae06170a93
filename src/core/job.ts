/**
 * The job kernel: what every long engine job (calibration, criteria, iterative pruning, SlimGPT,
 * loading) takes: a progress callback and an AbortSignal. It lives below api/ so that saliency/
 * and prune/ report progress without importing the api; api/types.ts re-exports it.
 * Cancellation helpers (`throwIfAborted`, `CancelledError`) are in core/errors.ts.
 */

import { throwIfAborted } from './errors';

export interface Progress {
  /** Short machine-readable stage, e.g. 'download', 'build', 'session', 'perplexity'. */
  stage: string;
  done: number;
  total: number;
  /** Human-readable text for the progress bar. */
  message?: string;
}

export type ProgressCallback = (p: Progress) => void;

/**
 * Between two units of a long computation (a layer, an inversion, a group of removed columns):
 * reports the unit (in the worker, a report also polls the UI's cancel flag), yields one macrotask
 * so a pending cancel message can arrive, then throws CancelledError when the job was aborted.
 */
export async function checkpoint(options: JobOptions, what: string, progress?: Progress): Promise<void> {
  if (progress) options.onProgress?.(progress);
  if (options.signal) await new Promise<void>((resolve) => setTimeout(resolve, 0));
  throwIfAborted(options.signal, what);
}

export interface JobOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}
