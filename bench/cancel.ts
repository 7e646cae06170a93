/**
 * Benchmark: cancel latency on a size-faithful model (gpt2-124m, Node, WASM). The engine runs in
 * a worker_thread (bench/cancel-worker.ts) built like the browser's engine worker; this thread
 * plays the UI: it starts a job, sets the job's SharedArrayBuffer cancel flag at a random time,
 * and records how long the job takes to stop (flag set -> the job's CancelledError arrives).
 * Jobs: calibration with Hessians, the OBS criterion, apply with OBS compensation. Each is first
 * run to completion (its full time), then cancelled `trials` times at uniform random times in 5-60 % of it.
 *   npm run bench -- --only cancel [--model <dir>] [--trials 3] [--samples 4] [--seq 128] [--jobs calibrate,obs,apply-obs]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CancelJob, JobReply, ProgressEvent } from './cancel-worker';
import { MEMORY_MODEL } from './memory';

export interface CancelBenchOptions {
  model?: string;
  trials?: number;
  samples?: number;
  seq?: number;
  seed?: number;
  /** Jobs to measure (default all three; obs and apply-obs need calibrate before them). */
  jobs?: readonly CancelJob[];
  log?: (line: string) => void;
}

interface Trial {
  /** When the flag was set, ms after the job started. */
  cancelAtMs: number;
  /** Flag set -> job settled (ms); null when the job finished before the cancel. */
  stopMs: number | null;
  /** CPU ms of the process (engine + onnxruntime threads) in that interval: less inflated by other load than stopMs. */
  stopCpuMs: number | null;
  outcome: string;
  /** The last progress report before the cancel (what was running). */
  runningAt: string | null;
}

const now = () => performance.timeOrigin + performance.now();

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

export async function benchCancel(opts: CancelBenchOptions = {}) {
  const model = opts.model ?? MEMORY_MODEL;
  if (!existsSync(join(model, 'config.json'))) return { skipped: `no model at ${model} (npm run scale-models -- --models gpt2-124m)` };
  const log = opts.log ?? (() => {});
  const trials = opts.trials ?? 3;
  const samples = opts.samples ?? 4;
  const seq = opts.seq ?? 128;
  const random = rng(opts.seed ?? 11);
  // tsx's loader does not reach worker threads by execArgv here: register it inside the worker, then import the .ts file.
  const entry = new URL('./cancel-worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(entry)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { model, samples, seq } });
  const replies = new Map<number, (r: JobReply) => void>();
  const events: ProgressEvent[] = [];
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: JobReply | ProgressEvent | { ready: true }) => {
      if ('ready' in m) return resolve();
      if ('progress' in m) return void events.push(m);
      replies.get(m.id)?.(m);
    });
  });
  let seqNo = 0;
  /** Runs one job; sets its cancel flag `cancelAfterMs` after the start (never when undefined). */
  const run = async (job: CancelJob, cancelAfterMs?: number) => {
    const id = ++seqNo;
    const flag = new Int32Array(new SharedArrayBuffer(4));
    const done = new Promise<JobReply>((resolve) => replies.set(id, resolve));
    const start = now();
    const cpu0 = process.cpuUsage();
    worker.postMessage({ job, id, flag });
    let cancelAt: number | undefined;
    let cancelCpu: NodeJS.CpuUsage | undefined;
    const timer =
      cancelAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            cancelAt = now();
            cancelCpu = process.cpuUsage();
            Atomics.store(flag, 0, 1);
          }, cancelAfterMs);
    const r = await done;
    const stopCpu = cancelCpu && process.cpuUsage(cancelCpu);
    clearTimeout(timer);
    replies.delete(id);
    const mine = events.filter((e) => e.id === id);
    const before = cancelAt === undefined ? [] : mine.filter((e) => e.at <= cancelAt!);
    return {
      timeline: mine.map((e) => `${Math.round(e.at - start)} ms: ${e.progress}`),
      runningAt: before.length ? before[before.length - 1]!.progress : null,
      reply: r,
      ms: r.at - start,
      /** CPU seconds of the whole process (engine + onnxruntime threads; this thread idles). */
      cpuS: ((c) => (c.user + c.system) / 1e6)(process.cpuUsage(cpu0)),
      cancelAtMs: cancelAt === undefined ? null : cancelAt - start,
      stopMs: cancelAt === undefined ? null : r.at - cancelAt,
      stopCpuMs: stopCpu ? (stopCpu.user + stopCpu.system) / 1000 : null,
    };
  };
  const results: Record<
    string,
    { fullMs: number; fullCpuS: number; progress: string[]; trials: Trial[]; maxStopMs: number | null; loadAverage?: number[] }
  > = {};
  try {
    const load = await run('load');
    if (!load.reply.ok) throw new Error(`load failed: ${load.reply.message}`);
    log(`load: ${Math.round(load.ms)} ms`);
    for (const job of opts.jobs ?? (['calibrate', 'obs', 'apply-obs'] as const)) {
      const full = await run(job);
      if (!full.reply.ok) throw new Error(`${job} failed: ${full.reply.message}`);
      log(`${job}: full run ${Math.round(full.ms)} ms, ${full.cpuS.toFixed(1)} CPU-s; progress: ${full.timeline.join(', ')}`);
      const list: Trial[] = [];
      for (let t = 0; t < trials; t++) {
        const at = Math.round((0.05 + 0.55 * random()) * full.ms);
        const r = await run(job, at);
        const trial: Trial = {
          cancelAtMs: Math.round(r.cancelAtMs ?? at),
          stopMs: r.reply.ok || r.stopMs === null ? null : Math.round(r.stopMs),
          stopCpuMs: r.reply.ok || r.stopCpuMs === null ? null : Math.round(r.stopCpuMs),
          outcome: r.reply.ok ? 'finished before the cancel' : (r.reply.code ?? 'error'),
          runningAt: r.runningAt,
        };
        log(
          `${job}: cancel at ${trial.cancelAtMs} ms (during ${trial.runningAt}) -> ${trial.outcome}, stopped after ${trial.stopMs} ms (${trial.stopCpuMs} CPU-ms)`,
        );
        list.push(trial);
      }
      const stops = list.flatMap((t) => (t.stopMs === null ? [] : [t.stopMs]));
      results[job] = {
        fullMs: Math.round(full.ms),
        fullCpuS: +full.cpuS.toFixed(1),
        progress: full.timeline,
        trials: list,
        maxStopMs: stops.length ? Math.max(...stops) : null,
        loadAverage: loadavg().map((x) => +x.toFixed(1)),
      };
    }
  } finally {
    await worker.terminate();
  }
  const all = Object.values(results).flatMap((r) => r.trials.flatMap((t) => (t.stopMs === null ? [] : [t.stopMs])));
  return {
    model,
    loadAverage: loadavg().map((x) => +x.toFixed(1)),
    backend: 'wasm (onnxruntime-web in Node, default threads)',
    protocol: {
      calibration: { samples, seq, withHessians: true },
      apply: { criterion: 'obs', allocation: 'uniform', heads: 0.5, ffn: 0.5 },
      trials,
    },
    targetStopMs: 2000,
    maxStopMs: all.length ? Math.max(...all) : null,
    jobs: results,
  };
}
