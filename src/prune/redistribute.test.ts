import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { packGram64 } from '../core/packed-gram';
import type { ChannelStats } from '../core/stats';
import { tensor } from '../core/tensor';
import { obsCompensated } from './compensation/obs';
import { redistributed, redistribution, type RedistributeOptions } from './redistribute';

interface Golden {
  tokens: number;
  heads: number;
  headDim: number;
  rows: number;
  removedHeads: number[];
  z: number[][];
  weight: number[][];
  bias: number[];
  cases: { name: string; rank: number; ridge: number; intercept: boolean; weight: number[][]; bias: number[] }[];
}

const golden = JSON.parse(readFileSync('fixtures/golden/redistribute.json', 'utf8')) as Golden;
const n = golden.heads * golden.headDim;
const rows = golden.rows;
const removed = golden.removedHeads.flatMap((h) => Array.from({ length: golden.headDim }, (_, j) => h * golden.headDim + j));
const w = Float64Array.from(golden.weight.flat());

/** Float64 statistics of the golden inputs (what saliency/stats.ts accumulates). */
function statsOf(z: number[][]): ChannelStats {
  const s: ChannelStats = {
    channels: n,
    count: z.length,
    sum: new Float64Array(n),
    sumSq: new Float64Array(n),
    gram: null,
  };
  const full = new Float64Array(n * n);
  for (const row of z) {
    for (let i = 0; i < n; i++) {
      s.sum[i] = s.sum[i]! + row[i]!;
      s.sumSq[i] = s.sumSq[i]! + row[i]! ** 2;
      for (let j = 0; j < n; j++) full[i * n + j] = full[i * n + j]! + row[i]! * row[j]!;
    }
  }
  return { ...s, gram: packGram64(full, n) };
}
const stats = statsOf(golden.z);

/** W' = W + D on the kept columns, 0 on the removed ones; b' = b + db. */
function folded(o: RedistributeOptions) {
  const r = redistribution(w, rows, removed, stats, o);
  const k = r.kept.length;
  const out = w.slice();
  for (let row = 0; row < rows; row++) {
    r.kept.forEach((c, j) => (out[row * n + c] = out[row * n + c]! + r.d[row * k + j]!));
    for (const c of removed) out[row * n + c] = 0;
  }
  return { w: out, b: golden.bias.map((v, row) => v + r.db[row]!), rank: r.rank };
}

describe('attention redistribution', () => {
  it.each(golden.cases.map((c) => [c.name, c] as const))('matches the numpy reference: %s', (_name, c) => {
    const got = folded({ rank: c.rank, ridge: c.ridge, intercept: c.intercept });
    const want = c.weight.flat();
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((v, i) => expect(Math.abs(got.w[i]! - v)).toBeLessThan(1e-9 * scale));
    c.bias.forEach((v, i) => expect(Math.abs(got.b[i]! - v)).toBeLessThan(1e-9 * scale));
  });

  it('rank-r: the update has rank r and a larger calibration error than full rank', () => {
    const r2 = redistribution(w, rows, removed, stats, { rank: 2, ridge: 0, intercept: false });
    const full = redistribution(w, rows, removed, stats, { rank: Infinity, ridge: 0, intercept: false });
    expect(r2.rank).toBe(2);
    const err = (d: Float64Array) => {
      // Σ_tokens ‖W_S z_S − D z_K‖²
      let e = 0;
      for (const z of golden.z) {
        for (let row = 0; row < rows; row++) {
          let v = 0;
          for (const c of removed) v += w[row * n + c]! * z[c]!;
          full.kept.forEach((c, j) => (v -= d[row * full.kept.length + j]! * z[c]!));
          e += v * v;
        }
      }
      return e;
    };
    expect(err(r2.d)).toBeGreaterThan(err(full.d));
  });

  it('full rank, ridge 0: the folded output is the least-squares optimum on the calibration data', () => {
    for (const intercept of [false, true]) {
      const f = folded({ rank: Infinity, ridge: 0, intercept });
      const kept = Array.from({ length: n }, (_, j) => j).filter((j) => !removed.includes(j));
      // normal equations: Σ_t r_t [z_K, 1]ᵀ = 0 with r_t = W' z + b' − (W z + b); the intercept row only when fitted
      const grad = new Float64Array(rows * (kept.length + 1));
      let scale = 0;
      for (const z of golden.z) {
        for (let row = 0; row < rows; row++) {
          let res = f.b[row]! - golden.bias[row]!;
          let y = 0;
          for (let c = 0; c < n; c++) {
            res += (f.w[row * n + c]! - w[row * n + c]!) * z[c]!;
            y += w[row * n + c]! * z[c]!;
          }
          scale = Math.max(scale, Math.abs(y));
          kept.forEach((c, j) => (grad[row * (kept.length + 1) + j] = grad[row * (kept.length + 1) + j]! + res * z[c]!));
          grad[row * (kept.length + 1) + kept.length] = grad[row * (kept.length + 1) + kept.length]! + res;
        }
      }
      grad.forEach((g, i) => {
        if (!intercept && i % (kept.length + 1) === kept.length) return;
        expect(Math.abs(g)).toBeLessThan(1e-9 * scale * golden.tokens);
      });
    }
  });

  it('full rank, no intercept, ridge 0.01 is the OBS update (same damping)', () => {
    const lin = { weight: tensor([rows, n], Float32Array.from(w)), bias: tensor([rows], Float32Array.from(golden.bias)) };
    const obs = obsCompensated(lin, removed, stats, 7);
    const red = redistributed(lin, removed, stats, { rank: Infinity, ridge: 0.01, intercept: false });
    const scale = Math.max(...obs.weight.data.map(Math.abs));
    obs.weight.data.forEach((v, i) => expect(Math.abs(red.weight.data[i]! - v)).toBeLessThan(1e-5 * scale));
    expect(red.bias).toBe(lin.bias);
  });

  it('intercept creates a bias (the fitted one) when the projection has none', () => {
    const c = golden.cases.find((x) => x.name === 'rank1-ridge0.1-intercept')!;
    const red = redistributed({ weight: tensor([rows, n], Float32Array.from(w)) }, removed, stats, {
      rank: 1,
      ridge: 0.1,
      intercept: true,
    });
    c.bias.forEach((v, row) => expect(red.bias!.data[row]).toBeCloseTo(v - golden.bias[row]!, 4));
    for (const col of removed) for (let row = 0; row < rows; row++) expect(red.weight.data[row * n + col]).toBe(0);
  });
});
