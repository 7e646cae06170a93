/**
 * obsLayerErrors forms only diag(H⁻¹) and the heads' blocks of H⁻¹; it must give the errors that
 * the full inverse gives (obsHeadErrors / obsChannelErrors on dampedInverse), on sizes that are
 * not multiples of the kernels' blocks. The values themselves are checked against PyTorch in
 * src/saliency/golden.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { dampedInverse } from '../../core/linalg';
import { tensor } from '../../core/tensor';
import { mulberry32 } from '../../eval/generate';
import { obsChannelErrors, obsHeadErrors, obsLayerErrors } from './obs';

function gram(n: number, tokens: number, seed: number): Float64Array {
  const r = mulberry32(seed);
  const x = Float64Array.from({ length: tokens * n }, () => r() * 2 - 1);
  const h = new Float64Array(n * n);
  for (let t = 0; t < tokens; t++)
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) h[i * n + j]! += (2 * x[t * n + i]! * x[t * n + j]!) / 4;
  return h;
}

const linear = (rows: number, cols: number, seed: number) => {
  const r = mulberry32(seed);
  return {
    weight: tensor(
      [rows, cols],
      Float32Array.from({ length: rows * cols }, () => r() - 0.5),
    ),
  };
};

const relErr = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let d = 0;
  let m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
};

describe('obsLayerErrors', () => {
  it('equals the errors computed from the full damped inverse', () => {
    const [nA, headDim, nF, rows] = [130, 13, 197, 6];
    const o = linear(rows, nA, 1);
    const down = linear(rows, nF, 2);
    const hA = gram(nA, 90, 3); // fewer tokens than channels: singular before damping
    const hF = gram(nF, 150, 4);
    const e = obsLayerErrors(o, down, hA, hF, headDim);
    expect(relErr(e.heads, obsHeadErrors(o, dampedInverse(hA, nA).inv, nA, headDim))).toBeLessThan(1e-10);
    expect(relErr(e.ffn, obsChannelErrors(down, dampedInverse(hF, nF).inv, nF))).toBeLessThan(1e-10);
  });
});
