/**
 * Cancellation that reaches a busy worker. While a job runs, onnxruntime-web keeps the worker's
 * thread busy (session.run resolves through microtasks only), so a `cancel(jobId)` message waits
 * until the job ends. When the page is cross-origin isolated the UI therefore also passes a shared
 * Int32Array flag per job; the worker checks the flags before every session.run, on every
 * progress report and at every stopPoint of the blocked linear algebra (core/job.ts
 * setCancelPoll), and aborts the job's AbortController, which the engine checks at its own safe points.
 */
import type { IsolatedRunner, Runner, RunnerSession } from '../src/core/runner';

export interface WorkerJob {
  controller: AbortController;
  /** Shared flag set to 1 by the UI on cancel (absent without cross-origin isolation). */
  flag: Int32Array | undefined;
}

export const jobs = new Map<string, WorkerJob>();

export function pollCancelFlags(): void {
  for (const job of jobs.values()) {
    if (job.flag && Atomics.load(job.flag, 0) !== 0 && !job.controller.signal.aborted) job.controller.abort();
  }
}

/** The same Runner, with its sessions polling the cancel flags before each run. */
export function cancellableRunner(inner: Runner): Runner {
  const isolate = inner.isolate?.bind(inner);
  return {
    // what the inner runner reads of external data is unchanged by the wrapper (core/runner.ts)
    ...(inner.readsExternalDataBySubarray ? { readsExternalDataBySubarray: true } : {}),
    ...(inner.readsStoredFiles ? { readsStoredFiles: true } : {}),
    async open(model, options) {
      const s = await inner.open(model, options);
      const session: RunnerSession = {
        inputNames: s.inputNames,
        outputNames: s.outputNames,
        backend: s.backend,
        run(feeds, outputs) {
          pollCancelFlags();
          return s.run(feeds, outputs);
        },
        release: () => s.release(),
      };
      return session;
    },
    // sessions of an isolate (a nested Worker, api/isolation.ts) check the flags the same way
    ...(isolate
      ? {
          async isolate(): Promise<IsolatedRunner> {
            const iso = await isolate();
            return { ...cancellableRunner(iso), dispose: () => iso.dispose() };
          },
        }
      : {}),
  };
}
