/**
 * Distillation recovery: after each round, a few Adam steps on every linear weight of the blocks
 * towards the dense model's next-token distribution (KL) plus the LM loss (prune/distill.ts), on
 * the calibration sequences. The seed's "lightweight recovery training" between rounds.
 */
import { InputError } from '../../core/errors';
import { distill as train } from '../distill';
import type { RecoveryMethod } from './types';

export const distill: RecoveryMethod = {
  name: 'distill',
  label: 'Distillation training',
  plain: "After each round, train every remaining weight to imitate the dense model's next-word predictions.",
  what: 'After each round, Adam steps on every linear weight of the blocks: KL to the dense model’s next-token distribution plus the LM loss.',
  source:
    'Hinton et al., 2015 (distillation); Kingma & Ba, 2015 (Adam); Ma et al., 2023, "LLM-Pruner" and Sanh et al., 2020 (recovery training after pruning).',
  needs: { calibration: true, hessians: false, gradients: false, training: true },
  apply: async ({ ir, masks, engine, training, optimizer, signal, progress }) => {
    if (!engine.distill || !training) throw new InputError('Distillation recovery needs the training engine.');
    const out = await train(ir, masks, engine.distill, training, {
      ...optimizer,
      ...(signal ? { signal } : {}),
      onStep: (p, steps) => progress(`training step ${p.step}/${steps} (loss ${p.loss.toFixed(3)})`),
    });
    return { ir: out.ir, lossBefore: out.curve[0]?.loss ?? NaN, lossAfter: out.curve.at(-1)?.loss ?? NaN, curve: out.curve };
  },
};
