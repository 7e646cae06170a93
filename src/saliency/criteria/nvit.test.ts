/**
 * NViT scores: the per-type divisors and the latency term (FLOPs per token written out by hand
 * from the model definition, not from prune/cost.ts), and the criterion end to end through the
 * api on a tiny Llama (GQA) fixture.
 */
import { describe, expect, it } from 'vitest';
import { loadModelIR } from '../../arch/load';
import { createStudioApi } from '../../api/studio';
import { dirSource } from '../../cli/dir-source';
import { createNodeRunner } from '../../runtime/ort-node';
import { fixtureDir } from '../../test-util/model-fixtures';
import { NVIT_ETA, nvitScores, unitLatencyPercent } from './nvit';

const LLAMA = 'tiny/llama-gqa-bf16';

describe('nvit scores', () => {
  it('divides per type and subtracts η·ΔLat in percent of the dense FLOPs per token', async () => {
    const { ir } = await loadModelIR(dirSource(fixtureDir(LLAMA)));
    const L = ir.layers.length;
    const { numHeads: H, numKvHeads: K, ffnSize: F } = ir.layers[0]!;
    const d = ir.spec.hiddenSize;
    const dh = ir.spec.headDim;
    const V = ir.spec.vocabSize;
    const seq = 128;
    // Per token: q,o (H·dh·d each), k,v (K·dh·d each), gate/up/down (F·d each), scores + weighted sum (2·seq/2·dh per head and op), LM head.
    const block = 2 * d * dh * (2 * H + 2 * K) + 2 * 3 * d * F + 2 * seq * dh * H;
    const dense = L * block + 2 * d * V;
    const perHead = (2 * d * dh * (2 + (2 * K) / H) + 2 * seq * dh) / dense;
    const perNeuron = (2 * 3 * d) / dense;
    const perChannel = (L * (2 * dh * (2 * H + 2 * K) + 2 * 3 * F) + 2 * V) / dense;
    const lat = unitLatencyPercent(ir, seq);
    expect(lat.head(0) / 100).toBeCloseTo(perHead, 12);
    expect(lat.ffn / 100).toBeCloseTo(perNeuron, 12);
    expect(lat.hidden / 100).toBeCloseTo(perChannel, 12);

    const g = {
      batches: 4,
      heads: Float64Array.from({ length: L * H }, (_, i) => i + 1),
      ffn: Float64Array.from({ length: L * F }, (_, i) => 2 * i),
      hidden: Float64Array.from({ length: d }, (_, i) => 3 * i),
    };
    const s = nvitScores(ir, g);
    expect(s.heads![5]).toBeCloseTo(6 / 4 / 6 - NVIT_ETA * 100 * perHead, 12);
    expect(s.ffn![7]).toBeCloseTo(14 / 4 - NVIT_ETA * 100 * perNeuron, 12);
    expect(s.hidden![9]).toBeCloseTo(27 / 4 / L - NVIT_ETA * 100 * perChannel, 12);
    expect(s.layers).toBeNull();
    expect(() => nvitScores(ir, { ...g, batches: 0 })).toThrow(/batch/);

    // a measured latency table (ms per kv group / neuron, dense ms) replaces the FLOP shares of heads
    // and neurons: a head is its group's ms over the group's H/K heads; channels keep their FLOP share
    const measured = { kvGroupMs: 0.3, neuronMs: 0.002, denseMs: 12 };
    const m = nvitScores(ir, g, NVIT_ETA, measured);
    expect(m.heads![5]).toBeCloseTo(6 / 4 / 6 - (NVIT_ETA * 100 * 0.3) / (H / K) / 12, 12);
    expect(m.ffn![7]).toBeCloseTo(14 / 4 - (NVIT_ETA * 100 * 0.002) / 12, 12);
    expect(m.hidden![9]).toBeCloseTo(27 / 4 / L - NVIT_ETA * 100 * perChannel, 12);
    expect(() => nvitScores(ir, g, NVIT_ETA, { ...measured, denseMs: 0 })).toThrow(/dense latency/);
  });

  it('runs through the api: heads, FFN neurons and hidden channels, finite', async () => {
    const api = createStudioApi({ runner: createNodeRunner({ threads: 1 }), demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: fixtureDir(LLAMA) });
    await api.calibrate({
      text: 'the quick brown fox jumps over the lazy dog. '.repeat(20),
      textName: 't',
      samples: 2,
      seq: 16,
      withHessians: false,
    });
    const s = await api.computeImportance('nvit');
    const ir = api.state.loaded!.ir;
    expect(s.hidden?.length).toBe(ir.spec.hiddenSize);
    expect(s.heads?.length).toBe(ir.layers.length * ir.layers[0]!.numHeads);
    for (const a of [s.heads!, s.ffn!, s.hidden!]) expect(a.every(Number.isFinite)).toBe(true);
    expect(new Set(s.hidden).size).toBeGreaterThan(1);
  }, 120_000);
});
