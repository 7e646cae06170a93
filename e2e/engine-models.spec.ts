/**
 * Real models in the browser, engine level (no UI controls needed): e2e/harness/engine.ts is bundled
 * with esbuild and injected into a cross-origin-isolated page of the built app; a fake Hub
 * (src/test-util/fake-hub.ts) runs on another port. In Chromium, every fixture loads by repo id
 * (cross-origin fetch under COEP, 302 to the CDN path, streaming, sha256 via WebCrypto) and from
 * picked files (a real <input webkitdirectory>), with logits equal to the PyTorch golden; the second
 * Hub load is served by the Cache API; bad downloads leave no cache entry; each error is typed and
 * the demo model still loads afterwards; the size preflight uses the budget this browser reports.
 */
import { expect, test, type Page } from '@playwright/test';
import { engineHarnessBundle } from './harness/bundle';
import { startFakeHub, type FakeHub } from '../src/test-util/fake-hub';
import { fixtureDir, fixtureModels, goldenCases } from '../src/test-util/model-fixtures';

let hub: FakeHub;
let bundle: string;

test.beforeAll(async () => {
  hub = await startFakeHub();
  bundle = await engineHarnessBundle();
});

test.afterAll(async () => {
  await hub?.close();
});

async function openHarness(page: Page): Promise<void> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // A plain-text file of the built app: same origin, COOP/COEP headers, no app code running.
  await page.goto('/data/evaluation.txt');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
  await page.addScriptTag({ content: bundle, type: 'module' });
  await page.waitForFunction(() => typeof window.__engineInit === 'function');
  await page.evaluate((url) => window.__engineInit!(url), hub.url);
  expect(errors).toEqual([]);
}

async function expectDemoLoads(page: Page): Promise<void> {
  const demo = await page.evaluate(() => window.__engine!.load({ kind: 'demo' }));
  expect(demo.ok && demo.value.name).toBe('demo-gpt2');
}

test('every fixture loads by repo id and from picked files with golden logits; the cache serves reloads', async ({ page }) => {
  test.setTimeout(300_000);
  await openHarness(page);
  const diffs: Record<string, number> = {};
  for (const m of fixtureModels()) {
    const cases = goldenCases(m.golden);
    const viaHub = await page.evaluate((repo) => window.__engine!.load({ kind: 'hub', repo }), m.repo);
    expect(viaHub.ok, JSON.stringify(viaHub)).toBe(true);
    diffs[`${m.repo} (hub)`] = await page.evaluate((c) => window.__engine!.goldenDiff(c), cases);
    await page.setInputFiles('#harness-files', fixtureDir(m.repo));
    const picked = await page.evaluate(() => window.__engine!.loadPicked());
    expect(picked.ok, JSON.stringify(picked)).toBe(true);
    diffs[`${m.repo} (files)`] = await page.evaluate((c) => window.__engine!.goldenDiff(c), cases);
  }
  console.log(`browser max |logits - golden|: ${JSON.stringify(diffs, null, 1)}`);
  for (const [k, d] of Object.entries(diffs)) expect(d, k).toBeLessThan(1e-3);

  const keys = await page.evaluate(() => window.__engine!.cacheKeys());
  expect(keys.some((k) => /\/tiny\/llama-gqa-bf16\/resolve\/[0-9a-f]{40}\/model.safetensors$/.test(k))).toBe(true);
  const before = hub.requests.length;
  const again = await page.evaluate(() => window.__engine!.load({ kind: 'hub', repo: 'tiny/llama-gqa-bf16' }));
  expect(again.ok).toBe(true);
  expect(hub.requests.slice(before).filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/'))).toEqual([]);
});

test('bad downloads are typed errors, leave no cache entry, and the demo loads after each', async ({ page }) => {
  test.setTimeout(300_000);
  await openHarness(page);
  const cases: [string, object, string, RegExp][] = [
    ['gated', { kind: 'hub', repo: 'gated/llama-tied' }, 'GATED_MODEL', /gated\/llama-tied is a gated model/],
    ['404', { kind: 'hub', repo: 'tiny/llama-tied', revision: 'nope' }, 'FETCH_FAILED', /has no revision "nope" \(HTTP 404\)/],
    ['unknown repo', { kind: 'hub', repo: 'nobody/nothing' }, 'FETCH_FAILED', /There is no model repository "nobody\/nothing"/],
    ['truncated', { kind: 'hub', repo: 'broken/truncated' }, 'FETCH_FAILED', /was cut off: 40644 of 81288 bytes arrived/],
    ['drop', { kind: 'hub', repo: 'broken/drop' }, 'FETCH_FAILED', /connection dropped while downloading model.safetensors/],
    ['corrupt', { kind: 'hub', repo: 'broken/corrupt' }, 'FETCH_FAILED', /is corrupt: its sha256 is/],
  ];
  for (const [name, source, code, message] of cases) {
    const r = await page.evaluate((s) => window.__engine!.load(s as never), source);
    expect(r.ok, name).toBe(false);
    if (!r.ok) {
      expect(r.error.code, name).toBe(code);
      expect(r.error.message, name).toMatch(message);
    }
    await expectDemoLoads(page);
  }
  const keys = await page.evaluate(() => window.__engine!.cacheKeys());
  expect(keys.filter((k) => k.includes('/broken/') && k.endsWith('.safetensors'))).toEqual([]);
});

test('the size preflight reads this browser’s memory and refuses a model that does not fit', async ({ page }) => {
  await openHarness(page);
  const real = await page.evaluate(() => window.__engine!.realBudget());
  expect(real?.bytes).toBeGreaterThan(0);
  expect(real?.source).toMatch(/deviceMemory|jsHeapSizeLimit|WebAssembly/);
  await page.evaluate(() => window.__engine!.setBudget(100_000));
  const before = hub.requests.length;
  const r = await page.evaluate(() => window.__engine!.load({ kind: 'hub', repo: 'tiny/qwen2-f16' }));
  expect(r.ok).toBe(false);
  if (!r.ok) {
    expect(r.error.code).toBe('MODEL_TOO_LARGE');
    expect(r.error.message).toMatch(
      /tiny\/qwen2-f16 is too large for this browser: loading it needs about .* but only about 97.7 KB is available/,
    );
  }
  expect(hub.requests.slice(before).some((q) => q.path.includes('model.safetensors'))).toBe(false);
  await page.evaluate(() => window.__engine!.setBudget(null));
  await expectDemoLoads(page);
});
