/**
 * Golden test: gradients of the demo model's calibration loss from our ONNX gradient graph
 * (onnxruntime-node, float32) against the independent PyTorch autograd reference in float64
 * (fixtures/golden/gradients.json, tools/reference/gradient_golden.py): per-sequence mask
 * gradients, Taylor and Fisher scores, the batch gradient (dense and with units masked), the
 * o / down weight gradients, and three gradient-descent recovery steps on the golden-50 plan.
 * Error measure: ‖a − e‖₂ / ‖e‖₂ per array (< 1e-3); losses to 1e-5 relative.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createStudioApi } from '../../api/studio';
import { gradientSession } from '../../api/gradients';
import { dirSource } from '../../cli/dir-source';
import type { PruningPlan } from '../../core/plan';
import type { RunnerSession } from '../../core/runner';
import { planMasks } from '../../prune/masks';
import { gradientNorm, gradientStep, projectionGradNames } from '../../prune/recover';
import { createNodeRunner } from '../../runtime/ort-node';
import { batchGradients, MASK_GRADS, nextTokenWeights } from '../../saliency/gradients';
import { feedsFor } from '../../saliency/calibrate';
import { onesMasks } from '../../saliency/criteria/ablation';
import type { MaskSet } from '../../saliency/types';
import { loadDemoCalibrated, readGolden } from '../../test-util/golden';
import { maskFeeds } from '../../api/evaluation';
import { weightFeeds } from './loss';

type Units = { heads: number[][]; ffn: number[][]; layers: number[] };
interface EncodedMatrix {
  shape: [number, number];
  data: string;
  fro_norm: number;
}
interface GradientsGolden {
  calibration: { samples: number; seq: number; input_ids: number[][] };
  per_sequence: { losses: number[]; heads: number[][][]; layers: number[][]; ffn_seq0: number[][] };
  taylor: Units;
  fisher: Units;
  batch_loss: number;
  batch_grad: Units;
  masked_batch: { heads_off: [number, number][]; ffn_off: [number, number[]][]; layers_off: number[]; loss: number; grad: Units };
  weight_grad: Record<string, { o: EncodedMatrix; down: EncodedMatrix }>;
  sgd_recovery: { plan: string; lr: number; steps: number; losses: number[]; grad_norms: number[]; removed_columns_grad_max_abs: number[] };
}

const golden = readGolden<GradientsGolden>('gradients.json');
const plans = readGolden<{ plans: Record<string, PruningPlan> }>('prune.json').plans;
const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
/** The api's gradient session (a gradient criterion job releases it; this re-opens it lazily). */
const gradSession = (): Promise<RunnerSession> => gradientSession(api.state, model());

/** ‖a − e‖₂ / ‖e‖₂ */
function relErr(actual: ArrayLike<number>, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let d = 0;
  let n = 0;
  expected.forEach((e, i) => {
    d += (actual[i]! - e) ** 2;
    n += e * e;
  });
  return Math.sqrt(d / n);
}

function decode(m: EncodedMatrix): number[] {
  return Array.from(new Float32Array(Uint8Array.from(Buffer.from(m.data, 'base64')).buffer));
}

const model = () => api.state.loaded!;
const L = 4;
const H = 8;
const F = 1024;

beforeAll(async () => {
  await loadDemoCalibrated(api, golden.calibration, false);
}, 300_000);

describe('mask gradients match PyTorch autograd on the demo model', () => {
  it('uses the reference calibration sequences', () => {
    expect(model().calibration!.set.sequences).toEqual(golden.calibration.input_ids);
  });

  it('per-sequence losses and gradients', async () => {
    const { set } = model().calibration!;
    const base = { ...maskFeeds(model().ir, onesMasks(L, H, F)), ...weightFeeds(model().ir), ...nextTokenWeights(1, set.seq) };
    for (const [s, seq] of set.sequences.entries()) {
      const out = await (await gradSession()).run({ ...base, ...feedsFor([seq], set.seq) }, ['loss', ...MASK_GRADS]);
      expect(Math.abs((out.loss!.data as Float32Array)[0]! / golden.per_sequence.losses[s]! - 1)).toBeLessThan(1e-5);
      expect(
        relErr(out['grad.head_mask']!.data as Float32Array, golden.per_sequence.heads[s]!.flat()),
        `heads, sequence ${s}`,
      ).toBeLessThan(1e-3);
      expect(relErr(out['grad.layer_mask']!.data as Float32Array, golden.per_sequence.layers[s]!), `layers, sequence ${s}`).toBeLessThan(
        1e-3,
      );
      if (s === 0)
        expect(relErr(out['grad.ffn_mask']!.data as Float32Array, golden.per_sequence.ffn_seq0.flat()), 'ffn, sequence 0').toBeLessThan(
          1e-3,
        );
    }
  });

  for (const name of ['taylor', 'fisher'] as const) {
    it(`${name} scores (heads, FFN neurons, layers)`, async () => {
      const scores = await api.computeImportance(name);
      expect(relErr(scores.heads!, golden[name].heads.flat())).toBeLessThan(1e-3);
      expect(relErr(scores.ffn!, golden[name].ffn.flat())).toBeLessThan(1e-3);
      expect(relErr(scores.layers!, golden[name].layers)).toBeLessThan(1e-3);
    });
  }

  const checkBatch = async (masks: MaskSet, loss: number, grad: Units) => {
    const { ir, calibration } = model();
    const r = await batchGradients(ir, await gradSession(), calibration!.set, MASK_GRADS, {
      masks,
      extraFeeds: weightFeeds(ir),
      batchSize: 8,
    });
    expect(Math.abs(r.loss / loss - 1)).toBeLessThan(1e-5);
    expect(relErr(r.grads.get('grad.head_mask')!, grad.heads.flat())).toBeLessThan(1e-3);
    expect(relErr(r.grads.get('grad.ffn_mask')!, grad.ffn.flat())).toBeLessThan(1e-3);
    expect(relErr(r.grads.get('grad.layer_mask')!, grad.layers)).toBeLessThan(1e-3);
  };

  it('batch loss and gradient (dense)', () => checkBatch(onesMasks(L, H, F), golden.batch_loss, golden.batch_grad));

  it('batch loss and gradient with units masked (gradients of the zeroed entries too)', () => {
    const m = onesMasks(L, H, F);
    const mb = golden.masked_batch;
    for (const [l, h] of mb.heads_off) m.heads[l * H + h] = 0;
    for (const [l, js] of mb.ffn_off) for (const j of js) m.ffn[l * F + j] = 0;
    for (const l of mb.layers_off) m.layers[l] = 0;
    return checkBatch(m, mb.loss, mb.grad);
  });
});

describe('weight gradients and gradient-descent recovery match PyTorch autograd', () => {
  it('dL/dW of the o and down projections ([out, in])', async () => {
    const { ir, calibration } = model();
    const r = await batchGradients(ir, await gradSession(), calibration!.set, projectionGradNames(ir), {
      extraFeeds: weightFeeds(ir),
      batchSize: 8,
    });
    for (const [layer, g] of Object.entries(golden.weight_grad)) {
      for (const kind of ['o', 'down'] as const) {
        const actual = r.grads.get(`grad.${kind}.${layer}`)!;
        expect(relErr(actual, decode(g[kind])), `${kind}.${layer}`).toBeLessThan(1e-3);
      }
    }
  });

  it('three gradient steps on the golden-50 masked model', async () => {
    const ref = golden.sgd_recovery;
    const masks = planMasks(plans[ref.plan]!);
    let { ir } = model();
    const { set } = model().calibration!;
    const H_ = ir.spec.headDim;
    for (let step = 0; step <= ref.steps; step++) {
      const r = await batchGradients(ir, await gradSession(), set, projectionGradNames(ir), {
        masks,
        extraFeeds: weightFeeds(ir),
        batchSize: 8,
      });
      expect(Math.abs(r.loss / ref.losses[step]! - 1), `loss after ${step} steps`).toBeLessThan(1e-5);
      if (step === ref.steps) break;
      expect(Math.abs(gradientNorm(r.grads) / ref.grad_norms[step]! - 1)).toBeLessThan(1e-3);
      // removed columns get exactly zero gradient
      const plan = plans[ref.plan]!;
      for (const entry of plan.layers) {
        const go = r.grads.get(`grad.o.${entry.index}`)!;
        const cols = entry.removedHeads.flatMap((h) => Array.from({ length: H_ }, (_, j) => h * H_ + j));
        for (let row = 0; row < 256; row++) for (const c of cols) expect(go[row * 256 + c]).toBe(0);
      }
      ir = gradientStep(ir, r.grads, ref.lr);
    }
  });
});
