/**
 * The one export function of the api (StudioApi.exportModel; the UI, the CLI commands and the
 * tests call it): the applied model through the exporter of the requested format (src/exporters:
 * write, re-load, compare with the masked preview of the same plan), then the bundle's metadata
 * files: config.json with per-layer shapes, tokenizer.json, plan.json and the model card.
 */
import { InputError } from '../core/errors';
import { DEFAULT_EXPORT_OPTIONS, type ExportOptions, type ExportSubject } from '../exporters/types';
import { writeVerified } from '../exporters/registry';
import { planMasks } from '../prune/masks';
import { maskFeeds } from './evaluation';
import { modelCard, prunedConfig } from './model-card';
import { requirePruned, type LoadedModel, type PrunedModel, type StudioState } from './state';
import type { ExportBundle, JobOptions } from './types';

/** Fixed probe input for export verification: the first tokens of the calibration set, or a ramp. */
function probeIds(m: LoadedModel): number[] {
  const n = Math.min(64, m.ir.spec.maxPositions);
  const cal = m.calibration?.set.sequences[0];
  return cal && cal.length >= n ? cal.slice(0, n) : Array.from({ length: n }, (_, i) => (i * 31 + 7) % m.ir.spec.vocabSize);
}

/** The applied model and the reference it must reproduce: the masked preview on the (compensated) full-size model. */
function prunedSubject(m: LoadedModel, p: PrunedModel): ExportSubject {
  return {
    ir: p.ir,
    reference: {
      ir: p.compensatedIr,
      masks: true,
      feeds: maskFeeds(p.compensatedIr, planMasks(p.summary.plan)),
      label: 'masked preview of the same plan on the (compensated) full-size model',
    },
    probe: probeIds(m),
    ...(m.calibration ? { calibration: m.calibration.set.sequences } : {}),
  };
}

function exportOptions(request: Partial<ExportOptions> | undefined): ExportOptions {
  const options = { ...DEFAULT_EXPORT_OPTIONS, ...request };
  if (typeof options.format !== 'string' || typeof options.dtype !== 'string')
    throw new InputError('An export request names a format and a dtype, e.g. { format: "onnx", dtype: "fp32" }.');
  return options;
}

export async function exportModel(
  state: StudioState,
  m: LoadedModel,
  request: Partial<ExportOptions> | undefined,
  options: JobOptions,
): Promise<ExportBundle> {
  const p = requirePruned(m);
  const { exporter, files, verification } = await writeVerified(
    exportOptions(request),
    prunedSubject(m, p),
    state.deps.runner,
    options.onProgress,
  );
  const enc = new TextEncoder();
  const bundle = [
    ...files,
    { name: 'config.json', bytes: enc.encode(JSON.stringify(prunedConfig(m, p, exporter.format), null, 2)) },
    ...(m.tokenizerJson ? [{ name: 'tokenizer.json', bytes: m.tokenizerJson }] : []),
    { name: 'plan.json', bytes: enc.encode(JSON.stringify(p.summary.plan, null, 2)) },
    { name: 'README.md', bytes: enc.encode(modelCard(m, p, verification, exporter.cardLine)) },
  ];
  options.onProgress?.({ stage: 'export', done: 2, total: 2, message: 'Export verified' });
  return { files: bundle, verification };
}
