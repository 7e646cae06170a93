/**
 * Image classifiers in the api: the preprocessing read at load (preprocessor_config.json), the
 * stand-in tokenizer that refuses text steps by name, and top-1 accuracy on labelled images over
 * the dense session (optionally with a plan's masks: the live preview) or the applied model.
 * Batches stream through eval/accuracy.ts's accumulator; progress and cancellation per batch.
 */
import { ConfigError, InputError, throwIfAborted, UnsupportedModelError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { JobOptions } from '../core/job';
import { validatePlan } from '../core/plan';
import { asFloat32, float32Tensor, int64Tensor, type Feeds } from '../core/runner';
import { AccuracyAccumulator } from '../eval/accuracy';
import { checkImageDataset, imageBatch, type ImageDataset } from '../eval/image-dataset';
import { preprocessImages, readPreprocessor, type ImagePreprocess, type RawImages } from '../io/image-preprocess';
import { readJson, type FileSource } from '../io/source';
import type { TextTokenizer } from '../io/tokenizer';
import { planMasks } from '../prune/masks';
import { denseFeeds, maskFeeds } from './evaluation';
import { requirePruned, type LoadedModel } from './state';
import type { AccuracyReport, AccuracyRequest } from './vision-types';

export const isImageClassifier = (ir: ModelIR): boolean => ir.spec.input === 'patches';

/** The model's preprocessing from preprocessor_config.json (ViTImageProcessor defaults when the file is absent). */
export async function loadPreprocess(files: FileSource, ir: ModelIR, signal?: AbortSignal): Promise<ImagePreprocess> {
  const vision = ir.spec.vision;
  if (!vision) throw new UnsupportedModelError(`${ir.name} reads images but has no image geometry.`);
  const name = 'preprocessor_config.json';
  const raw = (await files.has(name)) ? await readJson(files, name, { error: ConfigError, ...(signal ? { signal } : {}) }) : undefined;
  return readPreprocessor(raw, vision);
}

/** A classifier has no tokenizer: every text step is refused with a message that says why. */
export function imageModelTokenizer(ir: ModelIR): TextTokenizer {
  const refuse = (): never => {
    throw new UnsupportedModelError(
      `${ir.name} is an image classifier; it reads images, not text.`,
      'Evaluate it with labelled images (accuracy).',
    );
  };
  return {
    description: `${ir.name} (images, no tokenizer)`,
    vocabSize: ir.spec.vocabSize,
    eosId: undefined,
    encode: refuse,
    decode: refuse,
  };
}

function requireClassifier(m: LoadedModel): ImagePreprocess {
  if (!isImageClassifier(m.ir) || !m.preprocess)
    throw new InputError(`${m.ir.name} is a language model: its metric is perplexity, not accuracy.`, 'Load an image classifier (ViT).');
  return m.preprocess;
}

export function prepareImages(m: LoadedModel, raw: RawImages): ImageDataset {
  return preprocessImages(raw, requireClassifier(m));
}

export function describePreprocess(p: ImagePreprocess): string {
  const list = (v: number[]) => `[${v.map((x) => Number(x.toPrecision(4))).join(', ')}]`;
  return `uint8 x ${Number(p.rescale.toPrecision(6))}, mean ${list(p.mean)}, std ${list(p.std)}, ${p.height} x ${p.width} x ${p.channels}`;
}

export async function evaluateAccuracy(m: LoadedModel, req: AccuracyRequest, options: JobOptions): Promise<AccuracyReport> {
  const prep = requireClassifier(m);
  const target = req.target ?? 'dense';
  const ir = target === 'pruned' ? requirePruned(m).ir : m.ir;
  const vision = ir.spec.vision!;
  const ds = req.dataset;
  checkImageDataset(ds, { channels: vision.numChannels, imageSize: vision.imageSize, numLabels: ir.spec.vocabSize });
  const batchSize = req.batchSize ?? 64;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InputError(`Batch size must be a positive integer, got ${batchSize}.`);
  if (req.plan && target === 'pruned') throw new InputError('A plan preview runs on the dense model; the applied model is already pruned.');
  const session = target === 'pruned' ? requirePruned(m).session : m.evalSession;
  const extra: Feeds = target === 'pruned' ? {} : req.plan ? maskFeeds(m.ir, planMasks(validatePlan(req.plan, m.ir))) : denseFeeds(m.ir);
  const needsLabels = session.inputNames.includes('labels');
  const acc = new AccuracyAccumulator(ir.spec.vocabSize);
  for (let from = 0; from < ds.count; from += batchSize) {
    throwIfAborted(options.signal, 'Accuracy');
    const batch = imageBatch(ds, from, batchSize);
    const feeds: Feeds = { ...extra, pixel_values: float32Tensor(batch.data, batch.dims) };
    if (needsLabels) feeds.labels = int64Tensor(batch.labels, [batch.labels.length]);
    const out = await session.run(feeds, ['logits']);
    acc.add(asFloat32(out.logits, 'logits'), batch.labels);
    options.onProgress?.({ stage: 'accuracy', done: Math.min(ds.count, from + batchSize), total: ds.count, message: 'Classifying images' });
  }
  const report: AccuracyReport = {
    ...acc.result(),
    labels: [...vision.labels],
    protocol: {
      dataset: ds.description ?? `${ds.count} labelled images`,
      images: ds.count,
      preprocessing: describePreprocess(prep),
      batchSize,
      target,
      masked: req.plan !== undefined,
    },
  };
  if (target === 'dense' && !req.plan) m.denseResults.accuracy = report;
  if (target === 'pruned') requirePruned(m).accuracy = { report, dataset: ds };
  return report;
}
