/**
 * ort-web's isolated Runner (a worker thread with its own onnxruntime-web): the same outputs as the
 * in-process Runner for a weights-as-inputs graph fed from shared and from plain weights, and for
 * an embedded-weights graph opened as external data (graph/external-weights.ts), a spilled model's
 * weights moved over as owned copies or read by the child from the store's file; runtime errors
 * arrive as RuntimeFailure; a disposed isolate refuses further runs.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../core/errors';
import { memoryGramStore } from '../core/gram-store';
import { openFileGramStore } from '../cli/gram-file-store';
import { spillWeights } from '../core/weight-residency';
import { shareWeights, isShared } from '../core/shared-weights';
import { buildModelProto, buildOnnx } from '../graph/build';
import { weightInputsAsExternal } from '../graph/external-weights';
import { openModelSession } from '../graph/model-session';
import { weightEntries } from '../graph/weight-inputs';
import { floats, idsFeed, maxAbsDiff, SAMPLE_IDS } from '../test-util/graph-run';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { createWebRunner } from './ort-web';

const web = createWebRunner();

describe('isolated onnxruntime-web runner', () => {
  it('offers isolate() in Node and not when disabled', () => {
    expect(web.isolate).toBeTypeOf('function');
    expect(createWebRunner({ isolate: false }).isolate).toBeUndefined();
  });

  it.each([
    ['gpt2', randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 })],
    ['llama', randomLlamaIR({ vocab: 50 })],
  ])('%s: logits equal to in-process, weights plain and shared, as inputs and as external data', async (_name, ir) => {
    const inProcess = await openModelSession(web, ir, { logits: true });
    const want = floats((await inProcess.run(idsFeed(SAMPLE_IDS))).logits);
    await inProcess.release();
    const iso = await web.isolate!();
    try {
      const plain = await openModelSession(iso, ir, { logits: true });
      expect(maxAbsDiff(floats((await plain.run(idsFeed(SAMPLE_IDS))).logits), want)).toBeLessThan(1e-6);
      await plain.release();
      shareWeights(ir);
      expect(weightEntries(ir).every(([, t]) => isShared(t.data))).toBe(true);
      const shared = await openModelSession(iso, ir, { logits: true });
      expect(maxAbsDiff(floats((await shared.run(idsFeed(SAMPLE_IDS))).logits), want)).toBeLessThan(1e-6);
      const { skeleton, externalData } = weightInputsAsExternal(buildModelProto(ir, { logits: true, weights: 'inputs' }), ir);
      expect(skeleton.length).toBeLessThan(buildOnnx(ir, { logits: true }).length);
      const embedded = await iso.open(skeleton, { externalData });
      expect(embedded.inputNames).toEqual(['input_ids']);
      expect(externalData.every((f) => isShared(f.data))).toBe(true);
      expect(maxAbsDiff(floats((await embedded.run(idsFeed(SAMPLE_IDS))).logits), want)).toBeLessThan(1e-5);
    } finally {
      await iso.dispose();
    }
  });

  it("takes a spilled model's weights as owned copies, moved to the isolate (the model keeps its own)", async () => {
    const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 });
    const inProcess = await openModelSession(web, ir, { logits: true });
    const want = floats((await inProcess.run(idsFeed(SAMPLE_IDS))).logits);
    await inProcess.release();
    const residency = spillWeights(ir, memoryGramStore());
    residency.trim(0);
    const iso = await web.isolate!();
    try {
      const { skeleton, externalData } = weightInputsAsExternal(buildModelProto(ir, { logits: true, weights: 'inputs' }), ir);
      expect(externalData.every((f) => f.owned === true && f.data.byteLength > 0)).toBe(true);
      expect(residency.residentBytes()).toBe(0);
      const embedded = await iso.open(skeleton, { externalData });
      // transferred, not copied: the copies are gone from this thread
      expect(externalData.every((f) => f.data.byteLength === 0)).toBe(true);
      expect(maxAbsDiff(floats((await embedded.run(idsFeed(SAMPLE_IDS))).logits), want)).toBeLessThan(1e-5);
      expect(ir.weights.tokenEmbedding!.data.length).toBeGreaterThan(0);
    } finally {
      await iso.dispose();
      await residency.dispose();
    }
  });

  it("reads a spilled model's weights from the store's file itself, tensor by tensor (nothing crosses)", async () => {
    const ir = randomLlamaIR({ vocab: 50 });
    const inProcess = await openModelSession(web, ir, { logits: true });
    const want = floats((await inProcess.run(idsFeed(SAMPLE_IDS))).logits);
    await inProcess.release();
    const residency = spillWeights(ir, openFileGramStore());
    residency.trim(0);
    const iso = await web.isolate!();
    try {
      expect(iso.readsStoredFiles).toBe(true);
      const graph = buildModelProto(ir, { logits: true, weights: 'inputs' });
      const { skeleton, externalData } = weightInputsAsExternal(graph, ir, iso);
      expect(externalData.every((f) => f.stored !== undefined && f.data.byteLength === 0)).toBe(true);
      const embedded = await iso.open(skeleton, { externalData });
      expect(maxAbsDiff(floats((await embedded.run(idsFeed(SAMPLE_IDS))).logits), want)).toBeLessThan(1e-5);
      expect(residency.reads()).toBe(0);
    } finally {
      await iso.dispose();
      await residency.dispose();
    }
  });

  it('reports runtime errors as RuntimeFailure and refuses runs once disposed', async () => {
    const ir = randomIR();
    const iso = await web.isolate!();
    const session = await openModelSession(iso, ir, { logits: true });
    await expect(session.run({ input_ids: { type: 'int64', dims: [1, 3], data: new BigInt64Array([1n, 2n]) } })).rejects.toBeInstanceOf(
      RuntimeFailure,
    );
    await expect(session.run({ input_ids: { type: 'int64', dims: [1, 2], data: new BigInt64Array([1n, 99999n]) } })).rejects.toThrow(
      /out of range|bounds|index/i,
    );
    expect((await session.run(idsFeed(SAMPLE_IDS))).logits?.dims).toEqual([SAMPLE_IDS.length, SAMPLE_IDS[0]!.length, ir.spec.vocabSize]);
    await iso.dispose();
    await expect(session.run(idsFeed(SAMPLE_IDS))).rejects.toThrow(/disposed/);
  });
});
