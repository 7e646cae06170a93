/**
 * Registry of VJP rules: ONNX op type -> GradRule. Ops listed in NON_DIFFERENTIABLE produce
 * integer, boolean or shape values (or constants) and never carry gradient. An op missing from
 * both tables that lies on a path from a differentiated input to the loss is reported by name.
 */
import { Add, Div, Expand, Mul, Pow, Sub, Where } from './elementwise';
import { Gather, GatherElements } from './gather';
import { Concat, Flatten, Reshape, Slice, Split, Squeeze, Transpose, Unsqueeze } from './layout';
import { Gemm, MatMul } from './matmul';
import { LayerNormalization } from './norm';
import { LogSoftmax, ReduceLogSumExp, ReduceMean, ReduceSum, Softmax } from './reduce';
import type { GradRule } from './types';
import { Abs, Cast, Cos, Erf, Exp, Identity, Log, Neg, Reciprocal, Relu, Sigmoid, Sin, Sqrt, Tanh } from './unary';

export const NON_DIFFERENTIABLE = [
  'Shape',
  'Size',
  'Range',
  'Greater',
  'GreaterOrEqual',
  'Less',
  'LessOrEqual',
  'Equal',
  'Not',
  'And',
  'Or',
  'ConstantOfShape',
  'Constant',
  'ArgMax',
  'ArgMin',
  'NonZero',
  'Sign',
] as const;

export const GRAD_RULES: Record<string, GradRule> = {
  ...Object.fromEntries(NON_DIFFERENTIABLE.map((op) => [op, { diff: [] } satisfies GradRule])),
  Add,
  Sub,
  Mul,
  Div,
  Pow,
  Where,
  Expand,
  Identity,
  Neg,
  Tanh,
  Sigmoid,
  Erf,
  Relu,
  Sqrt,
  Reciprocal,
  Exp,
  Log,
  Abs,
  Sin,
  Cos,
  Cast,
  MatMul,
  Gemm,
  Reshape,
  Flatten,
  Squeeze,
  Unsqueeze,
  Transpose,
  Split,
  Concat,
  Slice,
  Gather,
  GatherElements,
  ReduceSum,
  ReduceMean,
  ReduceLogSumExp,
  Softmax,
  LogSoftmax,
  LayerNormalization,
};

export type { GradRule, VjpArgs } from './types';
