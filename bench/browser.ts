/**
 * Chromium benchmark (WASM in a real Worker): the built app (dist/) served by tools/serve.mjs,
 * driven through its automation hook `window.__pruneStudio.run(method, args)` (the same
 * StudioClient the UI uses). Measures calibration and criteria time (and JS heap where Chromium
 * reports it) and the latency sweep of bench/latency.ts; and, through the real UI, the live preview:
 * time from moving the global slider to the first perplexity estimate on screen (debounce,
 * allocation, worker round trip and the first batch included) and to the final preview number.
 * Needs `vite build` and /usr/bin/chromium.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chromium, type Browser, type Page } from '@playwright/test';
import { CRITERION_NAMES } from '../src/saliency/registry';
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

interface PreviewTiming {
  t0: number;
  sawPlaceholder: boolean;
  first: number | null;
  final: number | null;
}

/** Moves the global slider to `value` and times the preview card: first streamed estimate, final number. */
async function timeSliderPreview(page: Page, value: number): Promise<{ firstMs: number; finalMs: number }> {
  await page.evaluate(() => {
    const w = window as unknown as { __pv: PreviewTiming };
    const timing: PreviewTiming = { t0: performance.now(), sawPlaceholder: false, first: null, final: null };
    w.__pv = timing;
    const text = (sel: string) => document.querySelector(sel)?.textContent ?? '';
    const observer = new MutationObserver(() => {
      const ppl = text('[data-testid=preview-ppl]');
      if (ppl === '…') timing.sawPlaceholder = true;
      else if (timing.sawPlaceholder && timing.first === null && /^\d/.test(ppl)) timing.first = performance.now();
      if (timing.first !== null && text('[aria-labelledby=preview-title] .spread').startsWith('final')) {
        timing.final = performance.now();
        observer.disconnect();
      }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await page.getByTestId('global-slider').fill(String(value));
  await page.waitForFunction(() => (window as unknown as { __pv: PreviewTiming }).__pv.final !== null, null, { timeout: 300_000 });
  const t = await page.evaluate(() => (window as unknown as { __pv: PreviewTiming }).__pv);
  return { firstMs: t.first! - t.t0, finalMs: t.final! - t.t0 };
}

/** The live preview through the UI: demo model loaded, dense baseline done, magnitude scores, slider moves. */
async function benchUiPreview(browser: Browser) {
  const page = await browser.newPage();
  // tsx (esbuild keepNames) wraps named inner functions of evaluated callbacks in __name()
  await page.addInitScript('window.__name = (f) => f');
  try {
    await page.goto(`http://127.0.0.1:${PORT}/`);
    await page.getByTestId('latency-median').filter({ hasText: /^\d/ }).waitFor({ timeout: 600_000 });
    await page.getByTestId('compute-magnitude').click();
    await page.waitForFunction(
      () => (document.querySelector('[data-testid=prune-criterion]') as HTMLSelectElement | null)?.value === 'magnitude',
      null,
      {
        timeout: 120_000,
      },
    );
    await timeSliderPreview(page, 5); // discarded: the first masked runs of the session
    const rows = [];
    for (const percent of [10, 20, 30, 40, 50, 60, 70]) rows.push({ ratio: percent / 100, ...(await timeSliderPreview(page, percent)) });
    const sorted = rows.map((r) => r.firstMs).sort((a, b) => a - b);
    return {
      what: 'global slider moved -> first perplexity estimate on screen / final preview number (evaluation.txt, first 2,048 tokens)',
      rows,
      medianFirstEstimateMs: sorted[sorted.length >> 1],
      target: 'first estimate within about 1000 ms',
    };
  } finally {
    await page.close();
  }
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
    // the page loads the demo model and measures its baseline on its own: let that finish first,
    // or the timed calls below share the worker with it
    await page.getByTestId('latency-median').filter({ hasText: /^\d/ }).waitFor({ timeout: 600_000 });
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
    const preview = await benchUiPreview(browser);
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
      preview,
    };
  } finally {
    await browser.close();
    server.kill();
  }
}
