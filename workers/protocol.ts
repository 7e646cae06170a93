/**
 * The typed contract between the UI and workers/studio.worker.ts (import type only on the UI side).
 * Every StudioApi method is called as `run(method, args, jobId, onProgress)`: `args` are its
 * parameters without the trailing JobOptions; an AbortSignal cannot cross postMessage, so
 * cancellation is `cancel(jobId)`. Results come back as an Outcome so that typed errors keep their
 * code and hint (comlink's own error transfer keeps only name and message).
 */
import type { SerializedError } from '../src/core/errors';
import type { StudioApi } from '../src/api/types';

export type StudioMethod = keyof StudioApi;

/** Methods whose only parameter (if any) is the JobOptions. */
type NoArgMethod = 'criteria' | 'exportOnnx' | 'quantVariants' | 'baselineMetric';

export type ArgsOf<M extends StudioMethod> = M extends NoArgMethod ? [] : [Parameters<StudioApi[M]>[0]];

export type ResultOf<M extends StudioMethod> = Awaited<ReturnType<StudioApi[M]>>;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: SerializedError };
