/**
 * UI-side client of the engine Worker: `run(method, args, { onProgress, signal })` calls one
 * StudioApi method in the worker, forwards progress through a comlink proxy, turns an aborted
 * signal into `cancel(jobId)`, and re-throws worker errors as typed StudioErrors (code + hint).
 */
import * as Comlink from 'comlink';
import type { Progress } from '../api/types';
import { CancelledError, RuntimeFailure, StudioError, type SerializedError } from '../core/errors';
import type { ArgsOf, Outcome, ResultOf, StudioMethod } from '../../workers/protocol';
import type { WorkerApi } from '../../workers/studio.worker';

export interface RunOptions {
  onProgress?: (p: Progress) => void;
  signal?: AbortSignal;
}

/** Rebuilds a typed error from its serialized form (the class name is kept as `name`). */
export function reviveError(s: SerializedError): Error {
  const e = s.code === 'UNKNOWN' ? new Error(s.message) : new StudioError(s.code, s.message, s.hint);
  e.name = s.name;
  return e;
}

export function isCancelled(e: unknown): boolean {
  return e instanceof StudioError && e.code === 'CANCELLED';
}

export class StudioClient {
  private readonly remote: Comlink.Remote<WorkerApi>;
  private readonly pending = new Set<(e: Error) => void>();
  private failure: Error | undefined;
  private seq = 0;

  constructor(private readonly worker: Worker) {
    this.remote = Comlink.wrap<WorkerApi>(worker);
    // A worker that fails to start (or crashes) would leave every call hanging: fail them instead.
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      this.fail(
        new RuntimeFailure(
          `The engine worker stopped: ${ev.message || 'it could not be started'}.`,
          'Reload the page; if it happens again, check the browser console.',
        ),
      );
    });
    worker.addEventListener('messageerror', () =>
      this.fail(new RuntimeFailure('A message from the engine worker could not be read.', 'Reload the page.')),
    );
  }

  private fail(e: Error): void {
    this.failure = e;
    for (const reject of this.pending) reject(e);
    this.pending.clear();
  }

  async run<M extends StudioMethod>(method: M, args: ArgsOf<M>, options: RunOptions = {}): Promise<ResultOf<M>> {
    const { onProgress, signal } = options;
    if (this.failure) throw this.failure;
    if (signal?.aborted) throw new CancelledError();
    const jobId = `${method}#${++this.seq}`;
    // A busy worker reads this shared flag between inference runs; the message is the fallback.
    const flag = typeof SharedArrayBuffer !== 'undefined' && crossOriginIsolated ? new Int32Array(new SharedArrayBuffer(4)) : undefined;
    const onAbort = () => {
      if (flag) Atomics.store(flag, 0, 1);
      void this.remote.cancel(jobId);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let reject: (e: Error) => void = () => {};
    const failed = new Promise<never>((_, r) => (reject = r));
    this.pending.add(reject);
    try {
      const call = this.remote.run(method, args as never, jobId, onProgress ? Comlink.proxy(onProgress) : undefined, flag);
      const out = (await Promise.race([call, failed])) as Outcome<ResultOf<M>>;
      if (!out.ok) throw reviveError(out.error);
      return out.value;
    } finally {
      this.pending.delete(reject);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  terminate(): void {
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}

/**
 * The engine Worker's name: `prune-studio-engine`, plus ` weights=storage` when the page was opened
 * with `?weights=storage` (every model's weights kept in browser storage and read back while used,
 * as a large model's are: for a device short of memory, and the e2e test of that path).
 */
export function engineWorkerName(search: string): string {
  const storage = new URLSearchParams(search).get('weights') === 'storage';
  // workers/studio.worker.ts reads this word of its name
  return `prune-studio-engine${storage ? ' weights=storage' : ''}`;
}

export function createStudioClient(): StudioClient {
  const worker = new Worker(new URL('../../workers/studio.worker.ts', import.meta.url), {
    type: 'module',
    name: engineWorkerName(globalThis.location?.search ?? ''),
  });
  return new StudioClient(worker);
}
