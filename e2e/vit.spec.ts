/**
 * Image classifiers through the UI (issue 16, item 4): a ViT loads (the shipped demo ViT when
 * public/models/demo-vit and its test images are in the build, else the tiny fixture through the
 * Local files picker with synthetic labelled images picked as an image set v1), shows a dense
 * top-1 accuracy with its 95% interval, hides the text-only panels with a reason, then 30% of the
 * heads are pruned by magnitude and applied: the accuracy row, the results table and the image grid follow.
 */
import { existsSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { fixtureDir } from '../src/test-util/model-fixtures';

const DEMO = existsSync('dist/models/demo-vit/config.json') && existsSync('dist/data/fashion-mnist-test-500.json');

async function idle(page: Page) {
  await expect(page.getByTestId('progress')).toHaveCount(0, { timeout: 300_000 });
}

/** `count` 8 x 8 x 2 images in the studio's image set v1 format (pixels, then labels), deterministic. */
function syntheticImageSet(count: number): { json: Buffer; bin: Buffer } {
  const px = 8 * 8 * 2;
  const bin = Buffer.alloc(count * px + count);
  for (let n = 0; n < count; n++) {
    const label = n % 3;
    for (let i = 0; i < px; i++) bin[n * px + i] = (i * 37 + n * 11 + label * 80) % 256;
    bin[count * px + n] = label;
  }
  const manifest = { count, shape: [8, 8], channels: 2, images: { offset: 0 }, labels: { offset: count * px } };
  return { json: Buffer.from(JSON.stringify(manifest)), bin };
}

test('ViT: baseline accuracy, text panels off, 30% heads applied, accuracy row and image grid', async ({ page }) => {
  test.setTimeout(600_000);
  await page.goto('/');
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  // The demo's whole baseline (perplexity, then latency) is done: the source controls are free.
  await expect(page.getByTestId('latency-median')).not.toBeEmpty({ timeout: 300_000 });
  await idle(page);

  if (DEMO) {
    await page.getByRole('radio', { name: /Demo ViT/ }).check();
    await page.getByRole('button', { name: /Load model|Reload/ }).click();
    await expect(page.getByTestId('arch-classes')).toContainText('10', { timeout: 300_000 });
  } else {
    await page.getByRole('radio', { name: /Local files/ }).check();
    await page.getByTestId('model-source-files-input').setInputFiles(fixtureDir('tiny/vit-tiny'));
    await expect(page.getByTestId('model-name')).toHaveText('vit-tiny', { timeout: 120_000 });
    await expect(page.getByTestId('arch-classes')).toContainText('circle, square, stripe');
    await idle(page);
    const set = syntheticImageSet(30);
    await page.getByTestId('images-input').setInputFiles([
      { name: 'synthetic.json', mimeType: 'application/json', buffer: set.json },
      { name: 'synthetic.bin', mimeType: 'application/octet-stream', buffer: set.bin },
    ]);
  }
  await expect(page.getByTestId('arch-input')).toContainText('patches');
  await expect(page.getByTestId('dense-accuracy')).toHaveText(/^\d+\.\d %$/, { timeout: 300_000 });
  await expect(page.getByTestId('dense-accuracy-ci')).toContainText('95% CI');
  await expect(page.getByTestId('dense-accuracy-loss')).toHaveText(/^\d+\.\d{3}$/);
  await expect(page.getByTestId('latency-classifier')).toBeVisible();
  await idle(page);

  // Magnitude needs no calibration; 30% of the heads, no FFN.
  await page.getByTestId('compute-magnitude').click();
  await expect(page.getByTestId('prune-criterion')).toHaveValue('magnitude', { timeout: 120_000 });
  await page.getByTestId('heads-slider').fill('30');
  await page.getByTestId('ffn-slider').fill('0');
  await expect(page.getByTestId('preview-accuracy')).toHaveText(/^\d+\.\d %$/, { timeout: 300_000 });
  await idle(page);
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('pruned-accuracy')).toHaveText(/^\d+\.\d %$/, { timeout: 300_000 });
  await expect(page.getByTestId('pruned-accuracy-row')).toContainText('95% CI');
  await expect(page.getByTestId('result-accuracy').first()).toContainText('%');
  await expect(page.getByTestId('image-grid')).toBeVisible();
  const shown = await page.locator('[data-testid=image-grid] li').count();
  expect(shown).toBeGreaterThan(0);
  await expect(page.getByTestId('flipped-count')).toContainText('changed prediction after pruning');
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  // Keyboard: image cells are focusable and say what they show.
  await page.locator('[data-testid=image-grid] li').first().focus();
  await expect(page.locator('[data-testid=image-grid] li').first()).toHaveAttribute('aria-label', /true .*dense says .*pruned says/);

  // Text-only teaching tabs say why they are off.
  await page.getByTestId('tab-tokens').click();
  await expect(page.getByTestId('text-only-reason')).toContainText('classifies images');
});
