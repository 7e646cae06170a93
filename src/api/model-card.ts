/**
 * Export metadata: config.json with per-layer shapes (the family adapter names the layer-count
 * key), and a model card (README.md).
 */
import { adapterFor } from '../arch/registry';
import { planCounts } from '../core/plan';
import type { LoadedModel, PrunedModel } from './state';
import type { ExportBundle, PerplexityResult } from './types';

/** `format`: the exporter's format (exporters/types.ts), recorded in `prune_studio.format`. */
export function prunedConfig(m: LoadedModel, p: PrunedModel, format: string): Record<string, unknown> {
  const base = (m.config && typeof m.config === 'object' ? m.config : {}) as Record<string, unknown>;
  return {
    ...base,
    [adapterFor(m.ir.spec).layerCountKey]: p.ir.layers.length,
    prune_studio: {
      format,
      source_model: m.ir.name,
      compensation: p.summary.compensation,
      ...(p.summary.recovery ? { recovery: p.summary.recovery } : {}),
      layers: p.ir.layers.map((l, i) => ({
        original_index: p.ir.originalLayerIndex[i],
        num_heads: l.numHeads,
        num_kv_heads: l.numKvHeads,
        ffn_size: l.ffnSize,
      })),
    },
  };
}

function recoveryText(p: PrunedModel): string {
  const r = p.summary.recovery;
  if (!r) return '';
  const sgd = r.sgdSteps ? ` (${r.sgdSteps} gradient steps per round, lr ${r.sgdLearningRate})` : '';
  return `; iterative prune-and-recover: ${r.rounds} rounds, recovery ${r.method}${sgd}`;
}

function pplLine(label: string, r: PerplexityResult | undefined): string {
  if (!r) return `- ${label}: not measured`;
  const pr = r.protocol;
  return `- ${label}: **${r.perplexity.toFixed(3)}** (${pr.textName}, ${pr.tokensScored} tokens scored of ${pr.totalTokens}, context ${pr.contextLength}, stride ${pr.stride}, BOS ${pr.bosPrepended ? 'prepended' : 'not prepended'}, tokenizer ${pr.tokenizer})`;
}

/** `modelFiles`: the exporter's line describing the model file(s) (exporters/*.ts `cardLine`). */
export function modelCard(m: LoadedModel, p: PrunedModel, verification: ExportBundle['verification'], modelFiles: string): string {
  const c = planCounts(p.summary.plan);
  const lat = (r: PrunedModel['latency']) =>
    r
      ? `${r.medianMs.toFixed(2)} ms median of ${r.request.runs} (batch ${r.request.batch} x ${r.request.seq}, ${r.backend.name}, ${r.backend.threads} threads)`
      : 'not measured';
  const d = p.summary.plan.derivation;
  return `# ${m.ir.name} — pruned with Prune Studio

Structured pruning of \`${m.ir.name}\` (${m.ir.spec.family}). Plan: **${p.summary.plan.name}**.

| | dense | pruned |
|---|---|---|
| layers | ${m.ir.layers.length} | ${p.ir.layers.length} |
| heads | ${c.headsTotal} | ${c.headsTotal - c.headsRemoved} |
| FFN neurons | ${c.ffnTotal} | ${c.ffnTotal - c.ffnRemoved} |
| parameters | ${p.summary.denseCost.parameters} | ${p.summary.parameters} |
| FLOPs / forward (${m.ir.spec.maxPositions} tokens) | ${p.summary.denseCost.flops.toExponential(3)} | ${p.summary.cost.flops.toExponential(3)} |

Derivation: ${d ? `criterion ${d.criterion}, allocation ${d.allocation}, targets heads ${d.targets.heads}, FFN ${d.targets.ffn}, layers ${d.targets.layers}` : 'manual plan'}; compensation: ${p.summary.compensation}${recoveryText(p)}.

## Quality
${pplLine('dense perplexity', m.denseResults.perplexity)}
${pplLine('pruned perplexity', p.perplexity)}

## Latency
- dense: ${lat(m.denseResults.latency)}
- pruned: ${lat(p.latency)}

## Files
- ${modelFiles}
- \`plan.json\`: the pruning plan (indices in the original model's numbering).

Verified on export: re-opened in a fresh onnxruntime session; max |Δlogit| against the ${verification.reference} = ${verification.maxAbsLogitDiff.toExponential(2)} over ${verification.positions} positions.
`;
}
