/**
 * Block-by-block backpropagation (collectMaskGradientsByLayer) gives the whole gradient graph's
 * per-sequence Taylor / Fisher sums (collectMaskGradients, whose graph is checked against PyTorch
 * autograd and finite differences in src/graph/grad) and mean loss, with base masks, on a random GPT-2
 * and a random Llama (GQA, untied head).
 */
import { describe, expect, it } from 'vitest';
import { openModelSession } from '../graph/model-session';
import { createNodeRunner } from '../runtime/ort-node';
import { randomCalibrationSet, randomGpt2AndLlama } from '../test-util/random-models';
import { onesMasks } from './criteria/ablation';
import { collectMaskGradients } from './gradients';
import { collectMaskGradientsByLayer } from './gradients-by-layer';

const runner = createNodeRunner({ threads: 1 });

const MODELS = randomGpt2AndLlama(24);

describe.each(MODELS)('collectMaskGradientsByLayer: %s', (_, make) => {
  const ir = make();
  const L = ir.layers.length;
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  const set = randomCalibrationSet(ir.spec.vocabSize, 3, 7, 21);

  it('equals the whole gradient graph (Taylor and Fisher sums, mean loss; base masks)', async () => {
    const masks = onesMasks(L, H, F);
    masks.heads[1] = 0;
    masks.ffn[F + 2] = 0.5;
    const session = await openModelSession(runner, ir, { masks: true, logits: false, gradients: { masks: true } });
    const whole = await (async () => {
      try {
        return await collectMaskGradients(ir, session, set, { masks });
      } finally {
        await session.release();
      }
    })();
    let steps = 0;
    const byLayer = await collectMaskGradientsByLayer(runner, ir, set, { masks, onProgress: () => steps++ });
    expect(steps).toBe(2 * L * set.samples + set.samples);
    expect(byLayer.numSequences).toBe(whole.numSequences);
    expect(Math.abs(byLayer.meanLoss - whole.meanLoss)).toBeLessThan(1e-6 * whole.meanLoss);
    for (const part of ['heads', 'ffn', 'layers'] as const) {
      for (const k of ['sumAbs', 'sumSq'] as const) {
        const a = byLayer[part][k];
        const b = whole[part][k];
        const scale = Math.max(...Array.from(b, Math.abs));
        expect(scale, `${part}.${k} is not all zero`).toBeGreaterThan(0);
        for (let i = 0; i < b.length; i++) expect(Math.abs(a[i]! - b[i]!) / scale, `${part}.${k}[${i}]`).toBeLessThan(1e-5);
      }
    }
  });
});
