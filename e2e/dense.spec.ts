/**
 * Dense baseline, end to end in the built app: the demo model loads in the worker, the architecture
 * is shown, perplexity (protocol defaults) matches the PyTorch golden within 0.5%, latency is
 * measured, and the page is cross-origin isolated (WASM threads).
 */
import { existsSync, readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';

interface GoldenCase {
  text_file: string;
  max_tokens: number;
  context: number;
  stride: number;
  perplexity: number;
}

function goldenPerplexity(): number | undefined {
  const file = 'fixtures/golden/perplexity.json';
  if (!existsSync(file)) return undefined;
  const golden = JSON.parse(readFileSync(file, 'utf8')) as { cases: GoldenCase[] };
  return golden.cases.find(
    (c) => c.text_file === 'public/data/evaluation.txt' && c.max_tokens === 8192 && c.context === 128 && c.stride === 64,
  )?.perplexity;
}

test('demo model: architecture, perplexity, latency', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });

  await page.goto('/');
  expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);

  // Loading starts by itself and shows progress with a Cancel button.
  await expect(page.getByTestId('progress')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('cancel')).toBeVisible();

  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('arch-layers')).toHaveText('4');
  await expect(page.getByTestId('arch-heads')).toHaveText('8');
  await expect(page.getByTestId('arch-hidden')).toHaveText('256');
  await expect(page.getByTestId('arch-ffn')).toHaveText('1024');
  const params = Number((await page.getByTestId('arch-params').textContent())?.replace(/,/g, ''));
  expect(params).toBeGreaterThan(0);

  const pplText = page.getByTestId('ppl-value');
  await expect(pplText).toHaveText(/^\d+(\.\d+)?$/, { timeout: 540_000 });
  const ppl = Number(await pplText.textContent());
  expect(Number.isFinite(ppl)).toBe(true);
  const protocol = page.getByTestId('ppl-protocol');
  await expect(protocol).toContainText('evaluation.txt');
  await expect(protocol).toContainText('128 tokens');
  await expect(protocol).toContainText('64 tokens');
  await expect(protocol).toContainText('8,191 of 8,192');
  const golden = goldenPerplexity();
  if (golden !== undefined) expect(Math.abs(ppl / golden - 1)).toBeLessThan(0.005);

  const latencyText = page.getByTestId('latency-median');
  await expect(latencyText).toHaveText(/^\d+(\.\d+)?$/, { timeout: 300_000 });
  expect(Number(await latencyText.textContent())).toBeGreaterThan(0);
  await expect(page.getByTestId('latency-backend')).toHaveText(/WASM|WebGPU/);

  // All jobs done: no progress bar, no error, nothing logged as an error.
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await expect(page.getByRole('alert')).toBeEmpty();
  await expect(page.getByTestId('error')).toBeEmpty();
  expect(errors).toEqual([]);

  if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });
});
