/**
 * Chromium benchmark of recovery training (issue 15, target: under 2 minutes on the demo model):
 * the built app (dist/) in Debian Chromium, api.recover run in the real Worker (onnxruntime-web WASM)
 * through the automation hook `window.__pruneStudio.run`, on the setup of bench/recovery.ts at 50%
 * (Taylor, uniform, OBS; 60 Adam steps at 2e-4 on 64 x 128 tokens of calibration.txt, 4 a step),
 * so the wall time compares with bench/results/recovery-node-wasm.json. Records the wall time of the
 * whole recover call (teacher logits, training, the final 8,192-token perplexity), the engine's own
 * training time, the time to the first step, each step's time from the progress reports, and the
 * curve. Needs `vite build`. Run: `node --import tsx bench/recovery-browser.ts [--steps N]`;
 * writes bench/results/recovery-chromium-wasm.json.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../e2e/harness/chromium';
import { cpuSeconds } from './chromium-procs';
import { writeResult } from './common';

const PORT = 4393;
const CALIB = readFileSync('public/data/calibration.txt', 'utf8');
const EVAL = readFileSync('public/data/evaluation.txt', 'utf8');
const HELDOUT = readFileSync('public/data/heldout.txt', 'utf8');
const PROTOCOL = { contextLength: 128, stride: 64, maxTokens: 8192 };

interface Logged {
  t: number;
  stage: string;
  done: number;
  total: number;
  message?: string;
}

async function call<T>(page: Page, method: string, args: unknown[]): Promise<{ value: T; ms: number; t0: number }> {
  return page.evaluate(
    async ({ method, args }) => {
      const hook = (window as unknown as { __pruneStudio: { run(m: string, a: unknown[]): Promise<unknown> } }).__pruneStudio;
      const t0 = performance.now();
      const value = await hook.run(method, args);
      return { value: value as never, ms: performance.now() - t0, t0 };
    },
    { method, args },
  ) as Promise<{ value: T; ms: number; t0: number }>;
}

/**
 * CPU seconds (user + system) used so far by this process's descendants (the Chromium processes,
 * the static server), from /proc; null where /proc is missing. On a shared machine the wall time
 * depends on the load; the CPU time much less.
 */
function childCpuSeconds(): number | null {
  try {
    return cpuSeconds([]);
  } catch {
    return null;
  }
}

const ppl = async (page: Page, text: string, textName: string) =>
  (await call<{ perplexity: number }>(page, 'evaluatePerplexity', [{ ...PROTOCOL, text, textName, target: 'pruned' }])).value.perplexity;

/** Per-step times from the progress log of one recover call (messages "Recovery step i/n: ..."). */
function stepTimes(log: Logged[], t0: number) {
  const steps = log.filter((p) => p.stage === 'recovery' && /^Recovery step \d+/.test(p.message ?? ''));
  const firstStepMs = steps[0] ? steps[0].t - t0 : null;
  const gaps = steps.slice(1).map((p, i) => p.t - steps[i]!.t);
  const sorted = [...gaps].sort((a, b) => a - b);
  return {
    firstStepMs: firstStepMs && Math.round(firstStepMs),
    medianStepMs: sorted.length ? Math.round(sorted[sorted.length >> 1]!) : null,
    lastStepMs: steps.at(-1) ? Math.round(steps.at(-1)!.t - t0) : null,
  };
}

export async function benchRecoveryBrowser(o: { steps?: number; ratio?: number } = {}) {
  const steps = o.steps ?? 60;
  const ratio = o.ratio ?? 0.5;
  const server = spawn('node', ['tools/serve.mjs', 'dist', String(PORT)], { stdio: 'ignore' });
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    await page.addInitScript('window.__name = (f) => f');
    await page.goto(`http://127.0.0.1:${PORT}/`);
    // the page loads the demo model and measures its baseline on its own: let that finish first
    await page.getByTestId('latency-median').filter({ hasText: /^\d/ }).waitFor({ timeout: 600_000 });
    const load = await call<{ backend: unknown }>(page, 'loadModel', [{ kind: 'demo' }]);
    await call(page, 'calibrate', [{ text: CALIB, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true }]);
    await call(page, 'computeImportance', ['taylor']);
    const plan = await call(page, 'allocatePlan', [{ criterion: 'taylor', allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 }]);
    await call(page, 'applyPlan', [{ plan: plan.value, compensation: 'obs' }]);
    const before = { evaluation: await ppl(page, EVAL, 'evaluation.txt'), heldOut: await ppl(page, HELDOUT, 'heldout.txt') };
    const training = { text: CALIB, textName: 'calibration.txt', samples: 64, seq: 128 };
    await page.evaluate(() => ((window as unknown as { __pruneStudioProgress: unknown[] }).__pruneStudioProgress = []));
    const cpu0 = childCpuSeconds();
    const load0 = loadavg()[0]!;
    const rec = await call<{ ms: number; curve: { step: number; loss: number; kl: number }[]; perplexity: { perplexity: number } }>(
      page,
      'recover',
      [{ steps, learningRate: 2e-4, training, perplexity: { ...PROTOCOL, text: EVAL, textName: 'evaluation.txt' } }],
    );
    const cpu1 = childCpuSeconds();
    const load1 = loadavg()[0]!;
    const log = await page.evaluate(() => (window as unknown as { __pruneStudioProgress: Logged[] }).__pruneStudioProgress);
    await page.evaluate(() => delete (window as unknown as { __pruneStudioProgress?: unknown }).__pruneStudioProgress);
    const after = { evaluation: rec.value.perplexity.perplexity, heldOut: await ppl(page, HELDOUT, 'heldout.txt') };
    const wallMs = Math.round(rec.ms);
    return {
      browser: `Chromium ${browser.version()}`,
      backend: load.value.backend,
      setup: {
        ratio,
        criterion: 'taylor',
        allocation: 'uniform',
        compensation: 'obs',
        steps,
        learningRate: 2e-4,
        batch: 4,
        training: { textName: training.textName, samples: training.samples, seq: training.seq },
        loss: 'cross-entropy to the dense model (kl 1, lm 0)',
        perplexity: { ...PROTOCOL, evaluation: 'evaluation.txt', heldOut: 'heldout.txt' },
      },
      recovery: {
        wallMs,
        wallSeconds: +(wallMs / 1000).toFixed(1),
        what: 'whole api.recover call in the Worker: dense teacher logits, training graph, the steps, install, 8,192-token perplexity',
        engineMs: Math.round(rec.value.ms),
        cpuSeconds: cpu0 !== null && cpu1 !== null ? +(cpu1 - cpu0).toFixed(1) : null,
        cpuWhat:
          'user + system CPU seconds of the Chromium processes during the call (load-independent; ort-web runs up to 2 threads here)',
        loadAverage: { before: +load0.toFixed(2), after: +load1.toFixed(2), cores: availableParallelism() },
        ...stepTimes(log, rec.t0),
        target: 'under 120 s',
        met: wallMs < 120_000,
      },
      perplexity: { before, after },
      curve: rec.value.curve.map((p) => ({ step: p.step, loss: +p.loss.toFixed(4), kl: +p.kl.toFixed(4) })),
      note: 'Shared, noisy 2-core machine: compare with the Node run of bench/recovery.ts (recovery-node-wasm.json) made on the same machine.',
    };
  } finally {
    await browser.close();
    server.kill();
  }
}

const flag = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : undefined;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const steps = flag('--steps');
  const result = await benchRecoveryBrowser(steps ? { steps } : {});
  console.log(JSON.stringify(result.recovery), JSON.stringify(result.perplexity));
  console.log('wrote', writeResult('recovery-chromium-wasm', result));
}
