/**
 * UI actions for image classifiers (ViT): the demo ViT's source and test images, images picked by the
 * person (image set v1 .json + .bin, or IDX images + labels), the dense accuracy baseline, the live
 * accuracy preview of a plan (its masks on the dense model) and the applied model's accuracy.
 * Language models never reach these; `isClassifier` is the one switch.
 */
import type { AccuracyReport, ModelSource, ModelSummary, RawImages } from '../api/types';
import type { PruningPlan } from '../core/plan';
import { FetchError, InputError } from '../core/errors';
import { parseIdx, rawImagesFromIdx, rawImagesFromImageSet } from '../io/image-set';
import { useStudio } from '../store';
import { engine, job, report, type JobStartOptions } from './jobs';

/** Where the demo ViT and its 500 Fashion-MNIST test images are served (tools/vit writes them). */
export const DEMO_VIT = {
  model: 'models/demo-vit/',
  manifest: 'data/fashion-mnist-test-500.json',
  bin: 'data/fashion-mnist-test-500.bin',
  /** Recovery training images (the first 1,000 of the training split, disjoint from the test images shown). */
  trainManifest: 'data/fashion-mnist-train-1000.json',
  trainBin: 'data/fashion-mnist-train-1000.bin',
};

/** Images per engine run for accuracy. */
const BATCH = 50;

export function isClassifier(model: Pick<ModelSummary, 'spec'> | null | undefined): boolean {
  return model?.spec.head === 'classifier';
}

/** Why a text-only panel is off for the loaded model (null for language models). */
export function textOnlyReason(model: Pick<ModelSummary, 'spec'> | null | undefined): string | null {
  return isClassifier(model)
    ? 'This model classifies images: it has no tokenizer and generates no text, so this panel does not apply.'
    : null;
}

export function demoVitSource(): ModelSource {
  return { kind: 'url', baseUrl: new URL(`${import.meta.env.BASE_URL}${DEMO_VIT.model}`, self.location.href).href };
}

async function fetchBytes(path: string): Promise<Uint8Array> {
  const url = `${import.meta.env.BASE_URL}${path}`;
  const res = await fetch(url);
  if (!res.ok) throw new FetchError(`Fetching ${url} failed with HTTP ${res.status}.`, res.status);
  return new Uint8Array(await res.arrayBuffer());
}

/** The demo's shipped test images. */
export async function fetchDemoImages(): Promise<{ raw: RawImages; name: string }> {
  const manifest: unknown = JSON.parse(new TextDecoder().decode(await fetchBytes(DEMO_VIT.manifest)));
  const bin = await fetchBytes(DEMO_VIT.bin);
  return { raw: rawImagesFromImageSet(manifest, bin, 'Fashion-MNIST test'), name: DEMO_VIT.manifest.split('/').pop()! };
}

/** The demo's shipped training images (recovery training never reads the test images it reports on). */
export async function fetchDemoTrainingImages(): Promise<RawImages> {
  const manifest: unknown = JSON.parse(new TextDecoder().decode(await fetchBytes(DEMO_VIT.trainManifest)));
  return rawImagesFromImageSet(manifest, await fetchBytes(DEMO_VIT.trainBin), 'Fashion-MNIST train (1,000)');
}

async function gunzipIfNeeded(name: string, bytes: Uint8Array): Promise<Uint8Array> {
  if (!name.endsWith('.gz')) return bytes;
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Picked files -> uint8 images: a .json manifest with its .bin, or two IDX files (images, labels; .gz allowed). */
export async function rawImagesFromFiles(files: File[]): Promise<{ raw: RawImages; name: string }> {
  const json = files.find((f) => f.name.endsWith('.json'));
  const bin = files.find((f) => f.name.endsWith('.bin'));
  if (json && bin) {
    const manifest: unknown = JSON.parse(await json.text());
    return { raw: rawImagesFromImageSet(manifest, new Uint8Array(await bin.arrayBuffer()), json.name), name: json.name };
  }
  if (files.length === 2) {
    const parsed = await Promise.all(
      files.map(async (f) => ({ f, idx: parseIdx(await gunzipIfNeeded(f.name, new Uint8Array(await f.arrayBuffer())), f.name) })),
    );
    const images = parsed.find((p) => p.idx.dims.length >= 3);
    const labels = parsed.find((p) => p.idx.dims.length === 1);
    if (images && labels) return { raw: rawImagesFromIdx(images.idx, labels.idx, images.f.name), name: images.f.name };
  }
  throw new InputError(
    'Pick an image set: its .json manifest and .bin, or IDX images and IDX labels (.gz allowed).',
    'The demo ViT ships public/data/fashion-mnist-test-500.json + .bin (tools/vit/export_fashion_mnist.py).',
  );
}

/** Makes the images the loaded classifier's input and keeps both forms. */
export async function adoptImages(raw: RawImages, name: string, options: JobStartOptions = {}): Promise<boolean> {
  const dataset = await job('Preparing images', 'prepareImages', [raw], options);
  if (!dataset) return false;
  useStudio.getState().setImageSet({ raw, dataset, name });
  return true;
}

/** Picked image files: read, prepared, then the dense accuracy measured. */
export async function pickImages(files: File[]): Promise<void> {
  try {
    const { raw, name } = await rawImagesFromFiles(files);
    if (await adoptImages(raw, name)) await runDenseAccuracy();
  } catch (e) {
    report('Reading images', e);
  }
}

/** After loading the demo ViT: its shipped images, then the dense accuracy. */
export async function demoImagesAndAccuracy(options: JobStartOptions = {}): Promise<boolean> {
  try {
    const { raw, name } = await fetchDemoImages();
    if (!(await adoptImages(raw, name, options))) return false;
  } catch (e) {
    report('Fetching the demo images', e);
    return false;
  }
  return runDenseAccuracy(options);
}

export async function runDenseAccuracy(options: JobStartOptions = {}): Promise<boolean> {
  const images = useStudio.getState().imageSet;
  if (!images) return false;
  const r = await job('Accuracy', 'evaluateAccuracy', [{ dataset: images.dataset, batchSize: BATCH }], options);
  if (!r) return false;
  useStudio.getState().setDenseAccuracy(r);
  // The api's tagged union says which metric the engine holds as the baseline.
  const metric = await job('Baseline metric', 'baselineMetric', [], options);
  if (metric?.kind === 'accuracy') useStudio.getState().setDenseAccuracy(metric.result);
  return true;
}

/** Live preview for a classifier: the plan's masks on the dense model, on the test images. */
export async function accuracyPreview(plan: PruningPlan, signal: AbortSignal, jobId: string): Promise<AccuracyReport | undefined> {
  const images = useStudio.getState().imageSet;
  if (!images) return undefined;
  const st = useStudio.getState();
  st.setPreviewAccuracy({ plan: plan.name, running: true, result: null });
  const result = await engine().run('evaluateAccuracy', [{ dataset: images.dataset, batchSize: BATCH, plan }], {
    signal,
    onProgress: (p) => useStudio.getState().setProgress(jobId, p),
  });
  if (signal.aborted) return undefined;
  useStudio.getState().setPreviewAccuracy({ plan: plan.name, running: false, result });
  return result;
}

/** The applied model's accuracy on the same images. */
export async function prunedAccuracy(): Promise<AccuracyReport | undefined> {
  const images = useStudio.getState().imageSet;
  if (!images) return undefined;
  const r = await job('Pruned accuracy', 'evaluateAccuracy', [{ dataset: images.dataset, batchSize: BATCH, target: 'pruned' }]);
  if (r) useStudio.getState().setPrunedAccuracy(r);
  return r;
}

/** A results row's accuracy fields. */
export function accuracyCell(r: AccuracyReport): { top1: number; ci: [number, number]; meanLoss: number; images: number } {
  return { top1: r.accuracy, ci: r.interval95, meanLoss: r.meanLoss, images: r.images };
}
