/**
 * onnxruntime-web reads external data through `subarray` while a session opens
 * (Runner.readsExternalDataBySubarray): a session opened from a spilled model with lazy bytes
 * (core/lazy-bytes.ts) gives the logits of the in-memory model, each tensor read from the store when
 * the runtime asks for it and none kept resident. Fails if a new onnxruntime-web reads mounted
 * files another way (then the flag must go).
 */
import { describe, expect, it } from 'vitest';
import { memoryGramStore, type GramStore } from '../core/gram-store';
import { LazyBytes } from '../core/lazy-bytes';
import { spillWeights, tensorsUnder } from '../core/weight-residency';
import { buildModelProto } from '../graph/build';
import { openWithWeights, weightInputsAsExternal } from '../graph/external-weights';
import { openModelSession } from '../graph/model-session';
import { floats, idsFeed, maxAbsDiff, SAMPLE_IDS } from '../test-util/graph-run';
import { randomLlamaIR } from '../test-util/random-llama';
import { createWebRunner } from './ort-web';

const web = createWebRunner({ isolate: false });

function countingStore(): GramStore & { gets: number } {
  const inner = memoryGramStore();
  // every read counts, whether a fresh copy (get) or into a reused buffer (readInto)
  const s = {
    ...inner,
    gets: 0,
    get: (k: string) => (s.gets++, inner.get(k)),
    readInto: (k: string, into: Float32Array) => (s.gets++, inner.readInto!(k, into)),
  };
  return s;
}

describe('lazy external data in onnxruntime-web', () => {
  it('says it reads external data by subarray', () => {
    expect(web.readsExternalDataBySubarray).toBe(true);
  });

  it('opens a spilled model tensor by tensor with the logits of the model in memory', async () => {
    const ir = randomLlamaIR({ vocab: 50 });
    const dense = await openModelSession(web, ir, { logits: true });
    const want = floats((await dense.run(idsFeed(SAMPLE_IDS))).logits);
    await dense.release();
    const store = countingStore();
    const residency = spillWeights(ir, store);
    residency.trim(0);
    const graph = buildModelProto(ir, { logits: true, weights: 'inputs' });
    const { externalData } = weightInputsAsExternal(graph, ir, web);
    expect(externalData.every((f) => f.data instanceof LazyBytes && f.data.length === 0 && f.data.byteLength > 0)).toBe(true);
    expect(store.gets).toBe(0);
    const session = await openWithWeights(web, graph, ir, { prepack: false });
    expect(store.gets).toBeGreaterThanOrEqual(externalData.length);
    expect(residency.residentBytes()).toBe(0);
    expect(maxAbsDiff(floats((await session.run(idsFeed(SAMPLE_IDS))).logits), want)).toBeLessThan(1e-5);
    await session.release();
    expect([...tensorsUnder(ir.weights)].length).toBeGreaterThan(0);
    await residency.dispose();
  });
});
