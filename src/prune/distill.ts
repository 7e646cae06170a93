/**
 * Recovery training by distillation: Adam on every linear weight of the blocks (q, k, v, o, gate,
 * up, down) of the full-size model with masks, on the loss lm · NLL + kl · cross-entropy to the
 * dense model's cached next-token distribution (the engine computes both and their gradients in
 * the gradient graph). One minibatch of the calibration set per step, cycling; cosine learning-rate
 * decay to 0 over the step budget. Masked units get exactly zero gradient and never move, so the
 * masked model stays equal to the sliced one. Pure: the engine is injected.
 */
import { InputError, throwIfAborted } from '../core/errors';
import type { LayerWeights, Linear, ModelIR } from '../core/ir';
import { tensor } from '../core/tensor';
import type { MaskSet } from '../saliency/types';
import { createAdam, type Adam } from './adam';

export const LINEAR_KINDS = ['q', 'k', 'v', 'o', 'gate', 'up', 'down'] as const;
export type LinearKind = (typeof LINEAR_KINDS)[number];

export interface DistillOptions {
  /** Step budget (one minibatch each). */
  steps: number;
  learningRate: number;
  /** 'cosine' (default): lr · (1 + cos(π t / steps)) / 2; 'constant'. */
  schedule?: 'cosine' | 'constant';
}

/** Defaults measured on the demo model (docs/METHODS.md, "Recovery training"). */
export const DISTILL_DEFAULTS = { steps: 40, learningRate: 2e-4, kl: 1, lm: 0 } as const;

export interface DistillStep {
  /** The minibatch's training loss, its mean NLL and mean KL(teacher ‖ student) per token. */
  loss: number;
  lm: number;
  kl: number;
  /** Gradients named grad.{kind}.{layer}. */
  grads: ReadonlyMap<string, ArrayLike<number>>;
}

export interface DistillEngine {
  /** Minibatches in the training set. */
  readonly batches: number;
  step(ir: ModelIR, masks: MaskSet | undefined, batch: number): Promise<DistillStep>;
}

/** One point of the recovery curve (before the step's update). */
export interface CurvePoint {
  step: number;
  loss: number;
  lm: number;
  kl: number;
  lr: number;
}

export interface DistillHooks {
  signal?: AbortSignal;
  onStep?: (p: CurvePoint, steps: number) => void;
  /** Called with the model being trained (its weights change in place) before the first step (0) and after each step. */
  afterStep?: (ir: ModelIR, step: number) => Promise<void>;
  /** An optimizer to carry on (iterative rounds share one); default a fresh Adam. */
  adam?: Adam;
  /** Learning rate of local step t (overrides the options' schedule; iterative's run-wide schedule). */
  lrAt?: (t: number) => number;
  /** Minibatch index of local step 0 (iterative rounds keep cycling through the set). */
  firstBatch?: number;
}

/** The linear kinds present in layer l (none for an empty sublayer; gate only in gated MLPs). */
export function layerKinds(ir: ModelIR, l: number): LinearKind[] {
  const shape = ir.layers[l]!;
  const attn: LinearKind[] = shape.numHeads > 0 ? ['q', 'k', 'v', 'o'] : [];
  const mlp: LinearKind[] = shape.ffnSize > 0 ? [...(ir.spec.gatedMlp ? (['gate'] as const) : []), 'up', 'down'] : [];
  return [...attn, ...mlp];
}

function own(lin: Linear): Linear {
  return { ...lin, weight: tensor(lin.weight.shape, lin.weight.data.slice()) };
}

/** A copy of `ir` whose block linear weights are private copies (norms, biases, embeddings shared). */
export function withOwnLinears(ir: ModelIR): ModelIR {
  const layers = ir.weights.layers.map((lw): LayerWeights => ({
    ...lw,
    q: own(lw.q),
    k: own(lw.k),
    v: own(lw.v),
    o: own(lw.o),
    up: own(lw.up),
    down: own(lw.down),
    ...(lw.gate ? { gate: own(lw.gate) } : {}),
  }));
  return { ...ir, weights: { ...ir.weights, layers } };
}

/** Trainable tensors by gradient name grad.{kind}.{l} (views of the IR's data: updates are in place). */
export function linearParams(ir: ModelIR): Map<string, Float32Array> {
  const params = new Map<string, Float32Array>();
  ir.layers.forEach((_, l) => {
    const w = ir.weights.layers[l]!;
    for (const kind of layerKinds(ir, l)) {
      const lin = kind === 'gate' ? w.gate : w[kind];
      if (lin) params.set(`grad.${kind}.${l}`, lin.weight.data);
    }
  });
  return params;
}

export function learningRateAt(opts: DistillOptions, t: number): number {
  return opts.schedule === 'constant' ? opts.learningRate : (opts.learningRate * (1 + Math.cos((Math.PI * t) / opts.steps))) / 2;
}

export function validateDistill(opts: DistillOptions): void {
  if (!Number.isInteger(opts.steps) || opts.steps < 1 || opts.steps > 10_000)
    throw new InputError(`Recovery steps must be an integer in 1..10000, got ${opts.steps}.`);
  if (!(opts.learningRate > 0 && opts.learningRate < 1))
    throw new InputError(`The learning rate must be in (0, 1), got ${opts.learningRate}.`);
}

/**
 * Trains a private copy of `ir0` (returned) for `opts.steps` Adam steps at the given masks; the
 * curve holds the loss of each step's minibatch before its update.
 */
export async function distill(
  ir0: ModelIR,
  masks: MaskSet | undefined,
  engine: DistillEngine,
  opts: DistillOptions,
  hooks: DistillHooks = {},
) {
  validateDistill(opts);
  if (!(engine.batches >= 1)) throw new InputError('Recovery training needs calibration sequences.', 'Run calibration first.');
  const ir = withOwnLinears(ir0);
  const params = linearParams(ir);
  const adam = hooks.adam ?? createAdam();
  const curve: CurvePoint[] = [];
  await hooks.afterStep?.(ir, 0);
  for (let t = 0; t < opts.steps; t++) {
    throwIfAborted(hooks.signal, 'Recovery training');
    const { loss, lm, kl, grads } = await engine.step(ir, masks, ((hooks.firstBatch ?? 0) + t) % engine.batches);
    if (!Number.isFinite(loss)) throw new InputError('Recovery training diverged (non-finite loss).', 'Lower the learning rate.');
    const lr = hooks.lrAt ? hooks.lrAt(t) : learningRateAt(opts, t);
    adam.step(params, grads, lr);
    const point = { step: t + 1, loss, lm, kl, lr };
    curve.push(point);
    hooks.onStep?.(point, opts.steps);
    await hooks.afterStep?.(ir, t + 1);
  }
  return { ir, curve, adamStateBytes: adam.stateBytes };
}
