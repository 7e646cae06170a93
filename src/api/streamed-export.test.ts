/**
 * The streamed export (api/streamed-export.ts) as the browser's engine Worker runs it, with Node's
 * temp-file stores standing in for OPFS (onnxruntime-web in process, the demo model's weights spilled):
 * the bundle's model file is a Blob read from the export store whose bytes equal those of the same
 * export kept in memory (another engine, weights in memory), verified by onnxruntime-web on the file
 * opened from storage, with the written file's own perplexity in the card equal to the in-memory
 * bundle's; the file is deleted by the next export and by unloading the model; a store that cannot
 * open leaves the export in memory.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { writeBundle } from '../cli/bundle';
import { openExportFileStore } from '../cli/export-file-store';
import type { ExportFileStoreFactory } from '../core/export-file-store';
import { createWebRunner } from '../runtime/ort-web';
import { trackedFileStores } from '../test-util/tracked-file-store';
import { DEMO_DIR } from '../test-util/golden';
import type { StudioDeps } from './state';
import { createStudioApi } from './studio';
import type { ExportBundle } from './types';

const runner = createWebRunner();
const { factory: gramStore } = trackedFileStores();
/** Paths of the export files opened, in order. */
const exportFiles: string[] = [];
const exportFileStore: ExportFileStoreFactory = async () => {
  const s = openExportFileStore();
  exportFiles.push(s.where.replace(/^temp file /, ''));
  return s;
};

const api = (deps: Partial<StudioDeps>) => createStudioApi({ runner, demoUrl: '', openDir: dirSource, isolateSessions: 'never', ...deps });
const streaming = api({ weightSpill: 'always', gramStore, gramStorage: 'never', exportFileStore });
const inMemory = api({ weightSpill: 'never' });
const TEXT = readFileSync('public/data/calibration.txt', 'utf8').slice(0, 8000);

async function prepare(a: typeof streaming): Promise<void> {
  await a.loadModel({ kind: 'dir', path: DEMO_DIR });
  await a.computeImportance('magnitude');
  const plan = await a.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
  await a.applyPlan({ plan, compensation: 'none' });
  // the card reports the written file's perplexity on the protocol of the applied model's last one
  await a.evaluatePerplexity({ text: TEXT, textName: 'calibration.txt', contextLength: 64, stride: 32, maxTokens: 600, target: 'pruned' });
}

const onnxOf = (b: ExportBundle) => b.files.find((f) => f.name === 'onnx/model.onnx');
const card = (b: ExportBundle) => new TextDecoder().decode(b.files.find((f) => f.name === 'README.md')!.bytes);

let streamed: ExportBundle;
let kept: ExportBundle;

beforeAll(async () => {
  await prepare(streaming);
  await prepare(inMemory);
  streamed = await streaming.exportModel({ format: 'onnx', dtype: 'fp32' });
  kept = await inMemory.exportModel({ format: 'onnx', dtype: 'fp32' });
}, 300_000);

describe('streamed ONNX export', () => {
  it('bundles the model file as a Blob from the export store, with the same bytes as the in-memory export', async () => {
    expect(onnxOf(streamed)).toBeUndefined();
    expect(streamed.stored?.map((f) => f.name)).toEqual(['onnx/model.onnx']);
    expect(kept.stored).toBeUndefined();
    const reference = onnxOf(kept)!.bytes;
    const blob = streamed.stored![0]!.blob;
    expect(blob.size).toBe(reference.byteLength);
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(reference))).toBe(true);
    expect(exportFiles).toHaveLength(1);
    expect(existsSync(exportFiles[0]!)).toBe(true);
    expect(streamed.files.map((f) => f.name)).toEqual(kept.files.filter((f) => f.name !== 'onnx/model.onnx').map((f) => f.name));
  });

  it('verifies the file opened from storage against the masked preview, and measures its perplexity there', () => {
    expect(streamed.verification.positions).toBe(kept.verification.positions);
    expect(streamed.verification.maxAbsLogitDiff).toBeLessThan(1e-4);
    expect(streamed.verification.maxAbsLogitDiff).toBe(kept.verification.maxAbsLogitDiff);
    // the card names the written file's perplexity: the same text as the in-memory bundle's
    expect(card(streamed)).toMatch(/perplexity/i);
    expect(card(streamed)).toBe(card(kept));
  });

  it("deletes the previous export's file at the next export, and the last one when the model is unloaded", async () => {
    const again = await streaming.exportModel({ format: 'onnx', dtype: 'fp32' });
    expect(exportFiles).toHaveLength(2);
    expect(existsSync(exportFiles[0]!)).toBe(false);
    expect(existsSync(exportFiles[1]!)).toBe(true);
    expect(again.stored![0]!.blob.size).toBe(onnxOf(kept)!.bytes.byteLength);
    await streaming.loadModel({ kind: 'dir', path: DEMO_DIR });
    expect(existsSync(exportFiles[1]!)).toBe(false);
  }, 120_000);

  it('is written to a folder by the CLI bundle writer like an in-memory bundle', async () => {
    const cli = api({ weightSpill: 'always', gramStore, gramStorage: 'never', exportFileStore });
    await prepare(cli);
    const out = mkdtempSync(join(tmpdir(), 'streamed-bundle-'));
    const written = await writeBundle(cli, out, { format: 'onnx', dtype: 'fp32' });
    expect(written.files.map((f) => f.name)).toContain('onnx/model.onnx');
    expect(readFileSync(join(out, 'onnx/model.onnx')).equals(Buffer.from(onnxOf(kept)!.bytes))).toBe(true);
    expect(readFileSync(join(out, 'README.md'), 'utf8')).toBe(card(kept));
  }, 120_000);

  it('keeps the bytes in memory when the export store cannot open', async () => {
    const failing = api({
      weightSpill: 'always',
      gramStore,
      gramStorage: 'never',
      exportFileStore: () => Promise.reject(new Error('OPFS is not available here')),
    });
    await prepare(failing);
    const b = await failing.exportModel({ format: 'onnx', dtype: 'fp32' });
    expect(b.stored).toBeUndefined();
    expect(Buffer.from(onnxOf(b)!.bytes).equals(Buffer.from(onnxOf(kept)!.bytes))).toBe(true);
  }, 120_000);
});
