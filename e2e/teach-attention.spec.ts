/**
 * Issue 14, item 4: attention patterns on a typed sentence, for any head, and the next-token change
 * when that head is knocked out.
 */
import { expect, test } from '@playwright/test';
import { ready, shot } from './teach-helpers';

test('attention pattern per head and knock-out', async ({ page }) => {
  await ready(page);
  await page.getByTestId('tab-attention').click();
  await page.getByTestId('attention-text').fill('The cat sat on the mat because it was');
  await page.getByTestId('attention-run').click();
  const map = page.getByTestId('attention-map');
  await expect(map).toBeVisible({ timeout: 120_000 });
  const cells = await map.locator('rect').count();
  // a causal map of n tokens has n (n + 1) / 2 cells
  const n = Math.round((Math.sqrt(8 * cells + 1) - 1) / 2);
  expect((n * (n + 1)) / 2).toBe(cells);
  await expect(page.getByTestId('next-dense').locator('tr')).toHaveCount(5);
  await page.getByTestId('attention-layer').selectOption('1');
  await page.getByTestId('attention-head').selectOption('3');
  await expect(map).toHaveAttribute('aria-label', /Layer 1, head 3/);
  await page.getByTestId('knockout').click();
  await expect(page.getByTestId('next-knockout').locator('tr')).toHaveCount(5, { timeout: 120_000 });
  await expect(page.getByTestId('knockout-change')).toContainText('KL');
  await expect(page.getByTestId('next-knockout')).toContainText('layer 1, head 3 knocked out');
  await shot(page, 'attention');
});
