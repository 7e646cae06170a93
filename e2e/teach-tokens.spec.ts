/**
 * Issue 14, item 3: token damage. Per-token loss change dense -> pruned on a short text (coloured
 * tokens, the most damaged tokens), then compare-text's first divergence with the top-5 next-token
 * probabilities of both models.
 */
import { expect, test } from '@playwright/test';
import { NUMBER, prune30, ready, scoreMagnitude, shot } from './teach-helpers';

test('token damage and first divergence', async ({ page }) => {
  await ready(page);
  await scoreMagnitude(page);
  await prune30(page);
  await page.getByTestId('tab-tokens').click();
  await page.getByTestId('damage-run').click();
  await expect(page.getByTestId('damage-tokens').locator('span')).not.toHaveCount(0, { timeout: 120_000 });
  expect(await page.getByTestId('damage-tokens').locator('span').count()).toBeGreaterThan(50);
  await expect(page.getByTestId('damage-worst').locator('tbody tr')).toHaveCount(10);
  const summary = (await page.getByTestId('damage-summary').textContent()) ?? '';
  const [, dense, pruned] = /dense (\d+(?:\.\d+)?) → pruned (\d+(?:\.\d+)?)/.exec(summary) ?? [];
  expect(Number(pruned)).toBeGreaterThan(Number(dense));
  await expect(page.getByTestId('damage-legend')).toBeVisible();
  await shot(page, 'token-damage');

  await page.getByTestId('apply').click();
  await expect(page.getByTestId('pruned-ppl')).toHaveText(NUMBER, { timeout: 540_000 });
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generated-pruned')).not.toHaveText('—', { timeout: 120_000 });
  const divergence = page.getByTestId('divergence');
  await expect(divergence).toBeVisible({ timeout: 120_000 });
  if ((await divergence.textContent())?.includes('First divergence')) {
    await expect(page.getByTestId('divergence-dense').locator('tr')).toHaveCount(5);
    await expect(page.getByTestId('divergence-pruned').locator('tr')).toHaveCount(5);
  }
  await divergence.scrollIntoViewIfNeeded();
  await shot(page, 'divergence');
});
