/**
 * The engine side of the cancel bench (bench/cancel.ts): a worker_thread that builds the api on
 * the WASM runner exactly as workers/studio.worker.ts does (cancellableRunner + setCancelPoll over
 * the same job table), then runs one job per message with the UI's shared cancel flag.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { createStudioApi } from '../src/api/studio';
import { dirSource } from '../src/cli/dir-source';
import { serializeError } from '../src/core/errors';
import { setCancelPoll, type Progress } from '../src/core/job';
import { createWebRunner } from '../src/runtime/ort-web';
import { cancellableRunner, jobs, pollCancelFlags } from '../workers/cancel';

export type CancelJob = 'load' | 'calibrate' | 'obs' | 'apply-obs';
export interface JobMessage {
  job: CancelJob;
  id: number;
  flag: Int32Array;
}
/** A progress report of the running job, forwarded with its time (absolute ms). */
export interface ProgressEvent {
  id: number;
  progress: string;
  at: number;
}
export interface JobReply {
  id: number;
  ok: boolean;
  code?: string;
  message?: string;
  /** performance.timeOrigin + now() when the job settled (absolute ms). */
  at: number;
  /** Progress reports seen (0 when cancelled before the first unit). */
  reports: number;
}

const { model, samples, seq } = workerData as { model: string; samples: number; seq: number };
setCancelPoll(pollCancelFlags);
const api = createStudioApi({ runner: cancellableRunner(createWebRunner()), demoUrl: '', openDir: dirSource });
const calib = readFileSync('public/data/calibration.txt', 'utf8');

async function run(job: CancelJob, options: { signal: AbortSignal; onProgress: (p: Progress) => void }): Promise<unknown> {
  if (job === 'load') return api.loadModel({ kind: 'dir', path: model }, options);
  if (job === 'calibrate') return api.calibrate({ text: calib, textName: 'calibration.txt', samples, seq, withHessians: true }, options);
  if (job === 'obs') return api.computeImportance('obs', options);
  const plan = await api.allocatePlan({ criterion: 'obs', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
  return api.applyPlan({ plan, compensation: 'obs' }, options);
}

parentPort!.on('message', async ({ job, id, flag }: JobMessage) => {
  const controller = new AbortController();
  const key = `${job}#${id}`;
  jobs.set(key, { controller, flag });
  let reports = 0;
  // As in the worker: every progress report polls the flags.
  const onProgress = (p: Progress) => {
    reports++;
    const progress = `${p.stage} ${+p.done.toFixed(2)}/${p.total}`;
    parentPort!.postMessage({ id, progress, at: performance.timeOrigin + performance.now() } satisfies ProgressEvent);
    pollCancelFlags();
  };
  const reply = (r: Omit<JobReply, 'id' | 'at' | 'reports'>) =>
    parentPort!.postMessage({ id, at: performance.timeOrigin + performance.now(), reports, ...r } satisfies JobReply);
  try {
    await run(job, { signal: controller.signal, onProgress });
    reply({ ok: true });
  } catch (e) {
    const s = serializeError(e);
    reply({ ok: false, code: s.code, message: s.message });
  } finally {
    jobs.delete(key);
  }
});
parentPort!.postMessage({ ready: true });
