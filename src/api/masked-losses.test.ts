/**
 * Block-by-block masked losses (api/masked-losses.ts) equal the whole-graph oracle (maskedLossOracle,
 * whose graph is checked against PyTorch elsewhere) for mask sets that first differ at different
 * layers, a set equal to the dense model and a set masked in several layers, on a random GPT-2 and a
 * random Llama (GQA, untied head), with the head in the last block and apart in vocabulary chunks; and
 * ablation's scores are the same through either.
 */
import { describe, expect, it } from 'vitest';
import { openModelSession } from '../graph/model-session';
import type { GraphOptions } from '../graph/options';
import { createNodeRunner } from '../runtime/ort-node';
import { randomCalibrationSet, randomGpt2AndLlama } from '../test-util/random-models';
import { maskedLossOracle } from '../saliency/calibrate';
import { ablation, onesMasks } from '../saliency/criteria/ablation';
import type { MaskSet } from '../saliency/types';
import { createStats } from '../saliency/stats';
import { firstMaskedLayer, maskedLossesByBlocks } from './masked-losses';

const runner = createNodeRunner({ threads: 1 });
const graph: GraphOptions = { masks: true, tokenLoss: true, logits: false };

const MODELS = randomGpt2AndLlama(40);

function maskSets(L: number, H: number, F: number): MaskSet[] {
  const set = (edit: (m: MaskSet) => void) => {
    const m = onesMasks(L, H, F);
    edit(m);
    return m;
  };
  return [
    set((m) => (m.heads[1] = 0)),
    set(() => {}),
    set((m) => (m.heads[(L - 1) * H + 2] = 0)),
    set((m) => (m.layers[1] = 0)),
    set((m) => {
      m.ffn[F + 3] = 0.5;
      m.heads[(L - 1) * H] = 0;
    }),
    set((m) => (m.layers[0] = 0)),
    set((m) => (m.heads[H] = 0)),
  ];
}

describe.each(MODELS)('maskedLossesByBlocks: %s', (_, make) => {
  const ir = make();
  const L = ir.layers.length;
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  const set = randomCalibrationSet(ir.spec.vocabSize, 5, 9, 5);

  async function wholeLosses(sets: readonly MaskSet[]): Promise<number[]> {
    const s = await openModelSession(runner, ir, graph);
    try {
      const oracle = maskedLossOracle(ir, s, set, 2);
      const out: number[] = [];
      for (const m of sets) out.push(await oracle(m));
      return out;
    } finally {
      await s.release();
    }
  }

  it('groups mask sets by the first layer they change', () => {
    expect(maskSets(L, H, F).map((m) => firstMaskedLayer(m, L, H, F))).toEqual([0, L, L - 1, 1, 1, 0, 1]);
  });

  it.each([
    ['the head in the last block', undefined],
    ['the head apart, in vocabulary chunks of 16', 16],
  ])('equals the whole-graph oracle (%s)', async (_, headChunk) => {
    const sets = maskSets(L, H, F);
    const expected = await wholeLosses(sets);
    let runs = 0;
    let last = 0;
    const src = { runner, ir, graph, ...(headChunk ? { headChunk } : {}) };
    const got = await maskedLossesByBlocks(src, set, sets, { batchSize: 2, onRun: (done, total) => ((runs = done), (last = total)) });
    expect(runs).toBe(last);
    expect(new Set(expected).size).toBe(expected.length); // the sets really differ
    for (const [i, e] of expected.entries()) expect(Math.abs(got[i]! - e), `set ${i}`).toBeLessThan(1e-6 * Math.abs(e));
  });

  it("gives ablation's scores through maskedLosses as through maskedLoss", async () => {
    const stats = createStats(ir, false);
    stats.baseLoss = (await wholeLosses([onesMasks(L, H, F)]))[0]!;
    const s = await openModelSession(runner, ir, graph);
    try {
      const maskedLoss = maskedLossOracle(ir, s, set, 2);
      const src = { runner, ir, graph, headChunk: 16 };
      const one = await ablation.compute({ ir, stats, maskedLoss });
      const many = await ablation.compute({ ir, stats, maskedLoss, maskedLosses: (sets) => maskedLossesByBlocks(src, set, sets) });
      for (const k of ['heads', 'layers'] as const) {
        const a = one[k]!;
        const b = many[k]!;
        expect(b.length).toBe(a.length);
        for (let i = 0; i < a.length; i++) expect(Math.abs(b[i]! - a[i]!), `${k}[${i}]`).toBeLessThan(1e-6 * Math.max(1, stats.baseLoss));
      }
    } finally {
      await s.release();
    }
  });
});
