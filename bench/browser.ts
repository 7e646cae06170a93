/**
 * Chromium benchmark (WASM in a real Worker): the built app (dist/) served by tools/serve.mjs,
 * driven through its automation hook `window.__pruneStudio.run(method, args)` (the same
 * StudioClient the UI uses). Measures calibration and criteria time (and JS heap where Chromium
 * reports it) and the latency sweep of bench/latency.ts. Needs `vite build` and /usr/bin/chromium.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chromium, type Page } from '@playwright/test';
import { CRITERION_NAMES } from '../src/saliency/types';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/harness/chromium';

const PORT = 4391;

async function call<T>(page: Page, method: string, args: unknown[]): Promise<{ value: T; ms: number; heapMb: number | null }> {
  return page.evaluate(
    async ({ method, args }) => {
      const hook = (window as unknown as { __pruneStudio: { run(m: string, a: unknown[]): Promise<unknown> } }).__pruneStudio;
      const t0 = performance.now();
      const value = await hook.run(method, args);
      const mem = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory;
      return { value: value as never, ms: performance.now() - t0, heapMb: mem ? mem.usedJSHeapSize / 2 ** 20 : null };
    },
    { method, args },
  ) as Promise<{ value: T; ms: number; heapMb: number | null }>;
}

export async function benchBrowser() {
  const server = spawn('node', ['tools/serve.mjs', 'dist', String(PORT)], { stdio: 'ignore' });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.waitForFunction(
      () => 'crossOriginIsolated' in window && (window as unknown as { __pruneStudio?: unknown }).__pruneStudio,
      null,
      { timeout: 120_000 },
    );
    const load = await call<{ backend: unknown; parameters: number }>(page, 'loadModel', [{ kind: 'demo' }]);
    const calibration = await call(page, 'calibrate', [
      { text: readFileSync('public/data/calibration.txt', 'utf8'), textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true },
    ]);
    const criteria: Record<string, { ms: number; heapMb: number | null }> = {};
    for (const name of CRITERION_NAMES) {
      const r = await call(page, 'computeImportance', [name]);
      criteria[name] = { ms: Math.round(r.ms), heapMb: r.heapMb && Math.round(r.heapMb) };
    }
    const req = { batch: 1, seq: 128, warmup: 5, runs: 20 };
    const rows = [];
    for (const ratio of [0, 0.1, 0.3, 0.5, 0.7]) {
      const plan = await call(page, 'allocatePlan', [
        { criterion: 'magnitude', allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 },
      ]);
      const applied = await call<{ cost: { flops: number }; denseCost: { flops: number }; parameters: number }>(page, 'applyPlan', [
        { plan: plan.value, compensation: 'none' },
      ]);
      // a fresh worker's first runs are slow (thread pool, JIT): one discarded pass before the sweep
      if (ratio === 0) await call(page, 'compareLatency', [{ ...req, runs: 20 }]);
      // dense and pruned runs interleaved in the worker (api.compareLatency)
      const { value: cmp } = await call<{ dense: { medianMs: number }; pruned: { medianMs: number; backend: unknown }; speedup: number }>(
        page,
        'compareLatency',
        [req],
      );
      const flopBoundSpeedup = applied.value.denseCost.flops / applied.value.cost.flops;
      rows.push({
        ratio,
        denseMs: cmp.dense.medianMs,
        prunedMs: cmp.pruned.medianMs,
        measuredSpeedup: cmp.speedup,
        flopBoundSpeedup,
        efficiency: cmp.speedup / flopBoundSpeedup,
        backend: cmp.pruned.backend,
      });
    }
    return {
      backend: load.value.backend,
      load: { ms: Math.round(load.ms) },
      calibration: {
        samples: 16,
        seq: 128,
        withHessians: true,
        ms: Math.round(calibration.ms),
        heapMb: calibration.heapMb && Math.round(calibration.heapMb),
      },
      criteria,
      latency: { request: req, rows, target: 'efficiency >= 0.8 at ratio 0.5' },
    };
  } finally {
    await browser.close();
    server.kill();
  }
}
