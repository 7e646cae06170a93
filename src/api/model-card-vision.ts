/**
 * The model card (README.md) of an image classifier's bundle (ViT): sizes, top-1 accuracy with its
 * 95% interval and mean loss of the dense model, of the applied model, and of the written ONNX file
 * itself on the same images (api/bundle-accuracy.ts), latency, files, how to load it, and the
 * verification. The language models' card is model-card.ts.
 */
import { planCounts } from '../core/plan';
import type { AccuracyResult } from '../eval/accuracy';
import { hubLayout } from '../exporters/hub-config';
import type { Exporter } from '../exporters/types';
import type { WrittenAccuracy } from './bundle-accuracy';
import type { WrittenModel } from './model-card';
import type { LoadedModel, PrunedModel } from './state';
import type { ExportBundle } from './types';
import type { AccuracyReport } from './vision-types';

/** "**91.00%** (95% CI 85.1–94.8%), mean loss 0.3012, 100 images". */
export function accuracyText(r: AccuracyResult): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  return `**${pct(r.accuracy)}** (95% CI ${pct(r.interval95[0])}–${pct(r.interval95[1])}), mean loss ${r.meanLoss.toFixed(4)}, ${r.correct} of ${r.images} images`;
}

function accuracyLine(label: string, r: AccuracyReport | undefined): string {
  if (!r) return `- ${label}: not measured`;
  const pr = r.protocol;
  return `- ${label}: ${accuracyText(r)} (${pr.dataset}; preprocessing ${pr.preprocessing}; batch ${pr.batchSize})`;
}

function writtenLine(w: WrittenModel, a: WrittenAccuracy | undefined): string {
  if (!a)
    return `- accuracy of \`${w.name}\` itself: not measured (${w.name.endsWith('.onnx') ? 'measure the pruned accuracy before exporting' : 'the file is verified by its logits below'})`;
  const diff = a.result.accuracy - a.session.accuracy;
  return `- accuracy of \`${w.name}\` itself, measured after writing on the same images: ${accuracyText(a.result)}; the exporting session gave ${(100 * a.session.accuracy).toFixed(2)}% and mean loss ${a.session.meanLoss.toFixed(4)} (accuracy difference ${(100 * diff).toFixed(2)} points, mean-loss difference ${(a.result.meanLoss - a.session.meanLoss).toExponential(2)})`;
}

function loadingText(p: PrunedModel, format: string): string {
  const layout = hubLayout(p.ir);
  const studio =
    '- **Prune Studio** loads this folder as is (CLI `--model <folder>`, or pick the folder in the UI); per-layer shapes come from `config.json` `prune_studio.layers`, the preprocessing from `preprocessor_config.json`.';
  const torch = layout.ok
    ? `- **transformers / PyTorch**: the layers share one shape, so the top-level keys of \`config.json\` describe the pruned model${format === 'safetensors' ? ' and `ViTForImageClassification.from_pretrained(<folder>)` loads `model.safetensors` directly' : ' (export with `--format safetensors` for weights transformers loads directly)'}.`
    : `- **transformers / PyTorch**: not loadable with the stock ViT class: ${layout.reason} Build each layer with its own sizes from \`prune_studio.layers\` and load the tensors into it.`;
  const tjs =
    format === 'onnx'
      ? "- **onnxruntime / transformers.js**: `onnx/model.onnx` takes `pixel_values` and gives `logits`, the names of Optimum's ViT image-classification export (transformers.js `pipeline('image-classification', <folder>)` reads these names; not tested here)."
      : '';
  return [studio, torch, tjs].filter((x) => x !== '').join('\n');
}

export function visionModelCard(
  m: LoadedModel,
  p: PrunedModel,
  verification: ExportBundle['verification'],
  exporter: Pick<Exporter, 'format'>,
  cardLine: string,
  written: WrittenModel,
  accuracy: WrittenAccuracy | undefined,
): string {
  const c = planCounts(p.summary.plan);
  const v = m.ir.spec.vision;
  const tokens = v ? 1 + (v.imageSize / v.patchSize) ** 2 : m.ir.spec.maxPositions;
  const lat = (r: PrunedModel['latency']) =>
    r
      ? `${r.medianMs.toFixed(2)} ms median of ${r.request.runs} (batch ${r.request.batch}, ${r.backend.name}, ${r.backend.threads} threads)`
      : 'not measured';
  const d = p.summary.plan.derivation;
  return `# ${m.ir.name} — pruned with Prune Studio

Structured pruning of the image classifier \`${m.ir.name}\` (${m.ir.spec.family}${v ? `, ${v.imageSize}x${v.imageSize}x${v.numChannels} images, patch ${v.patchSize}, ${v.labels.length} classes` : ''}). Plan: **${p.summary.plan.name}**.

| | dense | pruned |
|---|---|---|
| layers | ${m.ir.layers.length} | ${p.ir.layers.length} |
| heads | ${c.headsTotal} | ${c.headsTotal - c.headsRemoved} |
| FFN neurons | ${c.ffnTotal} | ${c.ffnTotal - c.ffnRemoved} |
| parameters | ${p.summary.denseCost.parameters} | ${p.summary.parameters} |
| FLOPs / image (${tokens} tokens) | ${p.summary.denseCost.flops.toExponential(3)} | ${p.summary.cost.flops.toExponential(3)} |

Derivation: ${d ? `criterion ${d.criterion}, allocation ${d.allocation}, targets heads ${d.targets.heads}, FFN ${d.targets.ffn}, layers ${d.targets.layers}` : 'manual plan'}; compensation: ${p.summary.compensation}.

## Quality (top-1 accuracy)
${accuracyLine('dense', m.denseResults.accuracy)}
${accuracyLine('pruned', p.accuracy?.report)}

## Model file
| variant (dtype) | file | bytes |
|---|---|---|
| ${written.dtype} | \`${written.name}\` | ${written.bytes} (${(written.bytes / 2 ** 20).toFixed(2)} MiB) |

${writtenLine(written, accuracy)}

## Latency
- dense: ${lat(m.denseResults.latency)}
- pruned: ${lat(p.latency)}

## Files
- ${cardLine}
- \`config.json\`: the source model's config with the pruned layer count (and, when the layers share one shape, its top-level shape keys); \`prune_studio.layers\` lists every layer's \`num_heads\`, \`num_kv_heads\`, \`ffn_size\` and \`original_index\`.
- \`preprocessor_config.json\`: the source model's image preprocessing (resize, rescale, mean, std), copied.
- \`plan.json\`: the pruning plan (indices in the original model's numbering).

## Loading
${loadingText(p, exporter.format)}

Verified on export: re-opened in a fresh onnxruntime session; max |Δlogit| against the ${verification.reference} = ${verification.maxAbsLogitDiff.toExponential(2)} over ${verification.positions} images.
`;
}
