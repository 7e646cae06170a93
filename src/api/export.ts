/**
 * The one export function of the api (StudioApi.exportModel; the UI, the CLI commands and the
 * tests call it): the applied model through the exporter of the requested format (src/exporters:
 * write, re-load, compare with the masked preview of the same plan), then the bundle's metadata
 * files in the Hub / transformers.js model-repo layout: config.json (per-layer shapes, Hub keys when
 * the layers share one shape; docs/export-bundle.md), generation_config.json, tokenizer.json,
 * tokenizer_config.json, plan.json and the model card (with the written ONNX file's own perplexity,
 * api/bundle-perplexity.ts). Every bundle loads back into the studio
 * (loadModel on the folder or its files): src/api/roundtrip.test.ts.
 */
import { InputError } from '../core/errors';
import {
  DEFAULT_EXPORT_OPTIONS,
  type ExportFile,
  type ExportOptions,
  type ExportSubject,
  type ProbeImages,
  type WrittenFileHost,
} from '../exporters/types';
import { VISION_ONNX_CARD_LINE } from '../exporters/onnx';
import { evictResident, spillForJob } from './weight-spill';
import { writtenFileHost } from './written-file';
import { isImageClassifier } from './accuracy';
import { writtenAccuracy } from './bundle-accuracy';
import { visionModelCard } from './model-card-vision';
import type { Exporter } from '../exporters/types';
import type { ExportVerification } from '../exporters/types';
import { generationConfig, tokenizerConfig } from '../exporters/metadata';
import { exporterFor, writeVerified } from '../exporters/registry';
import { openExportStore, writeStreamedVerified } from './streamed-export';
import { readJson, type FileSource } from '../io/source';
import { planMasks } from '../prune/masks';
import { writtenPerplexity } from './bundle-perplexity';
import { maskFeeds } from './evaluation';
import { compensatedModel } from './install';
import { modelCard, prunedConfig } from './model-card';
import { requirePruned, type LoadedModel, type PrunedModel, type StudioState } from './state';
import type { ExportBundle, JobOptions } from './types';

/** Fixed probe input for export verification: the first tokens of the calibration set, or a ramp. */
function probeIds(m: LoadedModel): number[] {
  if (isImageClassifier(m.ir)) return [];
  const n = Math.min(64, m.ir.spec.maxPositions);
  const cal = m.calibration?.set.sequences[0];
  return cal && cal.length >= n ? cal.slice(0, n) : Array.from({ length: n }, (_, i) => (i * 31 + 7) % m.ir.spec.vocabSize);
}

/** Probe images for an image classifier: the first calibration images, else the applied model's accuracy images, else a fixed ramp. */
function probeImagesOf(m: LoadedModel): ProbeImages {
  const v = m.ir.spec.vision!;
  const dims = [0, v.numChannels, v.imageSize, v.imageSize];
  const per = v.numChannels * v.imageSize * v.imageSize;
  const ds = m.calibration?.set.images ?? m.pruned?.accuracy?.dataset;
  const n = Math.min(8, ds?.count ?? 4);
  dims[0] = n;
  const data = ds ? ds.images.slice(0, n * per) : Float32Array.from({ length: n * per }, (_, i) => ((i * 37 + 11) % 101) / 50 - 1);
  return { data, dims };
}

/** The applied model and the reference it must reproduce: the masked preview on the (compensated) full-size model. */
function prunedSubject(state: StudioState, m: LoadedModel, p: PrunedModel): ExportSubject {
  // Masks cannot remove residual channels (the norms' statistics change): a hidden-pruned model is checked against itself in memory.
  const hidden = (p.summary.plan.removedHidden?.length ?? 0) > 0;
  const compensated = hidden ? p.ir : compensatedModel(m, p);
  return {
    ir: p.ir,
    reference: hidden
      ? { ir: p.ir, masks: false, feeds: {}, label: 'the applied model in memory (hidden channels removed, which masks cannot express)' }
      : {
          ir: compensated,
          masks: true,
          feeds: maskFeeds(compensated, planMasks(p.summary.plan)),
          label: 'masked preview of the same plan on the (compensated) full-size model',
        },
    ...(isImageClassifier(m.ir) ? { probe: [], probeImages: probeImagesOf(m) } : { probe: probeIds(m) }),
    ...(m.calibration ? { calibration: m.calibration.set.sequences } : {}),
    beforeWritten: () => evictResident(m, state.deps),
  };
}

function exportOptions(request: Partial<ExportOptions> | undefined): ExportOptions {
  const options = { ...DEFAULT_EXPORT_OPTIONS, ...request };
  if (typeof options.format !== 'string' || typeof options.dtype !== 'string')
    throw new InputError('An export request names a format and a dtype, e.g. { format: "onnx", dtype: "fp32" }.');
  return options;
}

/** A small JSON file of the source model folder, or undefined when it has none (a broken one is a named error). */
async function optionalJson(source: FileSource, name: string): Promise<unknown> {
  if (!(await source.has(name))) return undefined;
  return readJson(source, name, { hint: `Fix or remove ${name} in the model folder; the export copies it into the bundle.` });
}

export async function exportModel(
  state: StudioState,
  m: LoadedModel,
  request: Partial<ExportOptions> | undefined,
  options: JobOptions,
): Promise<ExportBundle> {
  const p = requirePruned(m);
  const chosen = exportOptions(request);
  const host = writtenFileHost(state.deps, m);
  try {
    return await exportWith(state, m, p, chosen, host, options);
  } finally {
    await host?.dispose();
  }
}

async function exportWith(
  state: StudioState,
  m: LoadedModel,
  p: PrunedModel,
  chosen: ExportOptions,
  host: WrittenFileHost | undefined,
  options: JobOptions,
): Promise<ExportBundle> {
  const subject: ExportSubject = { ...prunedSubject(state, m, p), ...(host ? { written: host } : {}) };
  // a spilled model's rebuilt reference is spilled too, for the export only
  const referenceSpill = subject.reference.ir === p.ir ? undefined : await spillForJob(state.deps, m, subject.reference.ir);
  const store = await openExportStore(state, m, chosen);
  let verified;
  let streamed;
  try {
    if (store) streamed = await writeStreamedVerified(state, m, store, subject, options.onProgress);
    else verified = await writeVerified(chosen, subject, state.deps.runner, options.onProgress);
  } finally {
    await referenceSpill?.dispose();
  }
  if (streamed) return streamedBundle(state, m, p, chosen, streamed, options);
  if (!verified) throw new Error('unreachable: an export is either streamed or written in memory');
  const { exporter, verification } = verified;
  let { files } = verified;
  if (isImageClassifier(m.ir)) return visionBundle(state, m, p, { exporter, files, verification, chosen }, options);
  options.onProgress?.({ stage: 'export', done: 1, total: 2, message: `Measuring the perplexity of ${files[0]!.name}` });
  let perplexity;
  if (exporter.format === 'onnx') {
    const bytes = files[0]!.bytes;
    perplexity = await writtenPerplexity(
      state.deps.runner,
      m,
      p,
      bytes,
      host ? async () => (await host.prepare(bytes)).withSession : undefined,
    );
    if (host) files = files.map((f) => ({ ...f, bytes: host.restore(f.bytes) }));
  }
  const model = files[0]!;
  const written = { name: model.name, bytes: model.bytes.length, dtype: chosen.dtype, ...(perplexity ? { perplexity } : {}) };
  const bundle = [...files, ...(await metadataFiles(m, p, { exporter, verification, chosen, written }))];
  options.onProgress?.({ stage: 'export', done: 2, total: 2, message: 'Export verified' });
  return { files: bundle, verification };
}

type WrittenModel = Parameters<typeof modelCard>[4];

/** The bundle's files beside the model file: config, generation config, tokenizer files, plan and the model card. */
async function metadataFiles(
  m: LoadedModel,
  p: PrunedModel,
  w: { exporter: Exporter; verification: ExportVerification; chosen: ExportOptions; written: WrittenModel },
): Promise<ExportFile[]> {
  const enc = new TextEncoder();
  const json = (name: string, value: unknown) => ({ name, bytes: enc.encode(JSON.stringify(value, null, 2)) });
  const config = prunedConfig(m, p, w.exporter, w.chosen);
  return [
    json('config.json', config),
    json('generation_config.json', generationConfig(config, await optionalJson(m.source, 'generation_config.json'))),
    ...(m.tokenizerJson ? [{ name: 'tokenizer.json', bytes: m.tokenizerJson }] : []),
    json('tokenizer_config.json', tokenizerConfig(p.ir, config, m.tokenizerJson, await optionalJson(m.source, 'tokenizer_config.json'))),
    json('plan.json', p.summary.plan),
    { name: 'README.md', bytes: enc.encode(modelCard(m, p, w.verification, w.exporter, w.written)) },
  ];
}

/** The bundle of a streamed export (api/streamed-export.ts): the model file as a Blob read from storage, measured from there. */
async function streamedBundle(
  state: StudioState,
  m: LoadedModel,
  p: PrunedModel,
  chosen: ExportOptions,
  streamed: Awaited<ReturnType<typeof writeStreamedVerified>>,
  options: JobOptions,
): Promise<ExportBundle> {
  const { file, verification } = streamed;
  options.onProgress?.({ stage: 'export', done: 1, total: 2, message: `Measuring the perplexity of ${file.name}` });
  const perplexity = await writtenPerplexity(state.deps.runner, m, p, { model: file.model, withSession: file.withSession });
  const blob = await file.finish();
  const written = { name: file.name, bytes: file.size, dtype: chosen.dtype, ...(perplexity ? { perplexity } : {}) };
  const files = await metadataFiles(m, p, { exporter: exporterFor(chosen), verification, chosen, written });
  options.onProgress?.({ stage: 'export', done: 2, total: 2, message: 'Export verified' });
  return { files, stored: [{ name: file.name, blob }], verification };
}

/**
 * An image classifier's bundle: the model file, config.json, preprocessor_config.json (copied),
 * plan.json and the model card with the written ONNX file's own accuracy (no tokenizer or
 * generation files: a classifier reads images).
 */
async function visionBundle(
  state: StudioState,
  m: LoadedModel,
  p: PrunedModel,
  w: { exporter: Exporter; files: ExportFile[]; verification: ExportVerification; chosen: ExportOptions },
  options: JobOptions,
): Promise<ExportBundle> {
  const { exporter, files, verification, chosen } = w;
  const model = files[0]!;
  options.onProgress?.({ stage: 'export', done: 1, total: 2, message: `Measuring the accuracy of ${model.name}` });
  const accuracy = exporter.format === 'onnx' ? await writtenAccuracy(state.deps.runner, p, model.bytes) : undefined;
  const enc = new TextEncoder();
  const json = (name: string, value: unknown) => ({ name, bytes: enc.encode(JSON.stringify(value, null, 2)) });
  const preprocessor = await optionalJson(m.source, 'preprocessor_config.json');
  const cardLine = exporter.format === 'onnx' ? VISION_ONNX_CARD_LINE : exporter.cardLine;
  const written = { name: model.name, bytes: model.bytes.length, dtype: chosen.dtype };
  const bundle = [
    ...files,
    json('config.json', prunedConfig(m, p, exporter, chosen)),
    ...(preprocessor === undefined ? [] : [json('preprocessor_config.json', preprocessor)]),
    json('plan.json', p.summary.plan),
    { name: 'README.md', bytes: enc.encode(visionModelCard(m, p, verification, exporter, cardLine, written, accuracy)) },
  ];
  options.onProgress?.({ stage: 'export', done: 2, total: 2, message: 'Export verified' });
  return { files: bundle, verification };
}
