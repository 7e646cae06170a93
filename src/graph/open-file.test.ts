/**
 * graph/open-file.ts: written ONNX bytes open as an external-data view; with the same bytes in a
 * file store and a runner that reads stored files (a Node isolate of onnxruntime-web), every tensor
 * is handed over as a place in that file (no bytes cross; the prepared file says the bytes may go),
 * and the logits equal those of the bytes opened whole. A runner that does not read stored files gets
 * the bytes themselves.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { openFileGramStore } from '../cli/gram-file-store';
import { int64Tensor, type Runner, type SessionOptions } from '../core/runner';
import { createWebRunner } from '../runtime/ort-web';
import { randomIR } from '../test-util/random-ir';
import { buildOnnx } from './build';
import { fileLogits } from '../test-util/file-logits';
import { prepareFile, type StoredFileBytes } from './open-file';

const bytes = buildOnnx(randomIR({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 96, seed: 3 }), { logits: true });
const feeds = { input_ids: int64Tensor([5, 1, 7, 3, 9, 2], [1, 6]) };
const store = openFileGramStore();
afterAll(() => store.dispose());

function stored(): StoredFileBytes {
  const values = Math.floor(bytes.byteLength / 4);
  store.put('written', new Float32Array(bytes.buffer, bytes.byteOffset, values));
  const base = store.locate!('written')!;
  return { at: (offset, length) => (offset + length <= 4 * values ? { file: base.file, at: base.at + offset, bytes: length } : undefined) };
}

/** The runner with every open's options recorded. */
function recording(runner: Runner): { runner: Runner; opened: SessionOptions[] } {
  const opened: SessionOptions[] = [];
  return { opened, runner: { ...runner, open: (m, o = {}) => (opened.push(o), runner.open(m, o)) } };
}

const logits = (runner: Runner, viewed: boolean, where?: StoredFileBytes) =>
  fileLogits(runner, bytes, { viewed, ...(where ? { stored: where } : {}) }, feeds);

describe('opening written bytes', () => {
  it('in an isolate, reads every tensor from the stored file and computes the same logits', async () => {
    const web = createWebRunner();
    const isolated = await web.isolate!();
    try {
      expect(isolated.readsStoredFiles).toBe(true);
      const { runner, opened } = recording(isolated);
      const whole = await logits(runner, false);
      const fromFile = await logits(runner, true, stored());
      expect(Buffer.from(fromFile.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
      const external = opened[1]!.externalData!;
      expect(external.length).toBeGreaterThan(4);
      expect(external.every((f) => f.stored !== undefined && f.data.byteLength === 0)).toBe(true);
      // every tensor comes from the file, so the bytes in memory may go before the session opens
      expect(prepareFile(bytes, { viewed: true, stored: stored() }).fromStorage).toBe(true);
      expect(prepareFile(bytes, { viewed: true }).fromStorage).toBe(false);
    } finally {
      await isolated.dispose();
    }
  }, 60_000);

  it('hands the bytes themselves to a runner that does not read stored files', async () => {
    const { runner, opened } = recording(createWebRunner({ isolate: false }));
    const whole = await logits(runner, false);
    const viewed = await logits(runner, true, stored());
    expect(Buffer.from(viewed.buffer).equals(Buffer.from(whole.buffer))).toBe(true);
    const external = opened[1]!.externalData!;
    expect(external.every((f) => f.stored === undefined && f.data.byteLength > 0)).toBe(true);
  }, 60_000);
});
