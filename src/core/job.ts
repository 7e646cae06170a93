/**
 * The job kernel: what every long engine job (calibration, criteria, iterative pruning, SlimGPT,
 * loading) takes: a progress callback and an AbortSignal. It lives below api/ so that saliency/
 * and prune/ report progress without importing the api; api/types.ts re-exports it.
 * Cancellation helpers (`throwIfAborted`, `CancelledError`) are in core/errors.ts.
 */

import { throwIfAborted } from './errors';

/** The host's poll of pending cancel requests (the worker reads the UI's shared flags); none in Node. */
let cancelPoll: (() => void) | undefined;

/**
 * Installed once by the host whose cancel requests cannot arrive while the thread is busy (the
 * engine worker: it reads the UI's SharedArrayBuffer flags and aborts the jobs' AbortControllers).
 * checkpoint() and stopPoint() call it, so the one AbortSignal per job stays the only mechanism.
 */
export function setCancelPoll(poll: (() => void) | undefined): void {
  cancelPoll = poll;
}

/** The job whose long synchronous call is running (see `stoppable`), if any. */
let active: { signal: AbortSignal; what: string } | undefined;

/**
 * Runs a long synchronous computation (a factorisation at n = 3,072) so that `stopPoint()` inside
 * it throws CancelledError(what) as soon as the job is aborted. The scope is synchronous, so no
 * other job can interleave with it.
 */
export function stoppable<T>(options: JobOptions, what: string, fn: () => T): T {
  const prev = active;
  active = options.signal ? { signal: options.signal, what } : prev;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

/**
 * Called by synchronous kernels once per block (tens of milliseconds of work): inside a
 * `stoppable` scope, polls the host and throws CancelledError when the job was aborted; a no-op
 * outside one.
 */
export function stopPoint(): void {
  if (!active) return;
  cancelPoll?.();
  throwIfAborted(active.signal, active.what);
}

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
  cancelPoll?.();
  throwIfAborted(options.signal, what);
}

export interface JobOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}
