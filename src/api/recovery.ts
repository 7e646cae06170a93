/**
 * Recovery training (src/prune/distill.ts) in the engine: the dense model's next-token
 * distributions on the training sequences are computed once (full vocabulary, float32; cached per
 * training set), and a gradient graph of the full-size model with masks and every block linear
 * weight as an input gives the distillation loss and its gradients. `recover` trains the applied
 * model (one-shot, SlimGPT or iterative) and re-installs it like applyPlan; `distillEngine` is also
 * what the 'distill' recovery of iterative pruning uses between rounds.
 */
import { InputError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { asFloat32, type Feeds, type RunnerSession } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { allWeightFeeds, LOSS_CROSS, LOSS_LM } from '../graph/grad/loss';
import { distill, DISTILL_DEFAULTS, layerKinds, type DistillEngine } from '../prune/distill';
import { planMasks } from '../prune/masks';
import { batches, feedsFor, makeCalibrationSet, type CalibrationSet } from '../saliency/calibrate';
import { nextTokenWeights } from '../saliency/gradients';
import type { MaskSet } from '../saliency/types';
import { maskFeeds } from './evaluation';
import { compensatedModel, installApplied } from './install';
import { prunedPerplexity } from './pruning';
import { requirePruned, tokensOf, type LoadedModel, type StudioState } from './state';
import { checkTextSize } from './text-guard';
import type { JobOptions, RecoveryRequest, RecoveryResult } from './types';

/** Largest teacher cache (full-vocabulary float32 probabilities) held in memory. */
export const TEACHER_CACHE_BYTES = 512 * 2 ** 20;

export interface Teacher {
  /** Per sequence: softmax of the dense logits, [seq, vocab]. */
  probs: Float32Array[];
  /** Per sequence: Σ over positions 0..seq-2 of the teacher's entropy (KL = cross − entropy). */
  entropy: Float64Array;
}

function softmaxRows(logits: Float32Array, rows: number, V: number): { probs: Float32Array; entropy: Float64Array } {
  const probs = new Float32Array(rows * V);
  const entropy = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[r * V + v]! - max);
    const lse = max + Math.log(sum);
    let h = 0;
    for (let v = 0; v < V; v++) {
      const lp = logits[r * V + v]! - lse;
      const p = Math.exp(lp);
      probs[r * V + v] = p;
      h -= p * lp;
    }
    entropy[r] = h;
  }
  return { probs, entropy };
}

const teachers = new WeakMap<LoadedModel, Map<string, Promise<Teacher>>>();

function teacherKey(set: CalibrationSet): string {
  let h = 0;
  for (const row of set.sequences) for (const id of row) h = (Math.imul(h, 31) + id) | 0;
  return `${set.textName}|${set.samples}x${set.seq}|${h}`;
}

/** The dense model's next-token distributions on `set` (one forward pass per sequence, cached per set). */
export function denseTeacher(state: StudioState, m: LoadedModel, set: CalibrationSet): Promise<Teacher> {
  const V = m.ir.spec.vocabSize;
  const bytes = set.samples * set.seq * V * 4;
  if (bytes > TEACHER_CACHE_BYTES)
    throw new InputError(
      `The dense logits of ${set.samples} × ${set.seq} tokens over ${V} tokens need ${(bytes / 2 ** 20).toFixed(0)} MiB.`,
      `Use fewer or shorter training sequences (at most ${(TEACHER_CACHE_BYTES / 2 ** 20).toFixed(0)} MiB).`,
    );
  let cache = teachers.get(m);
  if (!cache) teachers.set(m, (cache = new Map()));
  const key = teacherKey(set);
  let hit = cache.get(key);
  if (!hit) {
    hit = (async () => {
      const session = await state.deps.runner.open(buildOnnx(m.ir, { logits: true }));
      try {
        const probs: Float32Array[] = [];
        const entropy = new Float64Array(set.samples);
        for (const [s, sequence] of set.sequences.entries()) {
          const out = await session.run({ input_ids: feedsFor([sequence], set.seq).input_ids }, ['logits']);
          const t = softmaxRows(asFloat32(out.logits, 'logits'), set.seq, V);
          probs.push(t.probs);
          for (let p = 0; p < set.seq - 1; p++) entropy[s] = entropy[s]! + t.entropy[p]!;
        }
        return { probs, entropy };
      } finally {
        await session.release();
      }
    })();
    hit.catch(() => cache.delete(key));
    cache.set(key, hit);
  }
  return hit;
}

/** The training graph: full-size model, masks, every block linear weight an input, distillation loss. */
export function openTrainingSession(state: StudioState, m: LoadedModel, mix: { lm: number; kl: number }): Promise<RunnerSession> {
  return state.deps.runner.open(
    buildOnnx(m.ir, { masks: true, logits: false, weightInputs: 'all', gradients: { weights: true }, distill: mix }),
  );
}

function gradOutputs(ir: ModelIR): string[] {
  return ir.layers.flatMap((_, l) => layerKinds(ir, l).map((k) => `grad.${k}.${l}`));
}

/** A DistillEngine over `session` (openTrainingSession) and `set` with its teacher, `batchSize` sequences a step. */
export function distillEngine(session: RunnerSession, set: CalibrationSet, teacher: Teacher, batchSize: number): DistillEngine {
  const groups = batches(set, batchSize);
  const starts = groups.map((_, i) => i * batchSize);
  return {
    batches: groups.length,
    async step(ir, masks: MaskSet | undefined, i) {
      const batch = groups[i]!;
      const V = ir.spec.vocabSize;
      const rows = batch.length * set.seq;
      const probs = new Float32Array(rows * V);
      let entropy = 0;
      batch.forEach((_, r) => {
        probs.set(teacher.probs[starts[i]! + r]!, r * set.seq * V);
        entropy += teacher.entropy[starts[i]! + r]!;
      });
      const feeds: Feeds = {
        ...(masks ? maskFeeds(ir, masks) : {}),
        ...allWeightFeeds(ir),
        ...feedsFor(batch, set.seq),
        ...nextTokenWeights(batch.length, set.seq),
        teacher_probs: { type: 'float32', dims: [batch.length, set.seq, V], data: probs },
      };
      const names = gradOutputs(ir);
      const out = await session.run(feeds, ['loss', LOSS_LM, LOSS_CROSS, ...names]);
      const grads = new Map(names.map((n) => [n, asFloat32(out[n], n)] as const));
      const cross = asFloat32(out[LOSS_CROSS], LOSS_CROSS)[0]!;
      return {
        loss: asFloat32(out.loss, 'loss')[0]!,
        lm: asFloat32(out[LOSS_LM], LOSS_LM)[0]!,
        kl: cross - entropy / (batch.length * (set.seq - 1)),
        grads,
      };
    },
  };
}

/** The training set: the request's text cut into sequences, or the calibration set. */
export function trainingSet(m: LoadedModel, req: Pick<RecoveryRequest, 'training'>): CalibrationSet {
  const t = req.training;
  if (!t) {
    if (!m.calibration)
      throw new InputError('Recovery training needs training text.', 'Run calibration (step 2) first, or pass training text.');
    return m.calibration.set;
  }
  const seq = Math.min(t.seq ?? 128, m.ir.spec.maxPositions);
  checkTextSize(t.text, t.textName, t.samples * seq);
  return makeCalibrationSet(tokensOf(m, t.textName, t.text, t.samples * seq), t.textName, t.samples, seq);
}

export const RECOVERY_BATCH = 4;

export function recoveryOptions(req: Omit<RecoveryRequest, 'perplexity'>) {
  return {
    steps: req.steps ?? DISTILL_DEFAULTS.steps,
    learningRate: req.learningRate ?? DISTILL_DEFAULTS.learningRate,
    mix: { lm: req.lmWeight ?? DISTILL_DEFAULTS.lm, kl: req.klWeight ?? DISTILL_DEFAULTS.kl },
    batchSize: req.batchSize ?? RECOVERY_BATCH,
  };
}

/** The progress message of one training step; the UI reads the recovery curve back from it (ui/recovery-params.ts). */
export function recoveryStepMessage(p: { step: number; loss: number; kl: number }, steps: number): string {
  return `Recovery step ${p.step}/${steps}: loss ${p.loss.toFixed(4)} (KL ${p.kl.toFixed(4)})`;
}

/** Trains the applied model by distillation from the dense one and installs the result as the applied model. */
export async function recover(state: StudioState, m: LoadedModel, req: RecoveryRequest, options: JobOptions): Promise<RecoveryResult> {
  const pruned = requirePruned(m);
  const evaluation = req.perplexity;
  if (!evaluation) throw new InputError('Recovery training of a language model needs the perplexity request of its result.');
  const o = recoveryOptions(req);
  const set = trainingSet(m, req);
  const t0 = state.now();
  options.onProgress?.({ stage: 'recovery', done: 0, total: o.steps, message: 'Dense logits (teacher) and the training graph' });
  const teacher = await denseTeacher(state, m, set);
  const session = await openTrainingSession(state, m, o.mix);
  let trained;
  try {
    const engine = distillEngine(session, set, teacher, o.batchSize);
    trained = await distill(compensatedModel(m, pruned), planMasks(pruned.summary.plan), engine, o, {
      ...(options.signal ? { signal: options.signal } : {}),
      onStep: (p, steps) =>
        options.onProgress?.({
          stage: 'recovery',
          done: p.step,
          total: steps,
          message: recoveryStepMessage(p, steps),
        }),
    });
  } finally {
    await session.release();
  }
  const ms = state.now() - t0;
  const prior = pruned.summary.recovery;
  const training = { steps: o.steps, learningRate: o.learningRate, ...o.mix, textName: set.textName, samples: set.samples, seq: set.seq };
  const applied = await installApplied(state, m, pruned.summary.plan, trained.ir, pruned.summary.compensation, prior, training);
  const perplexity = await prunedPerplexity(m, evaluation, options.signal ? { signal: options.signal } : {});
  return { applied, curve: trained.curve, perplexity, ms, adamStateBytes: trained.adamStateBytes };
}
