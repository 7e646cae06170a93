/**
 * Long jobs in the built app: Cancel stops a running perplexity job without losing the loaded model,
 * the job can be run again, and a failing load shows its message and hint in the alert region.
 */
import { expect, test } from '@playwright/test';

test('cancelling perplexity keeps the model, and it can be measured again', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  // Wait until perplexity windows are being scored, then cancel from the keyboard.
  await expect(page.getByTestId('progress')).toHaveAttribute('aria-valuetext', /^perplexity \d+%$/, { timeout: 300_000 });
  await page.getByTestId('cancel').focus();
  await page.keyboard.press('Enter');
  await expect(page.locator('.job-status')).toHaveText('Perplexity was cancelled.', { timeout: 120_000 });
  await expect(page.getByTestId('progress')).toHaveCount(0);
  await expect(page.getByTestId('ppl-value')).toHaveCount(0);
  await expect(page.getByTestId('arch-layers')).toHaveText('4');
  await expect(page.getByTestId('error')).toBeEmpty();

  await page.getByRole('button', { name: 'Measure perplexity' }).click();
  await expect(page.getByTestId('ppl-value')).toHaveText(/^\d+(\.\d+)?$/, { timeout: 540_000 });
});

test('a model that cannot be loaded shows the message and what to do', async ({ page, context }) => {
  await context.route('**/models/demo-gpt2/model.safetensors', (route) => route.fulfill({ status: 404, body: 'gone' }));
  await page.goto('/');
  const alert = page.getByRole('alert');
  await expect(alert).toContainText('Loading model failed', { timeout: 300_000 });
  await expect(alert).toContainText('model.safetensors');
  await expect(alert).toContainText('What to do:');
  await expect(page.getByTestId('model-name')).toHaveText('—');
  await expect(page.getByRole('button', { name: 'Load model' })).toBeEnabled();
  await alert.getByRole('button', { name: 'Dismiss' }).click();
  await expect(page.getByTestId('error')).toBeEmpty();
});
