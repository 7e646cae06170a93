/**
 * Whole-model sessions in a disposable isolate (api/isolation.ts) on tiny Hub fixtures: the
 * latency graph gives the same logits and generation the same tokens (greedy and sampled, dense
 * and pruned) as the in-process sessions; nothing stays cached on the model; the weights were
 * loaded onto shared memory; latency, comparison and unit latency run through the isolate.
 */
import { describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import type { Runner, RunnerTensor } from '../core/runner';
import { isShared } from '../core/shared-weights';
import { weightEntries } from '../graph/weight-inputs';
import { floats, maxAbsDiff } from '../test-util/graph-run';
import { createWebRunner } from '../runtime/ort-web';
import { latencyFeeds, withLogitsSessions } from './evaluation';
import { createStudioApi } from './studio';
import type { GenerateRequest } from './types';

const runner: Runner = createWebRunner();
const LATENCY = { batch: 2, seq: 9, runs: 2, warmup: 1 };
const GREEDY: GenerateRequest = { prompt: 'The cat sat on the', maxNewTokens: 8, temperature: 0, topK: 0, seed: 1, target: 'dense' };

async function studio(path: string, isolateSessions: 'always' | 'never') {
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource, isolateSessions });
  await api.loadModel({ kind: 'dir', path });
  return api;
}

type Api = Awaited<ReturnType<typeof studio>>;

async function latencyLogits(api: Api, target: 'dense' | 'pruned'): Promise<RunnerTensor | undefined> {
  const m = api.state.loaded!;
  return withLogitsSessions(api.state, m, [target], async ([s]) => {
    const out = await s!.session.run(latencyFeeds(s!.session, s!.ir, { ...LATENCY, target }));
    return out.logits;
  });
}

async function prune(api: Api): Promise<void> {
  await api.computeImportance('magnitude');
  const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
  await api.applyPlan({ plan, compensation: 'none' });
}

describe('isolated latency and generation sessions', () => {
  it.each(['gpt2-sharded', 'llama-tied'])(
    '%s: same logits and tokens as in process, nothing cached',
    async (name) => {
      const path = `fixtures/hub/tiny/${name}`;
      const [iso, local] = [await studio(path, 'always'), await studio(path, 'never')];
      const m = iso.state.loaded!;
      expect(weightEntries(m.ir).every(([, t]) => isShared(t.data))).toBe(true);
      expect(weightEntries(local.state.loaded!.ir).some(([, t]) => isShared(t.data))).toBe(false);

      expect(maxAbsDiff(floats(await latencyLogits(iso, 'dense')), floats(await latencyLogits(local, 'dense')))).toBeLessThan(1e-6);
      const sampled = { ...GREEDY, temperature: 0.8, topK: 20, seed: 7 };
      for (const req of [GREEDY, sampled]) expect((await iso.generate(req)).ids).toEqual((await local.generate(req)).ids);

      const latency = await iso.measureLatency({ ...LATENCY, target: 'dense' });
      expect(latency.samplesMs).toHaveLength(LATENCY.runs);
      expect(latency.backend.name).toBe('wasm');

      await prune(iso);
      await prune(local);
      expect(maxAbsDiff(floats(await latencyLogits(iso, 'pruned')), floats(await latencyLogits(local, 'pruned')))).toBeLessThan(1e-6);
      expect((await iso.generate({ ...GREEDY, target: 'pruned' })).ids).toEqual(
        (await local.generate({ ...GREEDY, target: 'pruned' })).ids,
      );
      const comparison = await iso.compareLatency({ ...LATENCY, target: 'dense' });
      expect(comparison.speedup).toBeGreaterThan(0);
      const units = await iso.measureUnitLatency({ ...LATENCY, target: 'dense' });
      expect(units.denseMs).toBeGreaterThan(0);

      // the isolated sessions were dropped with their isolate; the in-process ones stay cached
      expect([m.latencySession, m.generateSession, m.pruned?.latencySession, m.pruned?.generateSession]).toEqual([
        undefined,
        undefined,
        undefined,
        undefined,
      ]);
      const l = local.state.loaded!;
      expect([l.latencySession, l.generateSession, l.pruned?.generateSession].every((s) => s !== undefined)).toBe(true);
    },
    120_000,
  );
});
