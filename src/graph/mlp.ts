/**
 * Feed-forward branch of one block (pre-norm): down(act(up(x))) or, for gated MLPs (SwiGLU),
 * down(act(gate(x)) * up(x)) with gate and up as one fused MatMul. ffn_mask multiplies each
 * neuron's activation before the down projection (the ffn_in tap). A layer with ffnSize 0 keeps
 * only its down-projection bias (if any), as a constant.
 */
import { fusedWeightT, matmulBias, projectionWeightT, weight, type GraphContext } from './context';
import { activation } from './activations';
import { applyNorm } from './norms';
import { applyLayerMask, emptyTap, tap, tapNames, type TapRecord } from './taps';
import { fusedBias } from './weights';
import { linearFromInputs } from './weight-inputs';

export function mlpBranch(ctx: GraphContext, taps: TapRecord[], x: string, l: number): string | undefined {
  const { b, ir } = ctx;
  const F = ir.layers[l]!.ffnSize;
  const w = ir.weights.layers[l]!;
  const name = `layer${l}/mlp`;
  if (F === 0) {
    emptyTap(ctx, taps, x, tapNames.ffnIn(l));
    return w.down.bias ? weight(ctx, `${name}/down.bias`, w.down.bias) : undefined;
  }
  const xn = applyNorm(ctx, x, w.mlpNorm, `${name}/norm`);
  let act: string;
  if (ctx.weightIndex) {
    const up = linearFromInputs(ctx, xn, w.up, `${name}/up`);
    act =
      ir.spec.gatedMlp && w.gate
        ? b.op(
            'Mul',
            [activation(ctx, ir.spec.activation, linearFromInputs(ctx, xn, w.gate, `${name}/gate`), `${name}/act`), up],
            undefined,
            `${name}/gated`,
          )
        : activation(ctx, ir.spec.activation, up, `${name}/act`);
  } else if (ir.spec.gatedMlp && w.gate) {
    const bias = fusedBias([w.gate, w.up]);
    const h = matmulBias(
      ctx,
      xn,
      fusedWeightT(
        ctx,
        [
          { kind: 'gate', w: w.gate.weight },
          { kind: 'up', w: w.up.weight },
        ],
        l,
        `${name}/gate_up.weight_t`,
      ),
      bias && weight(ctx, `${name}/gate_up.bias`, bias),
      `${name}/gate_up`,
    );
    const [g, u] = b.node('Split', [h, b.constInt64([F, F])], { attrs: { axis: -1 }, outputs: 2, name: `${name}/split` });
    act = b.op('Mul', [activation(ctx, ir.spec.activation, g!, `${name}/act`), u!], undefined, `${name}/gated`);
  } else {
    const h = matmulBias(
      ctx,
      xn,
      fusedWeightT(ctx, [{ kind: 'up', w: w.up.weight }], l, `${name}/up.weight_t`),
      w.up.bias && weight(ctx, `${name}/up.bias`, w.up.bias),
      `${name}/up`,
    );
    act = activation(ctx, ir.spec.activation, h, `${name}/act`);
  }
  act = applyLayerMask(ctx, act, 'ffn', l, `${name}/ffn`);
  tap(ctx, taps, act, tapNames.ffnIn(l), F);
  if (ctx.weightIndex) return linearFromInputs(ctx, act, w.down, `${name}/down`);
  const downBias = w.down.bias && weight(ctx, `${name}/down.bias`, w.down.bias);
  const downT = projectionWeightT(ctx, 'down', l, w.down.weight, `${name}/down.weight_t`);
  return matmulBias(ctx, act, downT, downBias, `${name}/down`);
}
