/**
 * The large-model memory path in the real app, on the demo model: opened with `?weights=storage`,
 * the engine keeps the weights in OPFS (the architecture panel says so), spills the applied model's
 * arrays there too, and streams the ONNX export into an OPFS file that the download zips as a Blob
 * (api/streamed-export.ts, workers/export-file-opfs.ts, io/zip-stored.ts). (The layer-by-layer apply
 * of a model too large to keep a compensated copy is tested in Node: api/weight-spill.test.ts.) The downloaded
 * model file is byte for byte the one the same plan exports with the weights in memory (the page
 * without the flag), and onnxruntime-node runs it.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { unzipSync } from 'fflate';
import * as ort from 'onnxruntime-node';
import { prefillFeeds } from '../src/test-util/ort-prefill';
import { NUMBER, scoreMagnitude } from './teach-helpers';

/** Loads the page, prunes 30 % of heads and FFN by magnitude, applies (OBS-free), exports: the zip's files. */
async function exportedZip(page: Page, url: string): Promise<Record<string, Uint8Array>> {
  await page.goto(url);
  await expect(page.getByTestId('model-name')).toHaveText('demo-gpt2', { timeout: 300_000 });
  await expect(page.getByTestId('ppl-value')).toHaveText(NUMBER, { timeout: 540_000 });
  await scoreMagnitude(page);
  await page.getByTestId('global-metric').selectOption('units');
  await page.getByTestId('global-slider').fill('30');
  await expect(page.getByTestId('plan-name')).toContainText('magnitude-uniform-h30-f30', { timeout: 60_000 });
  await page.getByTestId('apply').click();
  await expect(page.getByTestId('pruned-ppl')).toHaveText(NUMBER, { timeout: 540_000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 300_000 }), page.getByTestId('export').click()]);
  await expect(page.getByTestId('export-verification')).toContainText('max |Δlogit|');
  return unzipSync(new Uint8Array(readFileSync(await download.path())));
}

/** Names of the files in the origin's OPFS folder `folder`. */
function opfsFiles(page: Page, folder: string): Promise<string[]> {
  return page.evaluate(async (name) => {
    const root = await navigator.storage.getDirectory();
    const dir = (await root.getDirectoryHandle(name, { create: true })) as FileSystemDirectoryHandle & {
      keys(): AsyncIterable<string>;
    };
    const out: string[] = [];
    for await (const k of dir.keys()) out.push(k);
    return out;
  }, folder);
}

test('weights in storage: a streamed export, the same file as in memory', async ({ browser }) => {
  const stored = await browser.newPage();
  const errors: string[] = [];
  stored.on('pageerror', (e) => errors.push(e.message));
  const fromStorage = await exportedZip(stored, '/?weights=storage');
  await expect(stored.getByTestId('arch-weight-store')).toContainText('OPFS');
  // the export's file is in OPFS, where the download read it from
  expect((await opfsFiles(stored, 'prune-studio-exports')).filter((n) => n.endsWith('.onnx'))).toHaveLength(1);
  expect(errors).toEqual([]);
  await stored.close();

  const plain = await browser.newPage();
  const inMemory = await exportedZip(plain, '/');
  await expect(plain.getByTestId('arch-weight-store')).toHaveCount(0);
  await plain.close();

  const model = fromStorage['onnx/model.onnx']!;
  expect(Object.keys(fromStorage).sort()).toEqual(Object.keys(inMemory).sort());
  expect(model.byteLength).toBeGreaterThan(1_000_000);
  expect(Buffer.from(model).equals(Buffer.from(inMemory['onnx/model.onnx']!))).toBe(true);

  const session = await ort.InferenceSession.create(model);
  const out = await session.run(prefillFeeds(session, [1, 2, 3, 4, 5]));
  expect(out.logits!.dims.slice(0, 2)).toEqual([1, 5]);
  expect(Array.from(out.logits!.data as Float32Array).every(Number.isFinite)).toBe(true);
});
