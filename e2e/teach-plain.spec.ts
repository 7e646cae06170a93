/**
 * Issue 14, item 5: plain language first (criteria, compensation, explanations), the glossary, and
 * the guided first run: steps tick as the studio does them, each outlines its control, dismissal sticks.
 */
import { expect, test } from '@playwright/test';
import { ready, shot } from './teach-helpers';

test('plain language, glossary and guided first run', async ({ page }) => {
  await ready(page);
  const guide = page.getByTestId('guide');
  await expect(guide).toBeVisible();
  await expect(page.getByTestId('guide-title')).toHaveText('Load a model ✓');
  await page.getByTestId('guide-next').click();
  await expect(page.getByTestId('guide-title')).toHaveText('Calibrate');
  await expect(page.getByTestId('calibrate')).toHaveClass(/guide-highlight/);
  await page.getByTestId('guide-show').click();
  await expect(page.getByTestId('calibrate')).toBeFocused();
  await page.getByTestId('guide-next').click();
  await expect(page.getByTestId('guide-title')).toHaveText('Score the parts');
  await expect(page.getByTestId('calibrate')).not.toHaveClass(/guide-highlight/);
  await expect(page.getByTestId('compute-all')).toHaveClass(/guide-highlight/);
  await shot(page, 'guide');
  await page.getByTestId('guide-dismiss').click();
  await expect(guide).toHaveCount(0);

  // criteria open with one plain sentence before the formula
  const info = page.locator('.criterion-info').first();
  await info.locator('summary').click();
  await expect(info.locator('p').first()).toHaveClass('plain');
  await expect(page.locator('.hint .plain').first()).not.toBeEmpty();
  const explain = page.locator('details.explain').first();
  await explain.locator('summary').click();
  await expect(explain.getByTestId('explain-plain')).not.toBeEmpty();

  await page.getByTestId('tab-glossary').click();
  for (const term of ['Head', 'Neuron (FFN)', 'Perplexity', 'Calibration', 'Hessian', 'Compensation', 'kv group', 'FLOPs']) {
    await expect(page.getByTestId('glossary').locator('dt', { hasText: term }).first()).toBeVisible();
  }
  await shot(page, 'glossary');
  await page.reload();
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('guide')).toHaveCount(0);
  await page.getByTestId('tab-glossary').click();
  await page.getByTestId('guide-restart').click();
  await expect(page.getByTestId('guide')).toBeVisible();
});
