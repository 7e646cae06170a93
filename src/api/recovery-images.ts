/**
 * Recovery training of an image classifier (ViT): distillation from the dense classifier's logits
 * (softmax per image, computed once per training set and cached) plus cross-entropy on the labels,
 * Adam on every block linear weight (prune/distill.ts), through the gradient graph of the applied
 * (sliced) model with pixel_values input. Removed heads, neurons, layers and hidden channels are not
 * in the sliced model, so they stay removed; the trained weights are written back into the
 * full-size compensated model (prune/unslice.ts), whose masked forward equals the sliced one, and
 * the result is installed like applyPlan. Optional validation accuracy every k steps (the recovery
 * curve) and accuracy of the result on evaluation images. Keep evaluation images out of training.
 */
import { InputError, throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { JobOptions } from '../core/job';
import { asFloat32, int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { AccuracyAccumulator } from '../eval/accuracy';
import { checkImageDataset, imageBatch, type ImageDataset } from '../eval/image-dataset';
import { buildOnnx } from '../graph/build';
import { openModelSession } from '../graph/model-session';
import { allWeightFeeds, LOSS_CROSS, LOSS_LM } from '../graph/grad/loss';
import { distill, layerKinds, type DistillEngine } from '../prune/distill';
import { unsliceLinears } from '../prune/unslice';
import { evaluateAccuracy, isImageClassifier } from './accuracy';
import { compensatedModel, installApplied } from './install';
import { recoveryOptions, recoveryStepMessage } from './recovery';
import { requirePruned, type LoadedModel, type StudioState } from './state';
import type { RecoveryRequest, RecoveryResult, ValidationPoint } from './types';

/** Defaults when the request names none (lr 3e-4 won on a validation split of training images at 400 and 1000 steps, docs/METHODS.md). */
export const IMAGE_RECOVERY_DEFAULTS = { steps: 300, learningRate: 3e-4, lm: 1, kl: 1, batchSize: 64 } as const;

export interface ImageTeacher {
  /** softmax of the dense logits, [count, labels]. */
  probs: Float32Array;
  /** Mean over the images of the teacher's entropy (KL = cross − entropy). */
  entropy: Float64Array;
}

/** Row-wise softmax of logits [rows, K] and each row's entropy. */
export function softmaxWithEntropy(logits: ArrayLike<number>, rows: number, K: number): ImageTeacher {
  const probs = new Float32Array(rows * K);
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let k = 0; k < K; k++) max = Math.max(max, logits[r * K + k]!);
    let sum = 0;
    for (let k = 0; k < K; k++) sum += Math.exp(logits[r * K + k]! - max);
    const lse = max + Math.log(sum);
    let h = 0;
    for (let k = 0; k < K; k++) {
      const lp = logits[r * K + k]! - lse;
      probs[r * K + k] = Math.exp(lp);
      h -= Math.exp(lp) * lp;
    }
    entropy[r] = h;
  }
  return { probs, entropy };
}

/** logits [count, labels] of `session` (a logits graph) on every image, `batch` at a time. */
async function logitsOf(
  session: RunnerSession,
  ds: ImageDataset,
  labels: number,
  batch: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const out = new Float32Array(ds.count * labels);
  for (let from = 0; from < ds.count; from += batch) {
    throwIfAborted(signal, 'Recovery training');
    const b = imageBatch(ds, from, batch);
    const r = await session.run({ pixel_values: { type: 'float32', dims: b.dims, data: b.data } }, ['logits']);
    out.set(asFloat32(r.logits, 'logits'), from * labels);
  }
  return out;
}

const teachers = new WeakMap<LoadedModel, WeakMap<ImageDataset, Promise<ImageTeacher>>>();

/** The dense classifier's distribution on every training image (one pass, cached per model and dataset). */
export function denseImageTeacher(state: StudioState, m: LoadedModel, ds: ImageDataset): Promise<ImageTeacher> {
  let cache = teachers.get(m);
  if (!cache) teachers.set(m, (cache = new WeakMap()));
  let hit = cache.get(ds);
  if (!hit) {
    hit = (async () => {
      const session = await openModelSession(state.deps.runner, m.ir, { logits: true });
      try {
        const K = m.ir.spec.vocabSize;
        return softmaxWithEntropy(await logitsOf(session, ds, K, 100), ds.count, K);
      } finally {
        await session.release();
      }
    })();
    hit.catch(() => cache.delete(ds));
    cache.set(ds, hit);
  }
  return hit;
}

/** The training graph of a (sliced) classifier: every block linear weight an input, distillation loss + gradients. */
export function openImageTrainingSession(state: StudioState, ir: ModelIR, mix: { lm: number; kl: number }): Promise<RunnerSession> {
  return state.deps.runner.open(buildOnnx(ir, { logits: false, weightInputs: 'all', gradients: { weights: true }, distill: mix }));
}

/** A DistillEngine over `ds` with its teacher: minibatches of `batchSize` images in file order, cycling. */
export function imageDistillEngine(session: RunnerSession, ds: ImageDataset, teacher: ImageTeacher, batchSize: number): DistillEngine {
  const count = Math.ceil(ds.count / batchSize);
  return {
    batches: count,
    async step(ir, masks, i) {
      if (masks) throw new InputError('Image recovery trains the sliced model: it takes no masks.');
      const K = ir.spec.vocabSize;
      const b = imageBatch(ds, i * batchSize, batchSize);
      const n = b.labels.length;
      const from = i * batchSize;
      let entropy = 0;
      for (let r = 0; r < n; r++) entropy += teacher.entropy[from + r]!;
      const feeds: Feeds = {
        ...allWeightFeeds(ir),
        pixel_values: { type: 'float32', dims: b.dims, data: b.data },
        labels: int64Tensor(b.labels, [n]),
        loss_weights: { type: 'float32', dims: [n], data: new Float32Array(n).fill(1) },
        teacher_probs: { type: 'float32', dims: [n, K], data: teacher.probs.subarray(from * K, (from + n) * K) },
      };
      const names = ir.layers.flatMap((_, l) => layerKinds(ir, l).map((k) => `grad.${k}.${l}`));
      const out = await session.run(feeds, ['loss', LOSS_LM, LOSS_CROSS, ...names]);
      return {
        loss: asFloat32(out.loss, 'loss')[0]!,
        lm: asFloat32(out[LOSS_LM], LOSS_LM)[0]!,
        kl: asFloat32(out[LOSS_CROSS], LOSS_CROSS)[0]! - entropy / n,
        grads: new Map(names.map((nm) => [nm, asFloat32(out[nm], nm)] as const)),
      };
    },
  };
}

/** Top-1 accuracy and mean loss of a logits session on labelled images. */
async function accuracyOf(session: RunnerSession, ds: ImageDataset, K: number): Promise<{ accuracy: number; meanLoss: number }> {
  const acc = new AccuracyAccumulator(K);
  acc.add(await logitsOf(session, ds, K, 100), ds.labels);
  const r = acc.result();
  return { accuracy: r.accuracy, meanLoss: r.meanLoss };
}

function checkImages(m: LoadedModel, ds: ImageDataset | undefined, what: string): void {
  if (!ds) return;
  const v = m.ir.spec.vision!;
  try {
    checkImageDataset(ds, { channels: v.numChannels, imageSize: v.imageSize, numLabels: m.ir.spec.vocabSize });
  } catch (e) {
    throw new InputError(`The ${what} images: ${(e as Error).message}`);
  }
}

/** Trains the applied classifier by distillation from the dense one and installs the result as the applied model. */
export async function recoverImages(
  state: StudioState,
  m: LoadedModel,
  req: RecoveryRequest,
  options: JobOptions,
): Promise<RecoveryResult> {
  if (!isImageClassifier(m.ir)) throw new InputError(`${m.ir.name} is a language model: recover it on text.`);
  const pruned = requirePruned(m);
  const imgs = req.images ?? {};
  const training = imgs.training ?? m.calibration?.set.images;
  if (!training)
    throw new InputError(
      'Recovery training of an image classifier needs labelled training images.',
      'Calibrate on training images first, or pass images.training.',
    );
  checkImages(m, training, 'training');
  checkImages(m, imgs.validation, 'validation');
  const o = recoveryOptions({
    ...req,
    learningRate: req.learningRate ?? IMAGE_RECOVERY_DEFAULTS.learningRate,
    steps: req.steps ?? IMAGE_RECOVERY_DEFAULTS.steps,
    lmWeight: req.lmWeight ?? IMAGE_RECOVERY_DEFAULTS.lm,
    klWeight: req.klWeight ?? IMAGE_RECOVERY_DEFAULTS.kl,
    batchSize: req.batchSize ?? IMAGE_RECOVERY_DEFAULTS.batchSize,
  });
  const batchSize = o.batchSize;
  const every = imgs.validateEvery ?? Math.max(1, Math.round(o.steps / 10));
  if (!Number.isInteger(every) || every < 1) throw new InputError(`validateEvery must be a positive integer, got ${every}.`);
  const t0 = state.now();
  options.onProgress?.({ stage: 'recovery', done: 0, total: o.steps, message: 'Dense logits (teacher) and the training graph' });
  const teacher = await denseImageTeacher(state, m, training);
  const session = await openImageTrainingSession(state, pruned.ir, o.mix);
  const validation: ValidationPoint[] = [];
  let check: RunnerSession | undefined;
  let trained;
  try {
    const engine = imageDistillEngine(session, training, teacher, batchSize);
    trained = await distill(pruned.ir, undefined, engine, o, {
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (p, steps) => options.onProgress?.({ stage: 'recovery', done: p.step, total: steps, message: recoveryStepMessage(p, steps) }),
      afterStep: async (ir, step) => {
        const v = imgs.validation;
        if (!v || (step % every !== 0 && step !== o.steps)) return;
        // weights are fed from `ir`'s arrays on every run, so the session sees each update
        check ??= await openModelSession(state.deps.runner, ir, { logits: true });
        validation.push({ step, ...(await accuracyOf(check, v, ir.spec.vocabSize)) });
      },
    });
  } finally {
    await session.release();
    await check?.release();
  }
  const ms = state.now() - t0;
  const full = unsliceLinears(compensatedModel(m, pruned), pruned.summary.plan, trained.ir);
  const info = {
    steps: o.steps,
    learningRate: o.learningRate,
    ...o.mix,
    textName: training.description ?? 'training images',
    samples: training.count,
    seq: 1,
  };
  const applied = await installApplied(state, m, pruned.summary.plan, full, pruned.summary.compensation, pruned.summary.recovery, info);
  const accuracy = imgs.evaluation
    ? await evaluateAccuracy(m, { dataset: imgs.evaluation, target: 'pruned' }, options.signal ? { signal: options.signal } : {})
    : undefined;
  return {
    applied,
    curve: trained.curve,
    ms,
    adamStateBytes: trained.adamStateBytes,
    ...(accuracy ? { accuracy } : {}),
    ...(imgs.validation ? { validation } : {}),
  };
}
