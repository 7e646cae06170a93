/**
 * Gradient-descent recovery: plain gradient steps on every o / down weight, W ← W − lr · dL/dW,
 * with the gradient of the mean calibration loss from the gradient graph. Masked channels get
 * exactly zero gradient (their inputs are zero), so they never change.
 */
import { InputError, throwIfAborted } from '../../core/errors';
import { gradientNorm, gradientStep } from '../recover';
import type { RecoveryMethod } from './types';

export const sgd: RecoveryMethod = {
  name: 'sgd',
  label: 'Gradient descent',
  plain: 'After each round, train the remaining weights a little on the calibration text.',
  what: 'After each round, a few gradient-descent steps on the o / down projection weights on the calibration loss.',
  source: 'Ma et al., 2023, "LLM-Pruner" (post-pruning recovery by tuning), here plain gradient descent on two projections.',
  needs: { calibration: true, hessians: false, gradients: true },
  apply: async ({ ir: ir0, masks, engine, sgdSteps, sgdLearningRate, signal, progress }) => {
    let ir = ir0;
    let lossBefore = NaN;
    for (let s = 0; s < sgdSteps; s++) {
      throwIfAborted(signal, 'Iterative pruning');
      progress(`gradient step ${s + 1}/${sgdSteps}`);
      const { loss, grads } = await engine.weightGradients(ir, masks);
      if (s === 0) lossBefore = loss;
      if (!Number.isFinite(gradientNorm(grads)))
        throw new InputError('Gradient descent diverged (non-finite gradient).', 'Lower the learning rate.');
      ir = gradientStep(ir, grads, sgdLearningRate);
    }
    return { ir, lossBefore, lossAfter: await engine.loss(ir, masks) };
  },
};
