/**
 * Calibration Grams kept in storage (api/gram-storage.ts), forced on the demo model
 * (StudioDeps.gramStorage 'always' with Node's temp-file store): the Hessians read back are bitwise
 * those kept in memory, so the OBS criterion and OBS / redistribution compensation give the same
 * results; the file goes when the statistics are replaced or the model unloaded; a store that
 * cannot open or refuses a write leaves the Grams in memory with a warning, one that fails on read
 * gives a GramStoreError.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { GramStoreError } from '../core/errors';
import { memoryGramStore, type GramStore, type GramStoreFactory } from '../core/gram-store';
import { hessian, type CalibrationStats } from '../core/stats';
import type { PruningPlan } from '../core/plan';
import { createNodeRunner } from '../runtime/ort-node';
import { loadDemoCalibrated } from '../test-util/golden';
import { createStudioApi } from './studio';
import { trackedFileStores } from '../test-util/tracked-file-store';
import type { StudioDeps } from './state';

const runner = createNodeRunner();
const CAL = { samples: 4, seq: 64 };
const KINDS = ['attnIn', 'ffnIn'] as const;

/** Paths of the files the stores opened by this factory write. */
const { factory: trackedFileStore, files } = trackedFileStores();

const api = (deps: Partial<StudioDeps> = {}) => createStudioApi({ runner, demoUrl: '', openDir: dirSource, ...deps });
const stats = (a: ReturnType<typeof api>): CalibrationStats => a.state.loaded!.calibration!.stats;

const inRam = api();
const stored = api({ gramStore: trackedFileStore, gramStorage: 'always' });
let plan: PruningPlan;

beforeAll(async () => {
  for (const a of [inRam, stored]) {
    await loadDemoCalibrated(a, CAL, true);
    await a.computeImportance('obs');
  }
  plan = await inRam.allocatePlan({ criterion: 'obs', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
}, 300_000);

describe('Grams in storage', () => {
  it('every layer is in the store (nothing in memory) and reads back bitwise', () => {
    const ram = stats(inRam);
    const st = stats(stored);
    expect(files.length).toBe(1);
    expect(existsSync(files[0]!)).toBe(true);
    st.layers.forEach((layer, l) => {
      for (const k of KINDS) {
        expect(layer[k].gram, `${l} ${k}`).toBeNull();
        expect(layer[k].gramStored?.key).toBe(`${l}.${k}`);
        expect(hessian(layer[k], st.numSequences)).toEqual(hessian(ram.layers[l]![k], ram.numSequences));
      }
    });
  });

  it('the OBS criterion gives the same scores', () => {
    const a = inRam.state.loaded!.scores.get('obs')!;
    const b = stored.state.loaded!.scores.get('obs')!;
    expect(b.heads).toEqual(a.heads);
    expect(b.ffn).toEqual(a.ffn);
  });

  it.each(['obs', 'redistribute'] as const)(
    '%s compensation gives the same applied weights',
    async (compensation) => {
      await inRam.applyPlan({ plan, compensation });
      await stored.applyPlan({ plan, compensation });
      const a = inRam.state.loaded!.pruned!.ir.weights.layers;
      const b = stored.state.loaded!.pruned!.ir.weights.layers;
      a.forEach((lw, l) => {
        expect(b[l]!.o.weight.data, `o.${l}`).toEqual(lw.o.weight.data);
        expect(b[l]!.down.weight.data, `down.${l}`).toEqual(lw.down.weight.data);
      });
    },
    120_000,
  );

  it('removes the file when the statistics are replaced and when the model is unloaded', async () => {
    await loadDemoCalibrated(stored, CAL, true);
    expect(files.length).toBe(2);
    expect(existsSync(files[0]!)).toBe(false);
    expect(existsSync(files[1]!)).toBe(true);
    await loadDemoCalibrated(stored, CAL, false); // without Hessians: no store, the last one is freed
    expect(files.length).toBe(2);
    expect(existsSync(files[1]!)).toBe(false);
    await loadDemoCalibrated(stored, CAL, true);
    await stored.loadModel({ kind: 'dir', path: 'public/models/demo-gpt2' });
    expect(existsSync(files[2]!)).toBe(false);
  }, 120_000);
});

/** A store that refuses writes after `okPuts` of them, like a full disk or an exhausted quota. */
function quotaStore(okPuts: number): GramStoreFactory {
  return async () => {
    const inner = memoryGramStore('a small quota');
    let puts = 0;
    return {
      ...inner,
      put(key, values) {
        if (++puts > okPuts) throw Object.assign(new Error('the quota is exhausted'), { name: 'QuotaExceededError' });
        inner.put(key, values);
      },
    } satisfies GramStore;
  };
}

describe('Grams in storage: failures', () => {
  it('a store that cannot open leaves the Grams in memory, with a warning', async () => {
    const a = api({ gramStorage: 'always', gramStore: () => Promise.reject(new Error('OPFS is not available here')) });
    await loadDemoCalibrated(a, CAL, true);
    const cal = a.state.loaded!.calibration!;
    expect(cal.summary.warnings?.join(' ')).toMatch(/kept in memory.*OPFS is not available here/);
    expect(cal.store).toBeUndefined();
    cal.stats.layers.forEach((layer, l) => {
      for (const k of KINDS) expect(hessian(layer[k], cal.stats.numSequences)).toEqual(hessian(stats(inRam).layers[l]![k], 4));
    });
  }, 120_000);

  it('a write refused on the way (quota) keeps the rest in memory: every Hessian is still there, bitwise', async () => {
    const a = api({ gramStorage: 'always', gramStore: quotaStore(3) });
    await loadDemoCalibrated(a, CAL, true);
    const cal = a.state.loaded!.calibration!;
    expect(cal.summary.warnings?.join(' ')).toMatch(
      /kept in memory: a small quota refused them \(QuotaExceededError: the quota is exhausted\)/,
    );
    const where = cal.stats.layers.flatMap((layer) =>
      KINDS.map((k) => (layer[k].gramStored ? 'store' : layer[k].gram ? 'memory' : 'none')),
    );
    expect(where.slice(0, 3)).toEqual(['store', 'store', 'store']);
    expect(where.slice(3).every((w) => w === 'memory')).toBe(true);
    cal.stats.layers.forEach((layer, l) => {
      for (const k of KINDS) expect(hessian(layer[k], cal.stats.numSequences)).toEqual(hessian(stats(inRam).layers[l]![k], 4));
    });
    const scores = await a.computeImportance('obs');
    expect(scores.heads).toEqual(inRam.state.loaded!.scores.get('obs')!.heads);
  }, 120_000);

  it('a store that fails on read gives a GramStoreError that says to calibrate again', async () => {
    const a = api({
      gramStorage: 'always',
      gramStore: async () => ({
        ...memoryGramStore('a broken disk'),
        get: () => {
          throw new Error('EIO: i/o error');
        },
      }),
    });
    await loadDemoCalibrated(a, CAL, true);
    const err = await a.computeImportance('obs').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GramStoreError);
    expect((err as GramStoreError).code).toBe('STORAGE_FAILED');
    expect((err as GramStoreError).message).toMatch(/could not be read back from a broken disk \(EIO: i\/o error\)/);
    expect((err as GramStoreError).hint).toMatch(/Re-run calibration/);
  }, 120_000);
});
