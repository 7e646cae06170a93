/** Shared steps of the teaching specs (issue 14): wait for the demo baseline, score magnitude, screenshots. */
import { expect, type Page } from '@playwright/test';

export const NUMBER = /^\d+(\.\d+)?$/;

export async function ready(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('latency-median')).toHaveText(/\d/, { timeout: 540_000 });
  await expect(page.locator('.job-idle')).toHaveText('Ready.', { timeout: 120_000 });
}

export async function scoreMagnitude(page: Page): Promise<void> {
  await page.getByTestId('compute-magnitude').click();
  await expect(page.getByTestId('prune-criterion')).toHaveValue('magnitude', { timeout: 120_000 });
}

export async function prune30(page: Page): Promise<void> {
  const slider = page.getByTestId('global-slider');
  await slider.fill('30');
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-uniform-params30', { timeout: 60_000 });
}

export async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `test-results/teach/${name}.png`, fullPage: true });
}
