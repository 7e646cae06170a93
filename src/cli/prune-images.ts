/**
 * `prune-studio prune --images ...` for image classifiers (ViT): the labelled images (cli/images.ts
 * formats) serve as the calibration set (first --samples images) and as the evaluation set; the
 * command scores, allocates, applies, measures top-1 accuracy and mean loss dense and pruned, and
 * writes the verified bundle (whose README holds the written file's own accuracy on the same images).
 */
import { InputError } from '../core/errors';
import {
  firstImages,
  getCompensation,
  getCriterion,
  IMAGE_RECOVERY_DEFAULTS,
  type Allocation,
  type Compensation,
  type CriterionName,
  type ImageDataset,
  type StudioApi,
} from '../api';
import { numberFlag, stringFlag, type ParsedArgs } from './args';
import { exportRequest, writeBundle } from './bundle';
import { readImages } from './images';

export async function pruneImagesCommand(
  api: StudioApi,
  args: ParsedArgs,
  plan: {
    allocation: Allocation;
    heads: number;
    ffn: number;
    layers: number;
    compensation: Compensation;
    target?: { metric: 'parameters' | 'flops'; fraction: number };
  },
) {
  const format = exportRequest(args);
  if (format.dtype !== 'fp32') throw new InputError('A quantized export of an image classifier is not supported yet.', 'Drop --quantize.');
  const criterion = getCriterion(stringFlag(args, 'criterion'));
  const all = readImages(args);
  const limit = numberFlag(args, 'limit', 0);
  const raw = limit > 0 ? firstImages(all, limit) : all;
  const dataset = await api.prepareImages({
    ...raw,
    description: `${raw.description ?? 'images'}${raw.count < all.count ? `, first ${raw.count} of ${all.count}` : ''}`,
  });
  // --train-images: calibration and recovery training read these, never the evaluation images
  const trainRaw = args.flags.has('train-images') ? readImages(args, 'train-images', 'train-labels') : undefined;
  const training = trainRaw ? await api.prepareImages(trainRaw) : undefined;
  const calibration = training ?? dataset;
  const steps = numberFlag(args, 'recover-steps', 0);
  const needs = getCompensation(plan.compensation).needs;
  if (criterion.needs.stats || criterion.needs.maskedLoss || needs.calibration)
    await api.calibrate({
      text: '',
      textName: training ? 'training images' : 'images',
      samples: Math.min(numberFlag(args, 'samples', 64), calibration.count),
      seq: 0,
      withHessians: criterion.needs.gram || needs.hessians,
      images: calibration,
    });
  await api.computeImportance(criterion.name as CriterionName);
  const allocated = await api.allocatePlan({
    criterion: criterion.name,
    allocation: plan.allocation,
    heads: plan.heads,
    ffn: plan.ffn,
    layers: plan.layers,
    name: plan.target
      ? `${criterion.name}-${plan.allocation}-${plan.target.metric}${plan.target.fraction}-l${plan.layers}`
      : `${criterion.name}-${plan.allocation}-h${plan.heads}-f${plan.ffn}-l${plan.layers}`,
    ...(plan.target ? { target: plan.target } : {}),
  });
  if (allocated.derivation) allocated.derivation.compensation = plan.compensation;
  let applied = await api.applyPlan({ plan: allocated, compensation: plan.compensation });
  const recovery = steps > 0 ? await recoverImagesFromArgs(api, args, training ?? calibration, steps) : undefined;
  if (recovery) applied = recovery.applied;
  const batchSize = numberFlag(args, 'batch', 64);
  const dense = await api.evaluateAccuracy({ dataset, batchSize });
  const pruned = await api.evaluateAccuracy({ dataset, batchSize, target: 'pruned' });
  const bundle = await writeBundle(api, stringFlag(args, 'out'), format);
  const brief = (r: typeof dense) => ({ accuracy: r.accuracy, interval95: r.interval95, meanLoss: r.meanLoss, correct: r.correct });
  return {
    ...bundle,
    plan: applied.plan.name,
    compensation: applied.compensation,
    parameters: { dense: applied.denseCost.parameters, pruned: applied.parameters },
    flops: { dense: applied.denseCost.flops, pruned: applied.cost.flops },
    accuracy: { dense: brief(dense), pruned: brief(pruned), protocol: pruned.protocol },
    ...(recovery ? { recoveryTraining: recovery.report } : {}),
  };
}

/**
 * --recover-steps N [--recover-lr x] [--recover-batch 64]: recovery training (distillation from the
 * dense classifier + CE on the labels) on the training images (--train-images, else the calibration
 * images, which are then the evaluation images: pass --train-images to keep them apart).
 */
async function recoverImagesFromArgs(api: StudioApi, args: ParsedArgs, training: ImageDataset, steps: number) {
  if (!args.flags.has('train-images'))
    process.stderr.write('warning: recovery trains on the --images (evaluation) images; pass --train-images to keep them apart\n');
  const r = await api.recover(
    {
      steps,
      learningRate: numberFlag(args, 'recover-lr', IMAGE_RECOVERY_DEFAULTS.learningRate),
      batchSize: numberFlag(args, 'recover-batch', IMAGE_RECOVERY_DEFAULTS.batchSize),
      images: { training },
    },
    { onProgress: (p) => process.stderr.write(`${p.message}\n`) },
  );
  const report = {
    training: r.applied.training,
    trainingImages: training.description ?? `${training.count} images`,
    seconds: r.ms / 1000,
    curve: r.curve.map((p) => ({ step: p.step, loss: p.loss, kl: p.kl })),
  };
  return { applied: r.applied, report };
}
