/**
 * Issue 14, item 1: the model map. Heads and FFN bins of every block, coloured once a criterion is
 * computed, with a legend; moving the slider hatches what the plan cuts and shows before -> after
 * widths; the keyboard reaches a head, Enter opens its scores, and its attention pattern is one click away.
 */
import { expect, test } from '@playwright/test';
import { prune30, ready, scoreMagnitude, shot } from './teach-helpers';

test('model map: colours, live cuts, widths, keyboard, unit details', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await ready(page);
  await page.getByTestId('tab-map').click();
  const map = page.getByTestId('model-map');
  await expect(map).toBeVisible();
  await expect(page.getByTestId('map-layer')).toHaveCount(4);
  await expect(page.getByTestId('map-head')).toHaveCount(4 * 8);
  await expect(page.getByTestId('map-ffn-bin')).toHaveCount(4 * 32);
  await expect(page.getByTestId('map-readout')).toContainText('No criterion computed yet');
  await scoreMagnitude(page);
  await expect(page.getByTestId('map-readout')).toContainText('rank under magnitude');
  await expect(page.getByTestId('map-legend')).toBeVisible();
  await expect(page.locator('[data-testid="map-head"][data-cut="true"]')).toHaveCount(0);
  await prune30(page);
  await page.getByTestId('tab-map').click();
  await expect.poll(() => page.locator('[data-testid="map-head"][data-cut="true"]').count()).toBeGreaterThan(0);
  await expect(page.getByTestId('map-widths').first()).toContainText('→');
  await expect(page.getByTestId('map-widths').first()).toContainText(/8→\d heads · \d+→\d+ FFN/);
  await shot(page, 'model-map');

  await map.focus();
  await page.keyboard.press('ArrowRight');
  await expect(page.getByTestId('map-readout')).toContainText('Layer 0, head 1');
  await page.keyboard.press('Enter');
  const detail = page.getByTestId('unit-detail');
  await expect(detail).toContainText('Layer 0, head 1');
  await expect(detail.getByTestId('unit-score-row')).toHaveCount(1);
  await expect(detail.getByTestId('unit-score-row')).toContainText('magnitude');
  // an FFN bin by mouse
  await page
    .getByTestId('map-ffn-bin')
    .nth(32 + 3)
    .click();
  await expect(detail).toContainText(/Layer 1, FFN neurons ranked \d+–\d+ by magnitude/);
  await page
    .getByTestId('map-head')
    .nth(8 + 2)
    .click();
  await expect(detail).toContainText('Layer 1, head 2');
  await page.getByTestId('show-attention').click();
  await expect(page.getByTestId('attention-layer')).toHaveValue('1');
  await expect(page.getByTestId('attention-head')).toHaveValue('2');
  expect(errors).toEqual([]);
});
