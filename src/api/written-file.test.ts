/**
 * api/written-file.ts: a spilled model's written file is stored and prepared, the bytes in memory freed
 * (their buffer detached), and it opens in a disposable isolate that reads each tensor from the file;
 * and `restore` gives back the same bytes, bit for bit, read from the file; the file goes on dispose.
 * No host where the runner has no isolates (onnxruntime-web in the browser's engine Worker: the file
 * opens there as a view of the bytes; onnxruntime-node) or the model is not spilled.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { asFloat32, int64Tensor, type Runner } from '../core/runner';
import { buildOnnx } from '../graph/build';
import type { OpenFileOptions } from '../graph/open-file';
import { fileLogits } from '../test-util/file-logits';
import { createNodeRunner } from '../runtime/ort-node';
import { createWebRunner } from '../runtime/ort-web';
import { randomIR } from '../test-util/random-ir';
import { trackedFileStores } from '../test-util/tracked-file-store';
import type { LoadedModel, StudioDeps } from './state';
import { writtenFileHost } from './written-file';

const feeds = { input_ids: int64Tensor([5, 1, 7, 3, 9, 2], [1, 6]) };
const spilled = { residency: {} } as LoadedModel;
// 4n + 3 bytes would not be float32 values: the encoder's output has any length
const model = () => buildOnnx(randomIR({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 97, seed: 5 }), { logits: true });

const logitsOf = (runner: Runner, bytes: Uint8Array, where: OpenFileOptions) => fileLogits(runner, bytes, where, feeds);

describe('the written file of a spilled model', () => {
  it('opens in an isolate from the stored file, frees the bytes meanwhile, and restores them bit for bit', async () => {
    const { factory, files } = trackedFileStores();
    let collected = 0;
    const deps = { runner: createWebRunner(), gramStore: factory, collectGarbage: () => collected++ } as unknown as StudioDeps;
    const host = writtenFileHost(deps, spilled)!;
    const bytes = model();
    const original = bytes.slice();
    const expected = await logitsOf(createWebRunner({ isolate: false }), original, { viewed: false });
    const file = await host.prepare(bytes);
    // freed before the reference runs: every tensor is read from the stored file
    expect(bytes.byteLength).toBe(0);
    expect(collected).toBe(1);
    const got = await file.withSession(async (s) => asFloat32((await s.run(feeds, ['logits'])).logits, 'logits'));
    expect(Buffer.from(got.buffer).equals(Buffer.from(expected.buffer))).toBe(true);
    const back = host.restore(bytes);
    expect(back.byteLength).toBe(original.byteLength);
    expect(Buffer.from(back).equals(Buffer.from(original))).toBe(true);
    // the restored bytes are the ones stored: a second prepare reuses the file and frees them again
    await host.prepare(back);
    expect(files.length).toBe(1);
    expect(back.byteLength).toBe(0);
    expect(Buffer.from(host.restore(back)).equals(Buffer.from(original))).toBe(true);
    await host.dispose();
    expect(existsSync(files[0]!)).toBe(false);
  }, 60_000);

  it("has no host without isolates (the browser's engine Worker, onnxruntime-node), or for a model in memory", () => {
    const { factory } = trackedFileStores();
    expect(writtenFileHost({ runner: createNodeRunner(), gramStore: factory } as unknown as StudioDeps, spilled)).toBeUndefined();
    const inProcess = createWebRunner({ isolate: false });
    expect(inProcess.readsExternalDataBySubarray).toBe(true);
    expect(writtenFileHost({ runner: inProcess, gramStore: factory } as unknown as StudioDeps, spilled)).toBeUndefined();
    expect(writtenFileHost({ runner: createWebRunner(), gramStore: factory } as unknown as StudioDeps, {} as LoadedModel)).toBeUndefined();
  });
});
