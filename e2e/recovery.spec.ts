/**
 * Recovery in the UI: demo model, magnitude plan at 50% of heads and FFN neurons, apply, then a short
 * recovery training (10 steps); the loss curve fills in, the trained model gets its own results row with
 * both perplexities (evaluation and held-out); a second run is cancelled; after a reload the curve kept
 * with the recovered row is drawn again.
 */
import { expect, test, type Page } from '@playwright/test';

const NUMBER = /^\d+(\.\d+)?$/;

async function cellNumber(page: Page, row: number, testId: string): Promise<number> {
  return Number(await page.getByTestId('results-table').locator('tbody tr').nth(row).getByTestId(testId).textContent());
}

async function rowPerplexity(page: Page, row: number): Promise<number> {
  return cellNumber(page, row, 'result-ppl');
}

test('recovery: apply 50%, recover 10 steps, curve, both perplexities, cancel, reload', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('latency-median')).toHaveText(NUMBER, { timeout: 540_000 });
  await expect(page.locator('.job-idle')).toHaveText('Ready.', { timeout: 120_000 });
  await expect(page.getByTestId('recover-run')).toBeDisabled();
  await expect(page.getByTestId('recover-why')).toContainText('Apply a plan');

  await page.getByTestId('compute-magnitude').click();
  await expect(page.getByTestId('prune-criterion')).toHaveValue('magnitude', { timeout: 120_000 });
  await page.getByTestId('global-metric').selectOption('units');
  await page.getByTestId('global-slider').fill('50');
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-uniform-h50-f50', { timeout: 60_000 });
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('pruned-ppl')).toHaveText(NUMBER, { timeout: 540_000 });
  await expect(page.getByTestId('pruned-heldout-ppl')).toHaveText(NUMBER, { timeout: 300_000 });
  const rows = page.getByTestId('results-table').locator('tbody tr');
  await expect(rows).toHaveCount(1, { timeout: 300_000 });
  await expect(rows.first().getByTestId('heldout-ppl')).toHaveText(NUMBER);
  const before = await rowPerplexity(page, 0);
  const heldBefore = await cellNumber(page, 0, 'heldout-ppl');

  // Recover: distillation (the default loss), 10 steps on 40 sequences of calibration.txt.
  await expect(page.getByTestId('recover-loss')).toHaveValue('distill');
  await page.locator('#rec-steps').fill('10');
  await page.locator('#rec-samples').fill('40');
  await page.getByTestId('recover-run').click();
  const curve = page.getByTestId('recovery-curve');
  await expect(curve).toHaveAttribute('data-points', /^[1-9]/, { timeout: 300_000 });
  await expect(curve).toHaveAttribute('data-points', '10', { timeout: 300_000 });
  await expect(rows).toHaveCount(2, { timeout: 300_000 });
  await expect(rows.nth(1)).toContainText('recovery 10 steps');
  await expect(rows.nth(1).getByTestId('heldout-ppl')).toHaveText(NUMBER);
  const after = await rowPerplexity(page, 1);
  const heldAfter = await cellNumber(page, 1, 'heldout-ppl');
  console.log(`recovery 10 steps: evaluation ${before} -> ${after}, held-out ${heldBefore} -> ${heldAfter}`);
  expect(Number.isFinite(after) && after > 0).toBe(true);
  expect(Number.isFinite(heldAfter) && heldAfter > 0).toBe(true);
  expect(after).toBeLessThan(before);
  await expect(page.locator('.recovery-curve figcaption')).toContainText('10/10 steps');
  await expect(page.getByTestId('results-dense')).toContainText('heldout.txt');

  // Cancel a second run after its first step: no new row, the partial curve stays on screen until a reload.
  await page.getByTestId('recover-run').click();
  await expect(page.locator('.recovery-curve figcaption')).toContainText('training…', { timeout: 120_000 });
  await expect(curve).toHaveAttribute('data-points', /^[1-9]/, { timeout: 300_000 });
  await page.getByTestId('cancel').click();
  await expect(page.locator('.job-idle')).toHaveText('Recovery training was cancelled.', { timeout: 120_000 });
  await expect(page.locator('.recovery-curve figcaption')).not.toContainText('training…');
  await expect(rows).toHaveCount(2);

  // The curve is kept with its results row: after a reload it is drawn again.
  await page.reload();
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('recovery-curve')).toHaveAttribute('data-points', '10', { timeout: 60_000 });
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(2);
  expect(errors).toEqual([]);
});
