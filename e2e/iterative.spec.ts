/** Issue 6 through the UI in Chromium: Taylor importance (gradient graph) and a 3-round iterative prune-and-recover. */
import { expect, test } from '@playwright/test';

test('Taylor importance and a 3-round iterative prune', async ({ page }) => {
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
});
