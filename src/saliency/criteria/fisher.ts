/**
 * Empirical Fisher information of the unit masks: I = mean over calibration sequences s of
 * (dL_s/dm)², the diagonal of the Fisher approximation to the loss Hessian in mask space
 * (Kwon et al. 2022, "A Fast Post-Training Pruning Framework for Transformers": Σ_batches (∂L/∂m)²,
 * here divided by the number of sequences). Same backward passes as Taylor, shared.
 */
import { InputError } from '../../core/errors';
import type { Criterion } from '../types';
import { emptyScores } from '../units';

export const fisher: Criterion = {
  name: 'fisher',
  label: 'Fisher ((∂L/∂mask)²)',
  plain: 'Like Taylor, but squares the per-text sensitivities, so units that matter a lot on some texts rank higher.',
  what: 'Second-order view from first-order data: the mean over calibration sequences of the squared loss gradient with respect to each unit mask, the diagonal of the empirical Fisher matrix. Under the Fisher approximation, half of it is the curvature term of the loss change when a mask moves. It ranks units whose gradient is large on some sequences higher than Taylor does.',
  cost: 'The same backward passes as Taylor (computed once for both).',
  source:
    'Kwon et al., 2022, "A Fast Post-Training Pruning Framework for Transformers" (mask Fisher information); LeCun et al., 1990 (OBD); Torch-Pruning GroupHessianImportance.',
  needs: { stats: true, gram: false, maskedLoss: false, gradients: true },
  async compute({ ir, gradients }) {
    if (!gradients) throw new InputError('Fisher importance needs gradients of the calibration loss.', 'Run calibration first.');
    const g = await gradients();
    const s = emptyScores(ir, 'fisher', { heads: true, ffn: true, layers: true });
    const n = g.numSequences;
    s.heads!.set(g.heads.sumSq.map((v) => v / n));
    s.ffn!.set(g.ffn.sumSq.map((v) => v / n));
    s.layers!.set(g.layers.sumSq.map((v) => v / n));
    return s;
  },
};
