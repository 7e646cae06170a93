/**
 * Spilled weights through the engine (StudioDeps.weightSpill 'always' with Node's temp-file store, on
 * the demo model): with every array evicted before each step, so each step reads its weights back
 * from the file, perplexity, greedy generation, the OBS criterion, OBS-compensated apply and the
 * exported bytes equal those of the same engine with the weights in memory (the applied model's own
 * arrays spilled too, and export verification's rebuilt reference for the export only); the files go when the model is unloaded; a store that cannot open leaves the weights in memory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { isResident, isSpilled, tensorsUnder, weightsSpilled } from '../core/weight-residency';
import { tokenEmbeddingOf } from '../core/ir';
import { denseFeeds, streamPerplexity } from './evaluation';
import { createNodeRunner } from '../runtime/ort-node';
import { createWebRunner } from '../runtime/ort-web';
import { loadDemoCalibrated } from '../test-util/golden';
import { createStudioApi } from './studio';
import { trackedFileStores } from '../test-util/tracked-file-store';
import { evictResident } from './weight-spill';
import { collectGarbage } from '../cli/collect-garbage';
import type { StudioDeps } from './state';

const runner = createNodeRunner();
const CAL = { samples: 4, seq: 64 };
const TEXT = readFileSync('public/data/calibration.txt', 'utf8').slice(0, 6000);

/** Paths of the files the stores opened by this factory write. */
const { factory: trackedFileStore, files } = trackedFileStores();

const api = (deps: Partial<StudioDeps> = {}) => createStudioApi({ runner, demoUrl: '', openDir: dirSource, ...deps });
const inRam = api({ weightSpill: 'never' });
const spilled = api({ weightSpill: 'always', gramStore: trackedFileStore, gramStorage: 'never' });
/** Bytes resident in the newest applied-model store (the one an apply is filling), 0 before it opens. */
const residentOf = (a: typeof spilled) => a.state.loaded?.appliedSpills?.at(-1)?.residentBytes() ?? 0;
/** Evicts every spilled array, so the next step reads them all from the file. */
const evictAll = () => spilled.state.loaded!.residency!.trim(0);

beforeAll(async () => {
  await loadDemoCalibrated(inRam, CAL, true);
  await loadDemoCalibrated(spilled, CAL, true);
}, 300_000);

describe('spilled weights through the engine', () => {
  it('are spilled to a temp file, and the summary says where', async () => {
    const m = spilled.state.loaded!;
    expect(weightsSpilled(m.ir)).toBe(true);
    expect(files.length).toBe(1);
    expect(existsSync(files[0]!)).toBe(true);
    expect(m.residency!.totalBytes).toBeGreaterThan(4_000_000);
    expect(inRam.state.loaded!.residency).toBeUndefined();
  });

  it('give the same perplexity', async () => {
    evictAll();
    const reads = spilled.state.loaded!.residency!.reads();
    const req = { text: TEXT, textName: 'calibration.txt', contextLength: 128, stride: 128, target: 'dense' as const };
    const [a, b] = [await inRam.evaluatePerplexity(req), await spilled.evaluatePerplexity(req)];
    expect(b.perplexity).toBe(a.perplexity);
    expect(spilled.state.loaded!.residency!.reads()).toBeGreaterThan(reads);
  });

  it('give the same perplexity block by block, the head in chunks read by rows (the vocabulary matrix never resident)', async () => {
    evictAll();
    const perplexity = (a: typeof inRam) => {
      const m = a.state.loaded!;
      const req = { text: TEXT, textName: 'calibration.txt', contextLength: 64, stride: 32, maxTokens: 400, batchSize: 3 };
      return streamPerplexity(
        m,
        m.evalSession,
        m.ir.spec.maxPositions,
        req,
        denseFeeds(m.ir),
        {},
        { ...m.evalBlocks!, path: 'blocks', headChunk: 1500 },
      );
    };
    const reads = spilled.state.loaded!.residency!.reads();
    const [a, b] = [await perplexity(inRam), await perplexity(spilled)];
    expect(b.protocol.tokensScored).toBe(399);
    expect(b.meanNll).toBe(a.meanNll);
    const m = spilled.state.loaded!;
    expect(isResident(tokenEmbeddingOf(m.ir))).toBe(false);
    expect(m.residency!.reads()).toBeGreaterThan(reads); // the blocks' weights were read back
  });

  it('give the same greedy generation', async () => {
    evictAll();
    const req = { prompt: 'The model', maxNewTokens: 8, temperature: 0, topK: 0, seed: 1, target: 'dense' as const };
    expect((await spilled.generate(req)).text).toBe((await inRam.generate(req)).text);
  });

  it('give the same OBS scores, applied weights and exported bytes', async () => {
    evictAll();
    const [sa, sb] = [await inRam.computeImportance('obs'), await spilled.computeImportance('obs')];
    expect(sb.heads).toEqual(sa.heads);
    expect(sb.ffn).toEqual(sa.ffn);
    const plan = await inRam.allocatePlan({ criterion: 'obs', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
    evictAll();
    await inRam.applyPlan({ plan, compensation: 'obs' });
    await spilled.applyPlan({ plan, compensation: 'obs' });
    const applied = spilled.state.loaded!.appliedSpills!;
    expect(applied.length).toBe(1);
    expect(weightsSpilled(spilled.state.loaded!.pruned!.ir)).toBe(true);
    expect(files.length).toBe(2);
    evictAll();
    applied[0]!.trim(0);
    const [ea, eb] = [
      await inRam.exportModel({ format: 'onnx', dtype: 'fp32' }),
      await spilled.exportModel({ format: 'onnx', dtype: 'fp32' }),
    ];
    const model = (b: typeof ea) => b.files.find((f) => f.name.endsWith('.onnx'))!.bytes;
    expect(Buffer.from(model(eb)).equals(Buffer.from(model(ea)))).toBe(true);
    // the rebuilt reference was spilled for the export only
    expect(files.length).toBe(3);
    expect(existsSync(files[2]!)).toBe(false);
  }, 120_000);

  it('removes the files (dense and applied) when the model is unloaded', async () => {
    await spilled.loadModel({ kind: 'dir', path: 'public/models/demo-gpt2' });
    expect(files.length).toBe(4);
    expect(existsSync(files[0]!)).toBe(false);
    expect(existsSync(files[1]!)).toBe(false);
    expect(existsSync(files[3]!)).toBe(true);
  }, 60_000);

  it.each([
    ['in process: streamed from the file into the engine', 'never'],
    ["in a Node isolate: read by the isolate from the store's file itself", 'always'],
  ] as const)(
    'onnxruntime-web %s, with the generation of the weights in memory',
    async (_what, isolateSessions) => {
      const web = createWebRunner();
      const spilledWeb = api({ runner: web, weightSpill: 'always', isolateSessions, gramStore: trackedFileStore, gramStorage: 'never' });
      const plain = api({ runner: web, weightSpill: 'never', isolateSessions: 'never' });
      for (const a of [spilledWeb, plain]) await a.loadModel({ kind: 'dir', path: 'public/models/demo-gpt2' });
      const residency = spilledWeb.state.loaded!.residency!;
      residency.trim(0);
      const reads = residency.reads();
      const req = { prompt: 'The model', maxNewTokens: 8, temperature: 0, topK: 0, seed: 1, target: 'dense' as const };
      expect((await spilledWeb.generate(req)).text).toBe((await plain.generate(req)).text);
      if (isolateSessions === 'always') expect(residency.reads()).toBe(reads);
      else expect(residency.reads()).toBeGreaterThan(reads);
      expect(residency.residentBytes()).toBe(0);
      const latency = await spilledWeb.measureLatency({ batch: 1, seq: 16, runs: 2, warmup: 1, target: 'dense' });
      expect(latency.samplesMs.length).toBe(2);
    },
    120_000,
  );

  it("applied layer by layer (a large model's apply): each layer spilled as made, the same weights as in memory", async () => {
    // compensatedCopy 'rebuild': the large-model path (no full-size compensated copy, sliced layer by layer)
    const byLayers = api({ weightSpill: 'always', gramStore: trackedFileStore, gramStorage: 'never', compensatedCopy: 'rebuild' });
    const inMemory = api({ weightSpill: 'never', compensatedCopy: 'rebuild' });
    for (const a of [byLayers, inMemory]) {
      await loadDemoCalibrated(a, CAL, true);
      await a.computeImportance('magnitude');
    }
    const opened = files.length;
    const plan = await inMemory.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
    await inMemory.applyPlan({ plan, compensation: 'obs' });
    const seen: number[] = [];
    await byLayers.applyPlan({ plan, compensation: 'obs' }, { onProgress: () => seen.push(residentOf(byLayers)) });
    const m = byLayers.state.loaded!;
    // one store for the layers (none more for the rest: every other array is the dense model's, spilled at load)
    expect(files.length).toBe(opened + 1);
    const layers = m.appliedSpills!.at(-1)!;
    const p = m.pruned!.ir;
    for (const t of tensorsUnder(p.weights.layers)) expect(isSpilled(t)).toBe(true);
    expect(layers.totalBytes).toBeGreaterThan(0);
    // while applying, the layers made so far stayed within the budget, not all resident
    expect(Math.max(...seen)).toBeLessThanOrEqual(layers.budgetBytes);
    expect(layers.budgetBytes).toBeLessThan(layers.totalBytes);
    const q = inMemory.state.loaded!.pruned!.ir;
    p.weights.layers.forEach((w, l) => {
      for (const k of ['qkv', 'o', 'up', 'down'] as const) {
        const a = (w as unknown as Record<string, { weight: { data: Float32Array } }>)[k];
        const b = (q.weights.layers[l] as unknown as Record<string, { weight: { data: Float32Array } }>)[k];
        if (!a || !b) continue;
        expect(
          Buffer.from(a.weight.data.buffer, a.weight.data.byteOffset, a.weight.data.byteLength).equals(
            Buffer.from(b.weight.data.buffer, b.weight.data.byteOffset, b.weight.data.byteLength),
          ),
          `${k} of layer ${l}`,
        ).toBe(true);
      }
    });
    const req = { text: TEXT, textName: 'calibration.txt', contextLength: 128, stride: 128, target: 'pruned' as const };
    expect((await byLayers.evaluatePerplexity(req)).perplexity).toBe((await inMemory.evaluatePerplexity(req)).perplexity);
  }, 120_000);

  it('SlimGPT on spilled weights: each finished layer and the sliced model spilled as made, the same result as in memory', async () => {
    const byLayers = api({ weightSpill: 'always', gramStore: trackedFileStore, gramStorage: 'never', compensatedCopy: 'rebuild' });
    const inMemory = api({ weightSpill: 'never', compensatedCopy: 'rebuild' });
    for (const a of [byLayers, inMemory]) await loadDemoCalibrated(a, CAL, true);
    const opened = files.length;
    const perplexity = { text: TEXT, textName: 'calibration.txt', contextLength: 128, stride: 128 };
    const req = { heads: 0.25, ffn: 0.25, allocation: 'uniform' as const, perplexity };
    const [a, b] = [await inMemory.slimGptPrune(req), await byLayers.slimGptPrune(req)];
    expect(b.plan.layers).toEqual(a.plan.layers);
    expect(b.perplexity.perplexity).toBe(a.perplexity.perplexity);
    // two stores: the compensated projections as SlimGPT finished each layer, then the sliced layers
    expect(files.length).toBe(opened + 2);
    const m = byLayers.state.loaded!;
    expect(m.appliedSpills).toHaveLength(2);
    for (const r of m.appliedSpills!) expect(r.totalBytes).toBeGreaterThan(0);
    for (const t of tensorsUnder(m.pruned!.ir.weights.layers)) expect(isSpilled(t)).toBe(true);
  }, 180_000);

  it('evicted for a whole-model step, with the host asked to collect them now', () => {
    const m = spilled.state.loaded!;
    let collected = 0;
    evictResident(m, { collectGarbage: () => collected++ });
    expect(m.residency!.residentBytes()).toBe(0);
    expect(collected).toBe(1);
    evictResident({}, { collectGarbage: () => collected++ });
    expect(collected).toBe(1);
    expect(() => collectGarbage()).not.toThrow();
  });

  it('stay in memory when the store cannot open', async () => {
    const a = api({ weightSpill: 'always', gramStore: () => Promise.reject(new Error('OPFS is not available here')) });
    const summary = await a.loadModel({ kind: 'dir', path: 'public/models/demo-gpt2' });
    expect(summary.weightStore).toBeUndefined();
    expect(weightsSpilled(a.state.loaded!.ir)).toBe(false);
  }, 60_000);
});
