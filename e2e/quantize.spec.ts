/**
 * Quantization after pruning through the UI: apply a small plan, quantize it as int8 and int4-rtn
 * (GPTQ is greyed out without calibration), see each variant as its own results row and Pareto point
 * with a finite perplexity and a smaller file than fp32, download the bundle with the int4 variant and
 * check it in Node (onnxruntime-node: the file's perplexity on the protocol the UI states equals the
 * number shown), and see the rows survive a reload.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { tokenizerFromJson } from '../src/io/tokenizer';
import { prefillFeeds } from '../src/test-util/ort-prefill';

const NUMBER = /^\d+(\.\d+)?$/;

/** Perplexity of a with-past file run as a prefill per window (ctx, stride; no BOS), as in prune.spec.ts. */
async function filePerplexity(session: ort.InferenceSession, ids: number[], ctx: number, stride: number): Promise<number> {
  let nll = 0;
  let count = 0;
  for (let begin = 0, prevEnd = 0; prevEnd < ids.length; begin += stride) {
    const end = Math.min(begin + ctx, ids.length);
    const out = await session.run(prefillFeeds(session, ids.slice(begin, end)));
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

async function quantize(page: Page, variant: string): Promise<{ ppl: number; fp32Ppl: number; bytes: number; fp32Bytes: number }> {
  await page.getByTestId(`quantize-variant-${variant}`).check();
  await page.getByTestId('quantize-run').click();
  const row = page.getByTestId(`quantize-row-${variant}`);
  await expect(row).toBeVisible({ timeout: 300_000 });
  const ppl = row.getByTestId('quantize-ppl');
  const size = row.getByTestId('quantize-bytes');
  return {
    ppl: Number(await ppl.getAttribute('data-ppl')),
    fp32Ppl: Number(await ppl.getAttribute('data-fp32-ppl')),
    bytes: Number(await size.getAttribute('data-bytes')),
    fp32Bytes: Number(await size.getAttribute('data-fp32-bytes')),
  };
}

test('quantize: apply, int8 and int4-rtn rows, export the int4 bundle, reload', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));

  await page.goto('/');
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('ppl-value')).toHaveText(NUMBER, { timeout: 540_000 });
  await expect(page.getByTestId('latency-median')).toHaveText(NUMBER, { timeout: 300_000 });

  await page.getByTestId('compute-magnitude').click();
  await expect(page.getByTestId('prune-criterion')).toHaveValue('magnitude', { timeout: 120_000 });
  await page.getByTestId('global-slider').fill('20');
  await expect(page.getByTestId('plan-name')).toContainText('params20', { timeout: 60_000 });
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('pruned-ppl')).toHaveText(NUMBER, { timeout: 540_000 });
  await expect(page.getByTestId('pruned-latency')).toHaveText(NUMBER, { timeout: 300_000 });
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(1);
  const prunedPpl = Number(await page.getByTestId('pruned-ppl').textContent());

  // Every variant of the registry is listed with a plain tooltip; GPTQ says why it is greyed out.
  for (const v of ['fp16', 'int8', 'int4-rtn', 'int4-gptq'])
    expect((await page.getByTestId(`quantize-variant-${v}`).locator('xpath=..').getAttribute('title'))?.length).toBeGreaterThan(20);
  await expect(page.getByTestId('quantize-variant-int4-gptq')).toBeDisabled();
  await expect(page.getByTestId('quantize-why-int4-gptq')).toContainText('calibration');

  const int8 = await quantize(page, 'int8');
  const int4 = await quantize(page, 'int4-rtn');
  for (const q of [int8, int4]) {
    expect(Number.isFinite(q.ppl)).toBe(true);
    // scored on the applied model's tokens: its fp32 number is the one the Apply card shows
    expect(Math.abs(q.fp32Ppl - prunedPpl)).toBeLessThan(0.006);
    expect(q.bytes).toBeLessThan(q.fp32Bytes);
  }
  expect(int4.bytes).toBeLessThan(int8.bytes);
  expect(Math.abs(int8.ppl / int8.fp32Ppl - 1)).toBeLessThan(0.01);

  const rows = page.getByTestId('results-table').locator('tbody tr');
  await expect(rows).toHaveCount(3);
  await expect(page.locator('[data-testid="result-row"][data-dtype="int8"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="result-row"][data-dtype="int4-rtn"]')).toHaveCount(1);
  await expect(page.getByTestId('pareto-labels').locator('li[data-dtype="int4-rtn"]')).toHaveCount(1);
  await expect(page.getByTestId('pareto-labels').locator('li[data-dtype="int8"]')).toHaveCount(1);

  // The bundle with the int4 variant: its file is the one measured, and scores the same perplexity.
  const [download] = await Promise.all([
    page.waitForEvent('download', { timeout: 300_000 }),
    page.getByTestId('quantize-export-int4-rtn').click(),
  ]);
  expect(download.suggestedFilename()).toBe('demo-gpt2-pruned-int4-rtn.zip');
  const files = unzipSync(new Uint8Array(readFileSync(await download.path())));
  const q4 = files['onnx/model_q4.onnx'];
  expect(q4?.length).toBe(int4.bytes);
  const config = JSON.parse(strFromU8(files['config.json']!)) as { 'transformers.js_config': { dtype: string } };
  expect(config['transformers.js_config'].dtype).toBe('q4');
  expect(strFromU8(files['README.md']!)).toContain('int4-rtn');
  const tokenizer = tokenizerFromJson(JSON.parse(strFromU8(files['tokenizer.json']!)), {}, 'exported');
  const ids = tokenizer.encode(readFileSync('public/data/evaluation.txt', 'utf8')).slice(0, 8192);
  const session = await ort.InferenceSession.create(q4!);
  const nodePpl = await filePerplexity(session, ids, 128, 64);
  await session.release();
  expect(Math.abs(nodePpl / int4.ppl - 1)).toBeLessThan(2e-3);

  if (process.env.E2E_SCREENSHOT) await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true });

  // Reload: the variant rows persist with the applied plan's row.
  await page.reload();
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(3, { timeout: 120_000 });
  await expect(page.locator('[data-testid="result-row"][data-dtype="int4-rtn"]')).toHaveCount(1);
  expect(errors).toEqual([]);
});
