/**
 * Issue 14, item 2: sweep curves. Magnitude against two random seeds, 0-90 % removed, points stream
 * into the chart and table, all marked as estimates; at 0 % every series is the dense model on the
 * same tokens; a second run can be cancelled part-way.
 */
import { expect, test } from '@playwright/test';
import { ready, scoreMagnitude, shot } from './teach-helpers';

test('sweep: criterion vs random, streamed, estimate, cancellable', async ({ page }) => {
  await ready(page);
  await scoreMagnitude(page);
  await page.getByTestId('tab-sweep').click();
  await expect(page.getByTestId('sweep-series-magnitude')).toBeChecked();
  await page.getByTestId('sweep-seeds').fill('2');
  await page.getByTestId('sweep-run').click();
  await expect(page.getByTestId('sweep-status')).toContainText('so far', { timeout: 60_000 });
  await expect(page.getByTestId('sweep-status')).toContainText(/^30 points · estimate/, { timeout: 300_000 });
  const rows = page.getByTestId('sweep-table').locator('tbody tr');
  await expect(rows).toHaveCount(10);
  const first = rows.first().locator('td');
  const magnitude0 = Number(await first.nth(0).textContent());
  const random0 = Number(/^([\d.]+)/.exec((await first.nth(1).textContent()) ?? '')?.[1]);
  expect(magnitude0).toBeCloseTo(random0, 2);
  const last = rows.last().locator('td');
  expect(Number(await last.nth(0).textContent())).toBeGreaterThan(magnitude0);
  await expect(page.locator('.sweep .recharts-surface').first()).toBeVisible();
  await shot(page, 'sweep');

  await page.getByTestId('sweep-seeds').fill('8');
  await page.getByTestId('sweep-run').click();
  await expect(page.getByTestId('sweep-status')).toContainText(/[1-9]\d* points? so far/, { timeout: 60_000 });
  await page.getByTestId('sweep-cancel').click();
  await expect(page.getByTestId('sweep-cancel')).toHaveCount(0, { timeout: 60_000 });
  const done = Number(/^(\d+)/.exec((await page.getByTestId('sweep-status').textContent()) ?? '')?.[1]);
  expect(done).toBeGreaterThan(0);
  expect(done).toBeLessThan(90);
});
