/**
 * The WebGPU path, for correctness only: headless Chromium with --enable-unsafe-webgpu offers a
 * SwiftShader (CPU) adapter on which onnxruntime-web's WebGPU provider runs, ~100x slower than
 * WASM, so tiny models only and no timing. Every graph kind the studio builds runs on WebGPU
 * (logits, masked token loss, taps, the gradient graph, a sliced pruned model) and must agree with
 * the PyTorch golden logits and with the same steps on WASM in another page.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { engineHarnessBundle } from './harness/bundle';
import { startFakeHub, type FakeHub } from '../src/test-util/fake-hub';
import { goldenCases } from '../src/test-util/model-fixtures';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './harness/chromium';

test.use({ launchOptions: { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] } });

const TEXT = readFileSync('public/data/evaluation.txt', 'utf8').slice(0, 6000);
const PPL = { text: TEXT, textName: 'evaluation.txt', contextLength: 32, stride: 16, maxTokens: 256 };

let hub: FakeHub;
let bundle: string;

test.beforeAll(async () => {
  hub = await startFakeHub();
  bundle = await engineHarnessBundle();
});

test.afterAll(async () => {
  await hub?.close();
});

async function openHarness(page: Page, backend: 'wasm' | 'webgpu'): Promise<void> {
  await page.goto('/data/evaluation.txt');
  await page.addScriptTag({ content: bundle, type: 'module' });
  await page.waitForFunction(() => typeof window.__engineInit === 'function');
  await page.evaluate(([url, b]) => window.__engineInit!(url!, b as 'wasm' | 'webgpu'), [hub.url, backend]);
}

async function call<T>(page: Page, method: string, ...args: unknown[]): Promise<T> {
  const r = await page.evaluate(
    ({ method, args }) =>
      (window.__engine!.call as (m: string, ...a: unknown[]) => Promise<{ ok: boolean; value?: unknown; error?: unknown }>)(
        method,
        ...args,
      ),
    { method, args },
  );
  expect(r.ok, `${method}: ${JSON.stringify(r.error)}`).toBe(true);
  return r.value as T;
}

interface Steps {
  backend: string;
  goldenDiff: number;
  perplexity: number;
  baseLoss: number;
  wanda: number[];
  taylor: number[];
  prunedPerplexity: number;
}

/** Load, golden logits, perplexity, calibration, wanda (taps), taylor (gradients), apply a plan with OBS, pruned perplexity. */
async function steps(page: Page, repo: string, plan: unknown | null): Promise<Steps & { plan: unknown }> {
  const summary = await call<{ backend: { name: string } }>(page, 'loadModel', { kind: 'hub', repo });
  const goldenDiff = await page.evaluate((c) => window.__engine!.goldenDiff(c), goldenCases(repo));
  const { perplexity } = await call<{ perplexity: number }>(page, 'evaluatePerplexity', PPL);
  const { baseLoss } = await call<{ baseLoss: number }>(page, 'calibrate', {
    text: TEXT,
    textName: 'evaluation.txt',
    samples: 4,
    seq: 32,
    withHessians: true,
  });
  const wanda = (await call<{ heads: number[] }>(page, 'computeImportance', 'wanda')).heads;
  const taylor = (await call<{ heads: number[] }>(page, 'computeImportance', 'taylor')).heads;
  const usedPlan =
    plan ?? (await call(page, 'allocatePlan', { criterion: 'wanda', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 }));
  await call(page, 'applyPlan', { plan: usedPlan, compensation: 'obs' });
  const pruned = await call<{ perplexity: number }>(page, 'evaluatePerplexity', { ...PPL, target: 'pruned' });
  return {
    backend: summary.backend.name,
    goldenDiff,
    perplexity,
    baseLoss,
    wanda,
    taylor,
    prunedPerplexity: pruned.perplexity,
    plan: usedPlan,
  };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
const maxRel = (a: number[], b: number[]) => {
  const scale = Math.max(...b.map(Math.abs), 1e-12);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!) / scale));
};

for (const repo of ['tiny/gpt2-sharded', 'tiny/llama-gqa-bf16']) {
  test(`${repo}: every graph kind runs on WebGPU (SwiftShader) and agrees with WASM`, async ({ browser }) => {
    test.setTimeout(420_000);
    const context = await browser.newContext();
    const [wasmPage, gpuPage] = [await context.newPage(), await context.newPage()];
    await openHarness(wasmPage, 'wasm');
    await openHarness(gpuPage, 'webgpu');
    expect(await gpuPage.evaluate(async () => (await navigator.gpu?.requestAdapter())?.info.architecture)).toBe('swiftshader');

    const wasm = await steps(wasmPage, repo, null);
    const gpu = await steps(gpuPage, repo, wasm.plan);
    const report = {
      backends: [wasm.backend, gpu.backend],
      goldenDiff: [wasm.goldenDiff, gpu.goldenDiff],
      perplexity: [wasm.perplexity, gpu.perplexity],
      baseLoss: [wasm.baseLoss, gpu.baseLoss],
      wandaMaxRel: maxRel(gpu.wanda, wasm.wanda),
      taylorMaxRel: maxRel(gpu.taylor, wasm.taylor),
      prunedPerplexity: [wasm.prunedPerplexity, gpu.prunedPerplexity],
    };
    console.log(`${repo} WASM vs WebGPU: ${JSON.stringify(report)}`);
    expect(report.backends).toEqual(['wasm', 'webgpu']);
    expect(gpu.goldenDiff).toBeLessThan(1e-3);
    expect(rel(gpu.perplexity, wasm.perplexity)).toBeLessThan(1e-3);
    expect(rel(gpu.baseLoss, wasm.baseLoss)).toBeLessThan(1e-3);
    expect(report.wandaMaxRel).toBeLessThan(1e-3);
    expect(report.taylorMaxRel).toBeLessThan(1e-2);
    expect(rel(gpu.prunedPerplexity, wasm.prunedPerplexity)).toBeLessThan(1e-3);
    await context.close();
  });
}
