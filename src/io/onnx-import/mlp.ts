/**
 * The MLP block: one up projection (GPT-2: up -> activation -> down) or two (SwiGLU: the one whose
 * path holds the activation is the gate, the other the up projection, joined by a Mul; also one
 * fused gate|up projection split in two along the last axis, as Prune Studio's graph writes it), the down
 * projection, and the residual Add. The activation is read from the ops on the gate / up path:
 * Sigmoid (SiLU), Tanh (GELU tanh form), Erf (exact GELU), Relu, or the Gelu operator.
 */
import type { Activation, Linear } from '../../core/ir';
import { partLinear, splitFused } from './attention';
import { OnnxStructureError } from './errors';
import type { GraphIndex, Region } from './graph';
import { linearAt, type LinearMatch } from './linear';

const STOP = new Set(['MatMul', 'Gemm', 'Softmax']);

export interface MlpMatch {
  up: Linear;
  gate?: Linear;
  down: Linear;
  activation: Activation;
  out: string;
}

function activationOf(g: GraphIndex, region: Region): Activation | undefined {
  const ops = new Set(region.nodes.map((n) => n.op));
  const gelu = region.nodes.find((n) => n.op === 'Gelu');
  if (gelu) return g.attrString(gelu, 'approximate') === 'tanh' ? 'gelu_new' : 'gelu';
  if (ops.has('Tanh')) return 'gelu_new';
  if (ops.has('Erf')) return 'gelu';
  if (ops.has('Sigmoid')) return 'silu';
  if (ops.has('Relu')) return 'relu';
  return undefined;
}

const linear = (m: LinearMatch): Linear => ({ weight: m.weight(), ...(m.bias ? { bias: m.bias() } : {}) });

/** A single projection split in two equal halves (fused gate | up) stands for two projections. */
function unfuse(g: GraphIndex, projections: LinearMatch[], where: string): LinearMatch[] {
  if (projections.length !== 1) return projections;
  const parts = splitFused(g, projections[0]!, where);
  return parts.length === 2 && parts[0]!.to - parts[0]!.from === parts[1]!.to - parts[1]!.from ? parts.map(partLinear) : projections;
}

export function matchMlp(g: GraphIndex, h: string, found: LinearMatch[], where: string): MlpMatch {
  const projections = unfuse(g, found, where);
  if (projections.length !== 1 && projections.length !== 2) {
    throw new OnnxStructureError(`${where}: expected one MLP input projection (up) or two (gate and up), found ${projections.length}.`);
  }
  const own = projections.map((p) => g.region([p.out], STOP));
  const acts = own.map((r) => activationOf(g, r));
  let gateIndex = -1;
  if (projections.length === 2) {
    const withAct = acts.flatMap((a, i) => (a ? [i] : []));
    if (withAct.length !== 1)
      throw new OnnxStructureError(
        `${where}: could not tell the gate projection from the up projection (the activation must follow exactly one of them).`,
      );
    gateIndex = withAct[0]!;
  }
  const activation = acts[gateIndex < 0 ? 0 : gateIndex];
  if (!activation) throw new OnnxStructureError(`${where}: could not recognise the MLP activation (Sigmoid, Tanh, Erf, Relu or Gelu).`);
  const joint = g.region(
    found.map((p) => p.out),
    STOP,
  );
  let down: LinearMatch | undefined;
  for (const e of joint.exits) down ??= linearAt(g, e);
  if (!down) throw new OnnxStructureError(`${where}: could not find the MLP down projection.`);
  const residual = g.region([down.out], STOP).exits.find((e) => e.node.op === 'Add' && e.node.inputs.includes(h))?.node;
  if (!residual) throw new OnnxStructureError(`${where}: the MLP output is not added back to the residual stream.`);
  const upIndex = gateIndex < 0 ? 0 : 1 - gateIndex;
  return {
    up: linear(projections[upIndex]!),
    ...(gateIndex >= 0 ? { gate: linear(projections[gateIndex]!) } : {}),
    down: linear(down),
    activation,
    out: residual.outputs[0]!,
  };
}
