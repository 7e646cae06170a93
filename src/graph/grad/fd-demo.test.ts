/**
 * Finite-difference check on the demo model: the gradient graph's d loss / d mask against central
 * differences of the calibration loss computed with the ordinary masked forward graph (the one the
 * studio previews with), for every head and layer mask and the FFN neurons with the largest
 * gradients, on the dense model and with some units already masked. Error: ‖g − fd‖₂ / ‖fd‖₂ < 1e-2.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from '../../api/studio';
import { gradientSession } from '../../api/gradients';
import { dirSource } from '../../cli/dir-source';
import { createNodeRunner } from '../../runtime/ort-node';
import { maskedLossOracle } from '../../saliency/calibrate';
import { onesMasks } from '../../saliency/criteria/ablation';
import { batchGradients, MASK_GRADS } from '../../saliency/gradients';
import type { MaskSet } from '../../saliency/types';
import { DEMO_DIR } from '../../test-util/golden';
import { weightFeeds } from './loss';

const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
const [L, H, F] = [4, 8, 1024];
/** Steps: whole layers are more curved, so they get a smaller one (float32 noise stays far below). */
const EPS: Record<keyof MaskSet, number> = { heads: 1e-2, ffn: 1e-2, layers: 2.5e-3 };

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  await api.calibrate({
    text: readFileSync('public/data/calibration.txt', 'utf8'),
    textName: 'calibration.txt',
    samples: 8,
    seq: 128,
    withHessians: false,
  });
}, 300_000);

function relErr(a: readonly number[], e: readonly number[]): number {
  let d = 0;
  let n = 0;
  e.forEach((v, i) => {
    d += (a[i]! - v) ** 2;
    n += v * v;
  });
  return Math.sqrt(d / n);
}

async function check(masks: MaskSet) {
  const m = api.state.loaded!;
  const set = m.calibration!.set;
  const session = await gradientSession(api.state, m);
  const { grads } = await batchGradients(m.ir, session, set, MASK_GRADS, { masks, extraFeeds: weightFeeds(m.ir), batchSize: 8 });
  const loss = maskedLossOracle(m.ir, m.evalSession, set, 8);
  const central = async (key: keyof MaskSet, i: number) => {
    const plus = { heads: masks.heads.slice(), ffn: masks.ffn.slice(), layers: masks.layers.slice() };
    const minus = { heads: masks.heads.slice(), ffn: masks.ffn.slice(), layers: masks.layers.slice() };
    plus[key][i] = masks[key][i]! + EPS[key];
    minus[key][i] = masks[key][i]! - EPS[key];
    return ((await loss(plus)) - (await loss(minus))) / (plus[key][i]! - minus[key][i]!);
  };
  const ffnGrad = grads.get('grad.ffn_mask')!;
  const topFfn = Array.from({ length: L * F }, (_, i) => i)
    .sort((a, b) => Math.abs(ffnGrad[b]!) - Math.abs(ffnGrad[a]!))
    .slice(0, 8);
  const cases: [keyof MaskSet, string, number[]][] = [
    ['heads', 'grad.head_mask', Array.from({ length: L * H }, (_, i) => i)],
    ['layers', 'grad.layer_mask', Array.from({ length: L }, (_, i) => i)],
    ['ffn', 'grad.ffn_mask', topFfn],
  ];
  for (const [key, name, entries] of cases) {
    const g = grads.get(name)!;
    const fd: number[] = [];
    for (const i of entries) fd.push(await central(key, i));
    expect(
      relErr(
        entries.map((i) => g[i]!),
        fd,
      ),
      name,
    ).toBeLessThan(1e-2);
  }
}

describe('demo model: mask gradients vs central differences of the masked forward graph', () => {
  it('dense model', () => check(onesMasks(L, H, F)), 300_000);

  it('with heads (0,1), (2,5) and layer-1 neurons 0..99 masked', () => {
    const m = onesMasks(L, H, F);
    m.heads[0 * H + 1] = 0;
    m.heads[2 * H + 5] = 0;
    for (let j = 0; j < 100; j++) m.ffn[1 * F + j] = 0;
    return check(m);
  }, 300_000);
});
