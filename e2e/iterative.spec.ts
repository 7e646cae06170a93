/**
 * Through the UI in Chromium: Taylor importance (gradient graph), a 3-round iterative prune-and-recover,
 * then SlimGPT (layer-wise OBS); each result is measured like an applied plan (a results-table row).
 */
import { expect, test } from '@playwright/test';

test('Taylor importance, a 3-round iterative prune, then SlimGPT', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('latency-median')).toHaveText(/\d/, { timeout: 300_000 });
  await expect(page.locator('.job-idle')).toHaveText('Ready.', { timeout: 120_000 });
  await page.getByTestId('calibration-samples').fill('4');
  await page.getByTestId('calibration-seq').fill('64');
  await page.getByTestId('calibrate').click();
  await expect(page.getByTestId('calibration-summary')).toContainText('4 × 64', { timeout: 120_000 });
  await page.getByTestId('criterion-compute-taylor').click();
  await expect(page.getByTestId('criterion-compute-taylor')).toHaveText('Recompute', { timeout: 180_000 });
  await page.getByTestId('tab-importance').click();
  await page.getByTestId('criterion-tab-taylor').click();
  await expect(page.getByTestId('heatmap-cell')).toHaveCount(32);

  await page.getByText('Iterative prune-and-recover', { exact: true }).click();
  await page.locator('#it-rounds').fill('3');
  await page.locator('#it-criterion').selectOption('taylor');
  await page.locator('#it-recovery').selectOption('obs');
  await page.getByTestId('iterative-run').click();
  const rows = page.getByTestId('iterative-rounds').locator('tbody tr');
  await expect(rows.last()).toContainText('3', { timeout: 400_000 });
  expect(await rows.count()).toBeGreaterThanOrEqual(3);

  const results = page.getByTestId('results-table').locator('tbody tr');
  await expect(results).toHaveCount(1, { timeout: 300_000 });

  await page.getByText('SlimGPT (layer-wise OBS)', { exact: true }).click();
  await page.locator('#sg-heads').fill('25');
  await page.locator('#sg-ffn').fill('25');
  await page.locator('#sg-allocation').selectOption('incremental');
  await page.getByTestId('slimgpt-run').click();
  const layers = page.getByTestId('slimgpt-layers').locator('tbody tr');
  await expect(layers).toHaveCount(4, { timeout: 400_000 });
  // incremental 25%: per-layer ratios 0.09 .. 0.37, so 1 head goes in layer 0 and 3 (in pick order) in layer 3
  await expect(layers.first().locator('td').nth(1)).not.toContainText('→');
  await expect(layers.last().locator('td').nth(1)).toContainText('→');
  // the float64 products ran split over one helper Worker per core beside the engine's (core/gemm-threads.ts)
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const threads = Math.min(8, cores);
  await expect(layers.last().locator('td').nth(3)).toHaveAttribute(
    'title',
    `float64 algebra on ${threads} thread${threads === 1 ? '' : 's'}`,
  );
  await expect(results).toHaveCount(2, { timeout: 300_000 });
  await expect(results.last()).toContainText('slimgpt');
  await expect(page.getByTestId('pruned-ppl')).toHaveText(/^\d+(\.\d+)?$/);
  // the plan SlimGPT arrived at is the current one in the timeline
  await expect(page.getByTestId('plan-name')).toHaveText('slimgpt-incremental-h25-f25', { timeout: 60_000 });
});
