/**
 * Magnitude: L2 norm of each unit's coupled weights (LLM-Pruner / Torch-Pruning style, p = 2,
 * members summed, with the root). No calibration data needed.
 */
import type { Criterion } from '../types';
import { columnSums, emptyScores, rowSum, square, sumAll } from '../units';

export const magnitude: Criterion = {
  name: 'magnitude',
  label: 'Magnitude (L2)',
  plain: 'Units with small weights are guessed to matter little, without looking at any text.',
  what: 'The L2 norm of all weights a unit owns: a head = its query/key/value rows (and biases) and its output-projection columns; an FFN neuron = its up (and gate) row, bias, and down column; a layer = all four projections of the block. Small weights are assumed to matter little. It never sees data, so it cannot tell how strongly a unit fires: for FFN neurons it can do worse than random selection (on the demo model it does, because of layer 0; see docs/METHODS.md). A baseline: prefer an activation-aware criterion for neurons.',
  cost: 'Instant: reads the weights only, no calibration data.',
  source: 'LLM-Pruner (Ma et al., 2023) MagnitudeImportance; Torch-Pruning GroupMagnitudeImportance.',
  needs: { stats: false, gram: false, maskedLoss: false },
  async compute({ ir }) {
    const s = emptyScores(ir, 'magnitude', { heads: true, ffn: true, layers: true });
    const dh = ir.spec.headDim;
    ir.weights.layers.forEach((lw, l) => {
      const { numHeads: H, numKvHeads: K, ffnSize: F } = ir.layers[l]!;
      const oCols = columnSums({ weight: lw.o.weight }, square);
      const downCols = columnSums({ weight: lw.down.weight }, square);
      for (let h = 0; h < H; h++) {
        let t = rowSum(lw.q, h * dh, (h + 1) * dh, square);
        if (K === H) t += rowSum(lw.k, h * dh, (h + 1) * dh, square) + rowSum(lw.v, h * dh, (h + 1) * dh, square);
        for (let j = h * dh; j < (h + 1) * dh; j++) t += oCols[j]!;
        s.heads![l * H + h] = Math.sqrt(t);
      }
      for (let j = 0; j < F; j++) {
        let t = rowSum(lw.up, j, j + 1, square) + downCols[j]!;
        if (lw.gate) t += rowSum(lw.gate, j, j + 1, square);
        s.ffn![l * F + j] = Math.sqrt(t);
      }
      const linears = [lw.q, lw.k, lw.v, lw.o, lw.up, lw.gate, lw.down];
      s.layers![l] = Math.sqrt(linears.reduce((acc, lin) => acc + sumAll(lin, square), 0));
    });
    return s;
  },
};
