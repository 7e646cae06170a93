/**
 * The VJP rule contract: one rule per ONNX op type. Given the gradients of a node's outputs
 * (undefined where an output carries none), a rule emits nodes computing the gradient of each
 * input that needs one, already reduced to that input's shape.
 */
import type { NodeProto } from '../../../io/onnx';
import type { GradEmitter } from '../emitter';

export interface VjpArgs {
  node: NodeProto;
  /** Gradient of each output, or undefined when that output does not reach the loss. */
  gy: readonly (string | undefined)[];
  /** needs[i]: whether input i needs a gradient. */
  needs: readonly boolean[];
  e: GradEmitter;
}

export interface GradRule {
  /** Input indices through which gradient can flow ('all' = every input). */
  diff: readonly number[] | 'all';
  /** Gradient per input (undefined where not needed). Omitted for non-differentiable ops. */
  vjp?: (args: VjpArgs) => (string | undefined)[];
}

/** The first output's gradient, or an error naming the node. */
export function gradOut(a: VjpArgs, i = 0): string {
  const g = a.gy[i];
  if (!g) throw new Error(`gradient builder: output ${i} of ${a.node.op_type} "${a.node.name ?? ''}" has no gradient`);
  return g;
}
