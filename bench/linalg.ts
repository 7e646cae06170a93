/**
 * Float64 linear-algebra micro-benchmark at GPT-2 124M's widths (n = 768 attention, 3,072 FFN):
 * Cholesky, SPD inverse, the OBS criterion's per-layer work, one joint OBS update removing 50% of
 * W [768, n]'s columns (compensation: no downdate), and SlimGPT's FFN removal at 50% with its
 * dynamic group sizes. Wall and CPU time (process.cpuUsage) per case: the CPU is shared.
 * `--scalar` times the scalar kernel (no WebAssembly SIMD) into linalg-node-scalar.json.
 * Hessians are 2XᵀX/N of random activations with a few outlier channels (rank < n, as with a
 * short calibration set), so damping matters as it does on real models.
 */
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { simdKernel } from '../src/core/gemm-simd';
import { setSimd } from '../src/core/linalg-blocked';
import { gemmThreadStats, setGemmThreads, warmGemmThreads } from '../src/core/gemm-threads';
import { useNodeGemmThreads } from '../src/cli/gemm-threads-node';
import { cholesky, inverseSpd, prepareHessian } from '../src/core/linalg';
import { tensor } from '../src/core/tensor';
import { mulberry32 } from '../src/eval/generate';
import { obsState, removeColumns } from '../src/prune/obs-update';
import { removeChannelsDynamic, removeGroupsGreedy } from '../src/prune/slimgpt-obs';
import { obsLayerErrors } from '../src/saliency/criteria/obs';

export interface LinalgCase {
  name: string;
  n: number;
  wallS: number;
  cpuS: number;
}

function measure(name: string, n: number, fn: () => unknown): LinalgCase {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { name, n, wallS: +wallS.toFixed(3), cpuS: +((c.user + c.system) / 1e6).toFixed(3) };
}

/** 2XᵀX/N of `tokens` random activations (XᵀX stored transposed so the loops are contiguous). */
export function syntheticHessian(n: number, tokens: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const xt = new Float64Array(n * tokens); // [n, tokens]
  for (let i = 0; i < n; i++) {
    const scale = r() < 0.02 ? 20 : 1;
    for (let t = 0; t < tokens; t++) xt[i * tokens + t] = scale * (r() * 2 - 1);
  }
  const h = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let t = 0; t < tokens; t++) s += xt[i * tokens + t]! * xt[j * tokens + t]!;
      h[i * n + j] = h[j * n + i] = (2 * s) / tokens;
    }
  }
  return h;
}

function randomWeight(rows: number, n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: rows * n }, () => (r() * 2 - 1) * 0.02);
}

export function benchLinalg(opts: { sizes?: number[]; simd?: boolean; log?: (l: string) => void } = {}) {
  const threads = gemmThreadStats();
  const sizes = opts.sizes ?? [768, 3072];
  setSimd(opts.simd ?? true);
  const kernel = opts.simd !== false && simdKernel() ? 'wasm-simd' : 'scalar';
  const loadBefore = loadavg();
  const rows = 768;
  const tokens = 1024;
  const cases: LinalgCase[] = [];
  const push = (c: LinalgCase) => {
    cases.push(c);
    opts.log?.(`${c.name} n=${c.n}: ${c.wallS} s wall, ${c.cpuS} s CPU`);
  };
  for (const n of sizes) {
    const h = syntheticHessian(n, tokens, n);
    const hd = prepareHessian(h, n, 0.01).h;
    const w = randomWeight(rows, n, n + 1);
    push(measure('cholesky', n, () => cholesky(hd, n)));
    push(measure('inverseSpd', n, () => inverseSpd(hd, n, 'H')));
    const hA = syntheticHessian(768, tokens, 7);
    const lin = (cols: number, data: Float32Array) => ({ weight: tensor([rows, cols], data) });
    // The OBS criterion per layer: a 768-wide attention Hessian plus an n-wide FFN Hessian.
    push(measure('obsCriterionLayer', n, () => obsLayerErrors(lin(768, randomWeight(rows, 768, 3)), lin(n, w), hA, h, 64)));
    const half = Array.from({ length: n / 2 }, (_, i) => 2 * i + (i % 3 === 0 ? 1 : 0));
    push(
      measure('obsUpdate50', n, () => {
        const st = obsState(w, rows, n, h);
        removeColumns(st, half, 'half', false);
      }),
    );
    push(
      measure('slimgptFfn50', n, () => {
        const st = obsState(w, rows, n, h);
        removeChannelsDynamic(st, n / 2);
      }),
    );
    if (n === 768) {
      push(
        measure('slimgptHeads50', n, () => {
          const st = obsState(w, rows, n, h);
          removeGroupsGreedy(st, 64, 6);
        }),
      );
    }
  }
  // GPT-2 124M: 12 layers, each one 768-wide attention and one 3,072-wide FFN projection.
  const at = (name: string, n: number) => cases.find((c) => c.name === name && c.n === n);
  const obsLayer = at('obsCriterionLayer', 3072);
  const slim = at('slimgptFfn50', 3072);
  const heads = at('slimgptHeads50', 768);
  const gpt2 = {
    obsCriterion12Layers: obsLayer && { wallS: +(12 * obsLayer.wallS).toFixed(1), cpuS: +(12 * obsLayer.cpuS).toFixed(1) },
    slimgpt12Layers: slim &&
      heads && { wallS: +(12 * (slim.wallS + heads.wallS)).toFixed(1), cpuS: +(12 * (slim.cpuS + heads.cpuS)).toFixed(1) },
  };
  setSimd(true);
  // 1-minute load average before and after: wall time is only meaningful when it is below the core count.
  const threadedCalls = gemmThreadStats().threadedCalls - threads.threadedCalls;
  return { kernel, threads: threads.helpers + 1, threadedCalls, loadAverage: [loadBefore[0], loadavg()[0]], rows, tokens, cases, gpt2 };
}

/**
 * Attaches the numbers measured before the blocked kernels (bench/results/linalg-node-before.json,
 * the unblocked code at commit 5ebc74b) and the CPU-time speedup per case, when present.
 */
export function withBefore<T extends { cases: LinalgCase[] }>(result: T) {
  const path = 'bench/results/linalg-node-before.json';
  if (!existsSync(path)) return result;
  const before = JSON.parse(readFileSync(path, 'utf8')) as { cases: LinalgCase[] };
  const speedupCpu = result.cases.map((c) => {
    const b = before.cases.find((x) => x.name === c.name && x.n === c.n);
    return { name: c.name, n: c.n, speedupCpu: b ? +(b.cpuS / c.cpuS).toFixed(1) : null };
  });
  return { ...result, speedupCpu, before };
}

/**
 * benchLinalg on one thread, then with the SIMD products split over one helper thread per core
 * (core/gemm-threads.ts; results are bitwise equal), with the wall-time speedup per case.
 */
export async function benchLinalgThreads(opts: { simd?: boolean; log?: (l: string) => void } = {}) {
  setGemmThreads(undefined, 0);
  const one = benchLinalg(opts);
  useNodeGemmThreads();
  const warm = await warmGemmThreads();
  opts.log?.(`threads: ${gemmThreadStats().helpers + 1}${warm ? '' : ' (helpers did not start)'}`);
  const threaded = benchLinalg(opts);
  setGemmThreads(undefined, 0);
  const speedupWall = threaded.cases.map((c) => {
    const o = one.cases.find((x) => x.name === c.name && x.n === c.n);
    return { name: c.name, n: c.n, speedupWall: o ? +(o.wallS / c.wallS).toFixed(2) : null };
  });
  return { ...one, threaded: { ...threaded, speedupWall } };
}
