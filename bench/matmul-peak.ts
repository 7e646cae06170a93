/**
 * Benchmark: the float32 MatMul throughput of onnxruntime-web's WASM build in Node (issue 11: what
 * bounds dense perplexity). One graph Y = X·W with X [rows, in] and W [in, out] at GPT-2 124M's block
 * shapes, W either an initializer (pre-packed once by the runtime) or an input (as the block-wise
 * runs feed their weights: packed on every run). Reports GFLOP/s (2·rows·in·out per run, median of
 * the timed runs) and the CPU seconds beside wall time, for 1 and 2 threads (each in its own child
 * process: onnxruntime-web sets its thread count once per process).
 *   node --import tsx bench/matmul-peak.ts [--runs 12] [--rows 1024]
 * Writes bench/results/matmul-peak-node-wasm.json.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { float32Tensor } from '../src/core/runner';
import { encodeModel, OnnxGraphBuilder } from '../src/io/onnx';
import { createWebRunner } from '../src/runtime/ort-web';
import { writeResult } from './common';

const SHAPES: [string, number, number][] = [
  ['qkv 768→2304', 768, 2304],
  ['fc1 768→3072', 768, 3072],
  ['fc2 3072→768', 3072, 768],
  ['lm head 768→8192 (one loss chunk)', 768, 8192],
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function matmulModel(rows: number, k: number, n: number, weightAsInput: boolean, w: Float32Array): Uint8Array {
  const b = new OnnxGraphBuilder('matmul');
  const x = b.addInput('x', 'float32', [rows, k]);
  const wName = weightAsInput ? b.addInput('w', 'float32', [k, n]) : b.addInitializer('w', { shape: [k, n], data: w });
  b.node('MatMul', [x, wName], { outputs: ['y'], name: 'matmul' });
  b.addOutput('y', 'float32', [rows, n]);
  return encodeModel(b.toModel({ opset: 17, producer: 'bench', producerVersion: '0' }));
}

function random(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    a[i] = s / 2 ** 32 - 0.5;
  }
  return a;
}

async function measure(threads: number, rows: number, k: number, n: number, weightAsInput: boolean, runs: number) {
  const runner = createWebRunner({ threads });
  const w = random(k * n, 7);
  const session = await runner.open(matmulModel(rows, k, n, weightAsInput, w));
  const feeds = { x: float32Tensor(random(rows * k, 3), [rows, k]), ...(weightAsInput ? { w: float32Tensor(w, [k, n]) } : {}) };
  for (let i = 0; i < 2; i++) await session.run(feeds, ['y']);
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds, ['y']);
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  await session.release();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const flops = 2 * rows * k * n;
  return {
    threads,
    weight: weightAsInput ? 'input' : 'initializer',
    medianMs: +median.toFixed(2),
    gflops: +(flops / median / 1e6).toFixed(1),
    cpuSecondsPerRun: +((cpu.user + cpu.system) / 1e6 / runs).toFixed(4),
  };
}

/** One thread count, in this process: prints its rows as one JSON line. */
async function child(threads: number, runs: number, rows: number): Promise<void> {
  const results = [];
  for (const [name, k, n] of SHAPES)
    for (const asInput of [false, true]) {
      const r = await measure(threads, rows, k, n, asInput, runs);
      console.error(`${threads} thread(s) ${name} weight ${r.weight}: ${r.medianMs} ms, ${r.gflops} GFLOP/s`);
      results.push({ shape: name, rows, k, n, ...r });
    }
  console.log(JSON.stringify(results));
}

async function main(): Promise<void> {
  const runs = arg('--runs', 12);
  const rows = arg('--rows', 1024);
  if (process.argv.includes('--child')) return child(arg('--child', 1), runs, rows);
  const load = [loadavg()[0]!];
  const results: unknown[] = [];
  for (const threads of [1, 2]) {
    const args = ['--import', 'tsx', 'bench/matmul-peak.ts', '--child', String(threads), '--runs', String(runs), '--rows', String(rows)];
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`the ${threads}-thread child exited ${r.status ?? r.signal}`);
    results.push(...(JSON.parse(r.stdout.trim().split('\n').pop()!) as unknown[]));
  }
  load.push(loadavg()[0]!);
  console.log('wrote', writeResult('matmul-peak-node-wasm', { loadAverage: load, runs, results }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
