/**
 * VJP of LayerNormalization (opset 17), expanded into primitives. With x̂ = (x − μ)·r,
 * r = 1/√(σ² + ε) over the normalised axes [axis, rank), y = x̂ ⊙ γ + β and ĝ = g ⊙ γ:
 *   dx = r · (ĝ − mean(ĝ) − x̂ · mean(ĝ ⊙ x̂)),  dγ = Σ_rows g ⊙ x̂,  dβ = Σ_rows g.
 * Statistics are recomputed (the forward node's optional Mean/InvStdDev outputs are not relied on).
 */
import { floatAttr, intAttr } from '../facts';
import { gradOut, type GradRule } from './types';

export const LayerNormalization: GradRule = {
  diff: [0, 1, 2],
  vjp(a) {
    const { e, node } = a;
    const [x, scale, bias] = node.input as [string, string, string | undefined];
    const g = gradOut(a);
    const rank = e.rank(x);
    const axisRaw = intAttr(node, 'axis', -1);
    const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const eps = floatAttr(node, 'epsilon', 1e-5);
    const mean = e.reduceMean(x, axes, true);
    const xc = e.op('Sub', [x, mean], undefined, 'ln_centered');
    const variance = e.reduceMean(e.op('Mul', [xc, xc], undefined, 'ln_sq'), axes, true);
    const rstd = e.op(
      'Reciprocal',
      [e.op('Sqrt', [e.op('Add', [variance, e.scalar(eps)], undefined, 'ln_var_eps')], undefined, 'ln_std')],
      undefined,
      'ln_rstd',
    );
    const xhat = e.op('Mul', [xc, rstd], undefined, 'ln_xhat');
    const yShape = e.shape(node.output[0]!);
    let gx: string | undefined;
    if (a.needs[0]) {
      const gh = e.op('Mul', [g, scale], undefined, 'ln_ghat');
      const m1 = e.reduceMean(gh, axes, true);
      const m2 = e.reduceMean(e.op('Mul', [gh, xhat], undefined, 'ln_ghat_xhat'), axes, true);
      const inner = e.op(
        'Sub',
        [e.op('Sub', [gh, m1], undefined, 'ln_c1'), e.op('Mul', [xhat, m2], undefined, 'ln_c2')],
        undefined,
        'ln_inner',
      );
      gx = e.op('Mul', [inner, rstd], undefined, 'ln_grad_x');
    }
    const gScale = a.needs[1] ? e.unbroadcast(e.op('Mul', [g, xhat], undefined, 'ln_grad_scale'), yShape, scale) : undefined;
    const gBias = a.needs[2] && bias ? e.unbroadcast(g, yShape, bias) : undefined;
    return [gx, gScale, gBias];
  },
};
