/**
 * First-order Taylor importance of the unit masks (Michel et al. 2019 for heads; the same mask
 * form for FFN neurons and layers): I = mean over calibration sequences s of |dL_s/dm| at the
 * current masks, with L_s the mean next-token NLL of sequence s. |dL/dm| is the first-order
 * estimate of the loss change when the unit is removed (m: 1 -> 0). Gradients come from the
 * gradient graph (reverse-mode differentiation of the ONNX forward graph, src/graph/grad).
 */
import { InputError } from '../../core/errors';
import type { Criterion } from '../types';
import { emptyScores } from '../units';

export const taylor: Criterion = {
  name: 'taylor',
  label: 'Taylor (|∂L/∂mask|)',
  plain: 'Estimates, from one backward pass, how much the loss would change if each unit were switched off.',
  what: 'First-order Taylor estimate of what removing a unit costs: every head, FFN neuron and layer has a mask multiplying its output; the score is the size of the loss gradient with respect to that mask, |∂L/∂m|, averaged over calibration sequences (the absolute value is taken per sequence). One backward pass per sequence scores every unit at once.',
  cost: 'One forward + backward pass per calibration sequence (about 3 forward passes each), in the browser: the gradient graph is built from the forward ONNX graph.',
  source:
    'Michel et al., 2019, "Are Sixteen Heads Really Better than One?" (head importance I_h = E|∂L/∂ξ_h|); Molchanov et al., 2017/2019 (Taylor pruning criteria).',
  needs: { stats: true, gram: false, maskedLoss: false, gradients: true },
  async compute({ ir, gradients }) {
    if (!gradients) throw new InputError('Taylor importance needs gradients of the calibration loss.', 'Run calibration first.');
    const g = await gradients();
    const s = emptyScores(ir, 'taylor', { heads: true, ffn: true, layers: true });
    const n = g.numSequences;
    s.heads!.set(g.heads.sumAbs.map((v) => v / n));
    s.ffn!.set(g.ffn.sumAbs.map((v) => v / n));
    s.layers!.set(g.layers.sumAbs.map((v) => v / n));
    return s;
  },
};
