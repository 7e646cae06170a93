/**
 * Pruning through the UI: compute magnitude scores (one click), move the global target slider and
 * watch the live preview leave the dense perplexity, apply (no compensation) and read measured
 * latency + speedup, export the zip and check it in Node (fflate + onnxruntime-node: logits shape,
 * per-layer head counts vs the plan, and the exported model's perplexity on the evaluation text equal
 * to the pruned perplexity the UI showed), and see the plan and results survive a reload.
 */
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { tokenizerFromJson } from '../src/io/tokenizer';
import { prefillFeeds } from '../src/test-util/ort-prefill';

const NUMBER = /^\d+(\.\d+)?$/;

/**
 * Perplexity of an exported model (the with-past graph, each window as a prefill) in onnxruntime-node, written here from the protocol
 * the UI states (docs/METHODS.md): windows of `ctx` tokens every `stride`; window 0 scores tokens
 * 1..ctx-1, later windows their last `stride` tokens; PPL = exp(mean NLL), no BOS.
 */
async function exportedPerplexity(session: ort.InferenceSession, ids: number[], ctx: number, stride: number): Promise<number> {
  let nll = 0;
  let count = 0;
  for (let begin = 0, prevEnd = 0; prevEnd < ids.length; begin += stride) {
    const end = Math.min(begin + ctx, ids.length);
    const win = ids.slice(begin, end);
    const out = await session.run(prefillFeeds(session, win));
    const logits = out.logits!.data as Float32Array;
    const V = out.logits!.dims[2]!;
    for (let t = Math.max(prevEnd, begin + 1); t < end; t++) {
      const row = logits.subarray((t - begin - 1) * V, (t - begin) * V);
      let max = -Infinity;
      for (const x of row) max = Math.max(max, x);
      let sum = 0;
      for (const x of row) sum += Math.exp(x - max);
      nll += Math.log(sum) + max - row[ids[t]!]!;
      count++;
    }
    prevEnd = end;
  }
  return Math.exp(nll / count);
}

interface Plan {
  name: string;
  model: { numHeads: number };
  layers: { index: number; removed: boolean; removedHeads: number[]; removedFfn: number[] }[];
}

test('prune: magnitude, slider preview, apply, export, reload', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto('/');
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('ppl-value')).toHaveText(NUMBER, { timeout: 540_000 });
  await expect(page.getByTestId('latency-median')).toHaveText(NUMBER, { timeout: 300_000 });
  const densePpl = Number(await page.getByTestId('ppl-value').textContent());
  const vocab = Number((await page.getByTestId('arch-vocab').textContent())?.replace(/,/g, ''));

  // One click: magnitude needs no calibration.
  await page.getByTestId('compute-magnitude').click();
  await expect(page.getByTestId('prune-criterion')).toHaveValue('magnitude', { timeout: 120_000 });

  // Move the global target (fill fires input + change on a range input): by default a fraction of
  // the model's parameters, which the engine turns into one heads / FFN ratio.
  await expect(page.getByTestId('global-metric')).toHaveValue('parameters');
  const slider = page.getByTestId('global-slider');
  await slider.fill('30');
  await expect(slider).toHaveValue('30');
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-uniform-params30', { timeout: 60_000 });
  const achieved = page.getByTestId('global-achieved');
  await expect(achieved).toContainText('of parameters');
  const removedPct = Number(/Removes ([\d.]+) %/.exec((await achieved.textContent()) ?? '')?.[1]);
  expect(Math.abs(removedPct - 30)).toBeLessThan(1);
  // the per-part sliders show the ratio the engine solved for (more than 30 %: embeddings stay)
  expect(Number(await page.getByTestId('heads-slider').inputValue())).toBeGreaterThan(30);
  const preview = page.getByTestId('preview-ppl');
  await expect(preview).toHaveText(NUMBER, { timeout: 300_000 });
  await expect.poll(async () => Number(await preview.textContent()), { timeout: 300_000 }).not.toBeCloseTo(densePpl, 2);
  await expect(page.getByTestId('predicted-latency')).toHaveText(/\d+(\.\d+)? ms/);
  // Counting units instead: the heads and FFN ratios equal the global value.
  await page.getByTestId('global-metric').selectOption('units');
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-uniform-h30-f30', { timeout: 60_000 });
  // Keyboard works on the slider too (one step up, then the preview of the final plan settles).
  await slider.focus();
  await page.keyboard.press('ArrowRight');
  await expect(slider).toHaveValue('31');
  await expect(page.getByTestId('plan-name')).toContainText('h31-f31', { timeout: 60_000 });
  // Latency-aware allocation with unit costs measured on this backend, then back to uniform.
  await page.getByTestId('allocation').selectOption('latency');
  await expect(page.getByTestId('unit-costs')).toContainText('FLOPs per token');
  await page.getByTestId('measure-unit-costs').click();
  await expect(page.getByTestId('unit-costs')).toContainText(/measured on wasm .* ms per head group, .* µs per FFN neuron/, {
    timeout: 120_000,
  });
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-latency-h31-f31', { timeout: 60_000 });
  await page.getByTestId('allocation').selectOption('uniform');
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-uniform-h31-f31', { timeout: 60_000 });

  // Apply without compensation: exact perplexity, measured latency, speedups.
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('pruned-ppl')).toHaveText(NUMBER, { timeout: 540_000 });
  await expect(page.getByTestId('pruned-latency')).toHaveText(NUMBER, { timeout: 300_000 });
  await expect(page.getByTestId('speedup')).toHaveText(NUMBER);
  expect(Number(await page.getByTestId('flop-bound-speedup').textContent())).toBeGreaterThan(1);
  expect(Number(await page.getByTestId('pruned-ppl').textContent())).toBeGreaterThan(densePpl);
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(1);

  // Same prompt, greedy, on both models.
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generated-dense')).not.toHaveText('—', { timeout: 120_000 });
  await expect(page.getByTestId('generated-pruned')).not.toHaveText('—', { timeout: 120_000 });

  // Export: a zip download, verified in Node.
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 300_000 }), page.getByTestId('export').click()]);
  expect(download.suggestedFilename()).toBe('demo-gpt2-pruned.zip');
  const zipPath = await download.path();
  const files = unzipSync(new Uint8Array(readFileSync(zipPath)));
  expect(Object.keys(files)).toEqual(
    expect.arrayContaining([
      'onnx/model.onnx',
      'config.json',
      'generation_config.json',
      'plan.json',
      'tokenizer.json',
      'tokenizer_config.json',
      'README.md',
    ]),
  );
  await expect(page.getByTestId('export-verification')).toContainText('max |Δlogit|');

  const plan = JSON.parse(strFromU8(files['plan.json']!)) as Plan;
  const config = JSON.parse(strFromU8(files['config.json']!)) as {
    prune_studio: { layers: { original_index: number; num_heads: number }[] };
  };
  const kept = plan.layers.filter((l) => !l.removed);
  expect(config.prune_studio.layers.map((l) => l.num_heads)).toEqual(kept.map((l) => plan.model.numHeads - l.removedHeads.length));
  expect(config.prune_studio.layers.map((l) => l.original_index)).toEqual(kept.map((l) => l.index));

  const session = await ort.InferenceSession.create(files['onnx/model.onnx']!);
  const ids = [464, 1468, 582, 3114, 379, 262, 5417, 290].map((t) => t % vocab);
  const out = await session.run(prefillFeeds(session, ids));
  const logits = out.logits!;
  expect(logits.dims).toEqual([1, ids.length, vocab]);
  expect(vocab).toBe(4096);
  expect(Array.from(logits.data as Float32Array).every(Number.isFinite)).toBe(true);

  // Evaluate the exported file on the protocol the UI used for the pruned perplexity (evaluation.txt,
  // first 8,192 tokens, ctx 128, stride 64) with the exported tokenizer: the same number, within float32 noise.
  const tokenizer = tokenizerFromJson(JSON.parse(strFromU8(files['tokenizer.json']!)), {}, 'exported');
  const ids8k = tokenizer.encode(readFileSync('public/data/evaluation.txt', 'utf8')).slice(0, 8192);
  expect(ids8k).toHaveLength(8192);
  const exportedPpl = await exportedPerplexity(session, ids8k, 128, 64);
  const shownPpl = Number(await page.getByTestId('pruned-ppl').textContent());
  expect(Math.abs(exportedPpl - shownPpl) / shownPpl).toBeLessThan(2e-3);
  await session.release();

  if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });

  // Reload: the plan (timeline) and the results table persist.
  const planName = await page.getByTestId('plan-name').textContent();
  await page.reload();
  await expect(page.getByTestId('plan-name')).toHaveText(planName ?? '');
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(1);
  await expect(page.getByTestId('undo')).toBeEnabled();
  await page.getByTestId('undo').click();
  await expect(page.getByTestId('plan-name')).not.toHaveText(planName ?? '');

  // A plan for another model is refused with the engine's typed error; the current plan stays.
  const current = await page.getByTestId('plan-name').textContent();
  const bad = { ...plan, layers: plan.layers.slice(0, 2) };
  await page
    .getByTestId('load-plan')
    .setInputFiles({ name: 'bad.plan.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bad)) });
  await expect(page.getByTestId('error')).toContainText('layer entries', { timeout: 120_000 });
  await expect(page.getByTestId('plan-name')).toHaveText(current ?? '');
  expect(errors).toEqual([]);
});
