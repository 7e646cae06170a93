/**
 * Issue 3 through the UI in Chromium: calibrate, compute every criterion, see the layers x heads
 * heatmap and the agreement matrix with the expected number of cells, find cached scores after a
 * reload, and cancel a long ablation run cleanly.
 */
import { expect, test, type Page } from '@playwright/test';

const CRITERIA = ['magnitude', 'wanda', 'flap', 'obs', 'block-influence', 'ablation'];

async function ready(page: Page) {
  await expect(page.getByTestId('latency-median')).toHaveText(/\d/, { timeout: 300_000 });
  await expect(page.locator('.job-idle')).toHaveText('Ready.', { timeout: 120_000 });
}

async function calibrate(page: Page, samples: number, seq: number, hessians: boolean) {
  await page.getByTestId('calibration-samples').fill(String(samples));
  await page.getByTestId('calibration-seq').fill(String(seq));
  await page.getByLabel('Accumulate Hessians (needed by OBS)').setChecked(hessians);
  await page.getByTestId('calibrate').click();
  await expect(page.getByTestId('calibration-summary')).toContainText(`${samples} × ${seq}`, { timeout: 120_000 });
}

test('criteria, heatmap, agreement, cache across reload, and cancel', async ({ page }) => {
  await page.goto('/');
  await ready(page);
  await calibrate(page, 4, 64, true);
  for (const name of CRITERIA) {
    await page.getByTestId(`criterion-compute-${name}`).click();
    await expect(page.getByTestId(`criterion-compute-${name}`)).toHaveText('Recompute', { timeout: 180_000 });
  }
  await page.getByTestId('tab-importance').click();
  await page.getByTestId('criterion-tab-wanda').click();
  await expect(page.getByTestId('heatmap-cell')).toHaveCount(4 * 8);
  // keyboard: move right and read the readout
  await page.getByTestId('heatmap').focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('heatmap-readout')).toContainText('Layer 0, head 1');

  await page.getByTestId('tab-agreement').click();
  // heads are scored by magnitude, wanda, flap, obs and ablation
  await expect(page.getByTestId('agreement-cell')).toHaveCount(5 * 5);
  await page.getByTestId('agreement-unit').selectOption('layers');
  // layers: magnitude, block-influence, ablation
  await expect(page.getByTestId('agreement-cell')).toHaveCount(3 * 3);

  // scores survive a reload (IndexedDB)
  await page.reload();
  await ready(page);
  await page.getByTestId('tab-importance').click();
  await expect(page.getByTestId('criterion-tab-flap')).toBeVisible();
  await page.getByTestId('criterion-tab-obs').click();
  await expect(page.getByTestId('heatmap-cell')).toHaveCount(32);
  // ... and reach the engine: a plan from the cached wanda scores, without recomputing them
  await page.getByTestId('prune-criterion').selectOption('wanda');
  await page.getByTestId('global-slider').fill('40');
  await expect(page.getByTestId('plan-name')).toContainText('wanda-uniform-params40', { timeout: 60_000 });
  await expect(page.getByTestId('criterion-compute-wanda')).toHaveText('Recompute');
  await expect(page.getByRole('alert')).toBeEmpty();

  // a long ablation run is cancelled cleanly; the cached results stay on screen
  await calibrate(page, 48, 128, false);
  await page.getByTestId('criterion-compute-ablation').click();
  await expect(page.getByTestId('cancel')).toBeVisible();
  await page.getByTestId('cancel').click();
  await expect(page.locator('.job-idle')).toHaveText(/cancelled/, { timeout: 120_000 });
  await expect(page.getByTestId('calibration-summary')).toContainText('48 × 128');
});
