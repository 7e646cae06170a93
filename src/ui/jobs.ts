/**
 * Engine jobs from the UI: the one worker client, and `job`, which runs an engine method as a
 * visible, cancellable job with progress and reports a failure (message + hint) in the store.
 */
import type { Progress } from '../api/types';
import { StudioError } from '../core/errors';
import { useStudio } from '../store';
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
export function job<M extends StudioMethod>(
  label: string,
  method: M,
  args: ArgsOf<M>,
  options: JobStartOptions = {},
): Promise<ResultOf<M> | undefined> {
  return multiJob(label, (signal, onProgress) => engine().run(method, args, { signal, onProgress }), options);
}

export interface JobStartOptions {
  /** Leave the last error / notice on screen (a job that follows another automatically). */
  keepMessages?: boolean;
}

/**
 * One visible, cancellable job made of several engine calls (e.g. a sweep, point by point): `body`
 * gets the job's signal and progress setter and passes them to each `engine().run`.
 */
export async function multiJob<T>(
  label: string,
  body: (signal: AbortSignal, progress: (p: Progress) => void) => Promise<T>,
  options: JobStartOptions = {},
): Promise<T | undefined> {
  const id = `job-${++jobSeq}`;
  const controller = new AbortController();
  controllers.set(id, controller);
  useStudio.getState().startJob(id, label, options.keepMessages);
  try {
    return await body(controller.signal, (p) => useStudio.getState().setProgress(id, p));
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
