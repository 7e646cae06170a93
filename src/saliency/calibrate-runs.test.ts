/**
 * Calibration split into smaller onnxruntime runs (what core/run-size.ts does on real-size
 * models) gives the statistics of one large run: the same token counts and, within float32
 * summation tolerance, the same grams, channel sums and base loss. Also: the run sizing keeps
 * the demo model's requested batches and never goes below one row.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from '../api/studio';
import { dirSource } from '../cli/dir-source';
import type { ModelIR } from '../core/ir';
import { rowFlops, rowsPerRun } from '../core/run-size';
import type { CalibrationStats, ChannelStats } from '../core/stats';
import { withModelSession } from '../graph/model-session';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import { collectStats, makeCalibrationSet } from './calibrate';

const runner = createNodeRunner();
const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
let ir: ModelIR;
let oneRun: CalibrationStats;
let split: CalibrationStats;

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  const m = api.state.loaded!;
  ir = m.ir;
  const ids = m.tokenizer.encode(readFileSync('public/data/calibration.txt', 'utf8'));
  const set = makeCalibrationSet(ids, 'calibration.txt', 4, 64);
  const graph = { masks: true, taps: true, grams: true, tokenLoss: true, logits: false };
  [oneRun, split] = await withModelSession(runner, ir, graph, async (s) => [
    await collectStats(ir, s, set, { withGram: true, batchSize: 4 }),
    await collectStats(ir, s, set, { withGram: true, batchSize: 1 }),
  ]);
}, 300_000);

/** max |a - b| / max |a|. */
function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(a[i]!));
  }
  return d / m;
}

function expectSame(a: ChannelStats, b: ChannelStats): void {
  expect(b.count).toBe(a.count);
  expect(a.gram).not.toBeNull();
  expect(relDiff(a.gram!, b.gram!)).toBeLessThan(1e-6);
  expect(relDiff(a.sum, b.sum)).toBeLessThan(1e-6);
  expect(relDiff(a.sumSq, b.sumSq)).toBeLessThan(1e-6);
}

describe('calibration in several runs', () => {
  it('gives the statistics of one run', () => {
    expect(split.numTokens).toBe(oneRun.numTokens);
    expect(split.numSequences).toBe(oneRun.numSequences);
    expect(split.baseLoss).toBeCloseTo(oneRun.baseLoss, 6);
    for (const [l, st] of oneRun.layers.entries()) {
      expectSame(st.attnIn, split.layers[l]!.attnIn);
      expectSame(st.ffnIn, split.layers[l]!.ffnIn);
    }
  });
});

describe('rowsPerRun', () => {
  it('keeps the requested batch on the demo model', () => {
    expect(rowsPerRun(ir, 128, 8)).toBe(8);
  });
  it('splits to the budget and never below one row', () => {
    const f = rowFlops(ir, 128);
    expect(rowsPerRun(ir, 128, 8, 2.5 * f)).toBe(2);
    expect(rowsPerRun(ir, 128, 8, 0.1 * f)).toBe(1);
  });
  it('counts 2 FLOPs per weight and token plus causal attention', () => {
    // Demo: 4 layers x 8 heads x headDim 32 (hidden 256); 2 · seq² · H · dh per layer.
    const params = rowFlops(ir, 1) - 4 * 2 * 8 * 32;
    expect(rowFlops(ir, 10)).toBe(10 * params + 4 * 2 * 100 * 8 * 32);
  });
});
