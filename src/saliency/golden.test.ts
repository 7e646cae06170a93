/**
 * Golden test: every criterion on the demo model against the independent PyTorch reference
 * (fixtures/golden/criteria.json, tools/reference/criteria_golden.py).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from '../api/studio';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR, maxRelativeError, readGolden } from '../test-util/golden';
import { spearman } from './agreement';
import { CRITERION_NAMES } from './registry';
import type { UnitScores } from './types';

interface CriteriaGolden {
  calibration: { samples: number; seq: number; input_ids: number[][] };
  base_loss: number;
  criteria: Record<string, { heads: number[][] | null; ffn: number[][] | null; layers: number[] | null }>;
}

const golden = readGolden<CriteriaGolden>('criteria.json');
const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
const scores = new Map<string, UnitScores>();

beforeAll(async () => {
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  const summary = await api.calibrate({
    text: readFileSync('public/data/calibration.txt', 'utf8'),
    textName: 'calibration.txt',
    samples: golden.calibration.samples,
    seq: golden.calibration.seq,
    withHessians: true,
  });
  expect(summary.tokens).toBe(golden.calibration.samples * golden.calibration.seq);
  for (const name of CRITERION_NAMES) scores.set(name, await api.computeImportance(name));
}, 600_000);

describe('criteria match the PyTorch reference on the demo model', () => {
  it('tokenises the calibration text into the reference sequences', () => {
    expect(api.state.loaded?.calibration?.set.sequences).toEqual(golden.calibration.input_ids);
    expect(api.state.loaded?.calibration?.stats.baseLoss).toBeCloseTo(golden.base_loss, 4);
  });

  const tolerance: Record<string, number> = { magnitude: 1e-3, wanda: 1e-3, flap: 1e-3, 'block-influence': 1e-3, obs: 1e-2 };
  for (const name of CRITERION_NAMES) {
    for (const unit of ['heads', 'ffn', 'layers'] as const) {
      const expected = golden.criteria[name]?.[unit];
      if (!expected) continue;
      it(`${name} ${unit}`, () => {
        const actual = scores.get(name)?.[unit];
        expect(actual, `${name} should score ${unit}`).toBeTruthy();
        const flat = (expected as (number | number[])[]).flat();
        expect(actual!.length).toBe(flat.length);
        if (name === 'ablation') {
          flat.forEach((e, i) => expect(Math.abs(actual![i]! - e)).toBeLessThan(1e-3));
        } else {
          expect(maxRelativeError(actual!, flat)).toBeLessThan(tolerance[name]!);
        }
        expect(spearman(actual!, flat)).toBeGreaterThan(0.99);
      });
    }
  }
});
