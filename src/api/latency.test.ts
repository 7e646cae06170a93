/**
 * compareLatency: dense and pruned runs are interleaved (alternating which goes first), the pruned
 * model is timed on the exported graph (logits only, no token loss), and both results are kept.
 */
import { describe, expect, it } from 'vitest';
import type { Runner, RunnerSession } from '../core/runner';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR } from '../test-util/golden';
import { createStudioApi } from './studio';

/** A runner whose sessions log each run as `<session id>:<has labels input>`. */
function loggingRunner(log: string[]): Runner {
  const inner = createNodeRunner();
  let next = 0;
  return {
    async open(model, options) {
      const session = await inner.open(model, options);
      const id = next++;
      const logged: RunnerSession = {
        inputNames: session.inputNames,
        outputNames: session.outputNames,
        backend: session.backend,
        run: (feeds, outputs) => {
          log.push(`${id}:${session.inputNames.includes('labels') ? 'loss' : 'logits'}`);
          return session.run(feeds, outputs);
        },
        release: () => session.release(),
      };
      return logged;
    },
  };
}

describe('compareLatency', () => {
  it('interleaves dense and pruned runs on logits-only graphs and records both results', async () => {
    const log: string[] = [];
    let clock = 0;
    const api = createStudioApi({ runner: loggingRunner(log), demoUrl: '', openDir: dirSource, now: () => (clock += 2) });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    await expect(api.compareLatency({ batch: 1, seq: 8, warmup: 1, runs: 3 })).rejects.toThrow(/No pruned model yet/);

    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
    await api.applyPlan({ plan, compensation: 'none' });
    log.length = 0;
    const result = await api.compareLatency({ batch: 1, seq: 8, warmup: 1, runs: 3 });

    const sessions = [...new Set(log.map((l) => l.split(':')[0]))];
    expect(sessions).toHaveLength(2);
    expect(log.every((l) => l.endsWith(':logits'))).toBe(true);
    const [dense, pruned] = sessions as [string, string];
    const order = log.map((l) => (l.startsWith(`${dense}:`) ? 'D' : l.startsWith(`${pruned}:`) ? 'P' : '?')).join('');
    expect(order).toBe('DPPDDPPD');

    expect(result.dense.samplesMs).toEqual([2, 2, 2]);
    expect(result.pruned.samplesMs).toEqual([2, 2, 2]);
    expect(result.speedup).toBe(1);
    expect(result.dense.request.target).toBe('dense');
    expect(result.pruned.request.target).toBe('pruned');
    expect(api.state.loaded?.denseResults.latency).toBe(result.dense);
    expect(api.state.loaded?.pruned?.latency).toBe(result.pruned);
  }, 60_000);
});

describe('measureUnitLatency', () => {
  it('derives a cost per kv group and per neuron from the three interleaved graphs, and latency allocation uses it', async () => {
    const inner = createNodeRunner();
    let clock = 0;
    let next = 0;
    // opened in this order: eval session (load), dense logits, half heads, half FFN; runs "take" these ms
    const duration = [0, 10, 8, 6];
    const runner: Runner = {
      async open(model, options) {
        const session = await inner.open(model, options);
        const ms = duration[next++] ?? 0;
        return { ...session, run: (feeds, outputs) => ((clock += ms), session.run(feeds, outputs)), release: () => session.release() };
      },
    };
    const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource, now: () => clock });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    const u = await api.measureUnitLatency({ batch: 1, seq: 8, warmup: 1, runs: 3 });
    expect([u.denseMs, u.halfHeadsMs, u.halfFfnMs]).toEqual([10, 8, 6]);
    // 4 layers x 4 of 8 heads (kv groups) removed = 16 groups; 4 x 512 neurons
    expect(u.kvGroupMs).toBeCloseTo(2 / 16, 12);
    expect(u.neuronMs).toBeCloseTo(4 / 2048, 12);
    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'latency', heads: 0.3, ffn: 0.3, layers: 0 });
    expect(plan.derivation?.latencyCosts).toMatchObject({ kvGroupMs: u.kvGroupMs, neuronMs: u.neuronMs });
    const uniform = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.3, ffn: 0.3, layers: 0 });
    expect(uniform.derivation?.latencyCosts).toBeUndefined();
  }, 60_000);
});
