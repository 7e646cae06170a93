/**
 * Benchmark: peak memory (Node RSS, sampled every 50 ms) of each step of the prune path on a
 * size-faithful model, as a multiple of its fp32 weight bytes: load (build + open the eval
 * session), dense perplexity, latency, calibration with Hessians, apply at 50% (no compensation),
 * export. Also the time of each step and of one perplexity window. The steps run in one process, in
 * order, so each peak includes what earlier steps left (the wasm heap never shrinks): cumulative.
 *   npm run bench -- --only memory [--model tools/.cache/scale-models/gpt2-124m] [--tag after]
 * (also runs alone: node --import tsx bench/memory.ts --model <dir> --tag <name>).
 * The model folder comes from tools/scale-models (npm run scale-models); without it the step is skipped.
 */
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createStudioApi } from '../src/api/studio';
import type { Runner } from '../src/core/runner';
import { dirSource } from '../src/cli/dir-source';

export const MEMORY_MODEL = 'tools/.cache/scale-models/gpt2-124m';

export interface MemoryBenchOptions {
  model?: string;
  /** Tokens scored by dense perplexity (context 1024, stride 512). */
  tokens?: number;
  samples?: number;
  seq?: number;
  log?: (line: string) => void;
}

interface Step {
  ms: number;
  peakRssMb: number;
  peakOverWeights: number;
  rssAfterMb: number;
}

const MB = 2 ** 20;

/** Runs fn while sampling RSS every 50 ms; the peak includes the RSS at start and end. */
async function sampled<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; peak: number; after: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const t0 = performance.now();
  try {
    const value = await fn();
    const after = process.memoryUsage().rss;
    return { value, ms: performance.now() - t0, peak: Math.max(peak, after), after };
  } finally {
    clearInterval(timer);
  }
}

export async function benchMemory(runner: Runner, opts: MemoryBenchOptions = {}) {
  const model = opts.model ?? MEMORY_MODEL;
  if (!existsSync(join(model, 'config.json'))) return { skipped: `no model at ${model} (npm run scale-models -- --models gpt2-124m)` };
  const log = opts.log ?? (() => {});
  const text = readFileSync('public/data/evaluation.txt', 'utf8');
  const calib = readFileSync('public/data/calibration.txt', 'utf8');
  const tokens = opts.tokens ?? 2048;
  const samples = opts.samples ?? 4;
  const seq = opts.seq ?? 128;
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
  const baseRss = process.memoryUsage().rss;
  let weightBytes = 0;
  let overall = baseRss;
  const steps: Record<string, Step> = {};
  const step = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const r = await sampled(fn);
    overall = Math.max(overall, r.peak);
    steps[name] = {
      ms: Math.round(r.ms),
      peakRssMb: Math.round(r.peak / MB),
      peakOverWeights: weightBytes ? +(r.peak / weightBytes).toFixed(2) : 0,
      rssAfterMb: Math.round(r.after / MB),
    };
    log(`${name}: ${JSON.stringify(steps[name])}`);
    return r.value;
  };
  const summary = await step('load', () => api.loadModel({ kind: 'dir', path: model }));
  weightBytes = summary.weightBytes;
  steps.load!.peakOverWeights = +((steps.load!.peakRssMb * MB) / weightBytes).toFixed(2);
  const ctx = Math.min(1024, summary.spec.maxPositions);
  const ppl = await step('perplexity', () =>
    api.evaluatePerplexity({ text, textName: 'evaluation.txt', contextLength: ctx, stride: ctx / 2, maxTokens: tokens }),
  );
  const oneWindow = await sampled(() =>
    api.evaluatePerplexity({ text, textName: 'evaluation.txt', contextLength: ctx, stride: ctx, maxTokens: ctx }),
  );
  const latency = await step('latency', () => api.measureLatency({ batch: 1, seq: 128, runs: 3, warmup: 1 }));
  await step('calibration', () => api.calibrate({ text: calib, textName: 'calibration.txt', samples, seq, withHessians: true }));
  await step('magnitude', () => api.computeImportance('magnitude'));
  const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
  await step('apply', () => api.applyPlan({ plan, compensation: 'none' }));
  await step('export', () => api.exportModel());
  return {
    model,
    parameters: summary.parameters,
    weightMb: Math.round(weightBytes / MB),
    backend: summary.backend,
    protocol: {
      perplexity: { requestedTokens: tokens, ...ppl.protocol, perplexity: ppl.perplexity },
      calibration: { samples, seq, withHessians: true },
      latency: { batch: 1, seq: 128, runs: 3, warmup: 1 },
      apply: { criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, compensation: 'none' },
    },
    baseRssMb: Math.round(baseRss / MB),
    peakRssMb: Math.round(overall / MB),
    peakOverWeights: +(overall / weightBytes).toFixed(2),
    perplexityWindowMs: Math.round(oneWindow.ms),
    latencyMedianMs: +latency.medianMs.toFixed(1),
    steps,
  };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

/** Standalone: node --import tsx bench/memory.ts --model <dir> --tag <name> (writes bench/results/memory-node-wasm[-tag].json). */
async function main(args: string[]) {
  const { createWebRunner } = await import('../src/runtime/ort-web');
  const result = await benchMemory(createWebRunner(), { model: flag(args, 'model'), log: (l) => console.log(l) });
  const tag = flag(args, 'tag');
  mkdirSync('bench/results', { recursive: true });
  const path = `bench/results/memory-node-wasm${tag ? `-${tag}` : ''}.json`;
  writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote', path);
}

if (process.argv[1]?.endsWith('bench/memory.ts'))
  main(process.argv.slice(2)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
