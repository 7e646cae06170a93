/** Recovery settings from the UI: loss weights, checks, the request, and the curve read back from api.recover's progress. */
import { describe, expect, it } from 'vitest';
import { recoveryStepMessage } from '../api/recovery';
import { lossWeights, parseRecoveryStep, RECOVERY_UI_DEFAULTS, recoveryRequest, settingsProblem, withPoint } from './recovery-params';

describe('recovery settings', () => {
  it('reads back every step of the engine’s progress messages', () => {
    for (const [step, loss, kl] of [
      [1, 3.7516, 0.0505],
      [60, 12.25, -0.0001],
      [7, 0.00042, 1e-7],
    ] as const) {
      const p = parseRecoveryStep(recoveryStepMessage({ step, loss, kl }, 60));
      expect(p).not.toBeNull();
      expect(p!.step).toBe(step);
      expect(p!.steps).toBe(60);
      expect(p!.loss).toBeCloseTo(loss, 4);
    }
    expect(parseRecoveryStep('Dense logits (teacher) and the training graph')).toBeNull();
    expect(parseRecoveryStep(undefined)).toBeNull();
  });

  it('LM only sends lm 1, kl 0; distillation sends the chosen weights (api defaults KL 1, LM 0)', () => {
    expect(lossWeights({ loss: 'lm', klWeight: 1, lmWeight: 0 })).toEqual({ klWeight: 0, lmWeight: 1 });
    expect(lossWeights(RECOVERY_UI_DEFAULTS)).toEqual({ klWeight: 1, lmWeight: 0 });
    expect(lossWeights({ loss: 'distill', klWeight: 0.5, lmWeight: 0.5 })).toEqual({ klWeight: 0.5, lmWeight: 0.5 });
  });

  it('names what is wrong with the settings, and nothing for the defaults', () => {
    expect(settingsProblem(RECOVERY_UI_DEFAULTS)).toBeNull();
    expect(settingsProblem({ ...RECOVERY_UI_DEFAULTS, steps: 0 })).toMatch(/Steps/);
    expect(settingsProblem({ ...RECOVERY_UI_DEFAULTS, steps: 2.5 })).toMatch(/Steps/);
    expect(settingsProblem({ ...RECOVERY_UI_DEFAULTS, learningRate: 0 })).toMatch(/learning rate/);
    expect(settingsProblem({ ...RECOVERY_UI_DEFAULTS, samples: 0 })).toMatch(/sequences/);
    expect(settingsProblem({ ...RECOVERY_UI_DEFAULTS, klWeight: 0, lmWeight: 0 })).toMatch(/weights/);
    expect(settingsProblem({ ...RECOVERY_UI_DEFAULTS, loss: 'lm', klWeight: 0, lmWeight: 0 })).toBeNull();
  });

  it('the request trains on calibration.txt and measures on the given protocol', () => {
    const ppl = { text: 'e', textName: 'evaluation.txt', contextLength: 128, stride: 64 };
    const r = recoveryRequest(RECOVERY_UI_DEFAULTS, 'calib', ppl);
    expect(r).toEqual({
      steps: 60,
      learningRate: 2e-4,
      klWeight: 1,
      lmWeight: 0,
      training: { text: 'calib', textName: 'calibration.txt', samples: 64, seq: 128 },
      perplexity: ppl,
    });
  });

  it('a repeated step replaces its point; points stay in step order', () => {
    let c = withPoint([], { step: 2, loss: 3 });
    c = withPoint(c, { step: 1, loss: 4 });
    c = withPoint(c, { step: 2, loss: 2.5 });
    expect(c).toEqual([
      { step: 1, loss: 4 },
      { step: 2, loss: 2.5 },
    ]);
  });
});
