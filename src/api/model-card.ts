/**
 * Export metadata: config.json (exporters/hub-config.ts: Hub-layout top-level keys when the layers
 * share one shape, per-layer shapes in `prune_studio.layers` always; docs/export-bundle.md), and a
 * model card (README.md) that says how to load the bundle.
 */
import { planCounts } from '../core/plan';
import { bundleConfig, hubLayout } from '../exporters/hub-config';
import type { Exporter, ExportOptions } from '../exporters/types';
import type { WrittenPerplexity } from './bundle-perplexity';
import type { LoadedModel, PrunedModel } from './state';
import type { ExportBundle, PerplexityResult } from './types';

/** config.json of the bundle; the exporter's format is recorded in `prune_studio.format`. */
export function prunedConfig(m: LoadedModel, p: PrunedModel, exporter: Exporter, options: ExportOptions): Record<string, unknown> {
  const base = (m.config && typeof m.config === 'object' ? m.config : {}) as Record<string, unknown>;
  return bundleConfig({
    base,
    ir: p.ir,
    pruneStudio: {
      format: exporter.format,
      dtype: options.dtype,
      source_model: m.ir.name,
      compensation: p.summary.compensation,
      ...(p.summary.compensationOptions ? { compensation_options: p.summary.compensationOptions } : {}),
      ...(p.summary.recovery ? { recovery: p.summary.recovery } : {}),
    },
    ...(exporter.config ? { exporter: exporter.config(p.ir, options) } : {}),
  });
}

/** The "Loading" section: who reads which file, and what a pruned shape means for each reader. */
function loadingText(p: PrunedModel, format: string, dtype: string): string {
  const layout = hubLayout(p.ir);
  const quantized =
    dtype === 'fp32'
      ? ''
      : ` The ${dtype} weights are dequantized to float32 on import${dtype === 'int8' ? ' (activations are then not quantized: perplexity moves by that rounding)' : ''}; with several variants in one folder, \`--variant ${dtype}\` (CLI \`eval\`) or \`variant\` in the load request picks this one (float32 \`onnx/model.onnx\` is loaded first otherwise).`;
  const studio = `- **Prune Studio** loads this folder as is (CLI \`--model <folder>\`, or pick the folder in the UI); per-layer shapes come from \`config.json\` \`prune_studio.layers\`.${quantized}`;
  const torch = layout.ok
    ? `- **transformers / PyTorch**: the layers share one shape, so the top-level keys of \`config.json\` describe the pruned model${format === 'safetensors' ? ' and `AutoModelForCausalLM.from_pretrained(<folder>)` loads `model.safetensors` directly' : ' (export with `--format safetensors` for weights transformers loads directly)'}.`
    : `- **transformers / PyTorch**: not loadable with the stock model class: ${layout.reason} The top-level keys of \`config.json\` keep the source model's geometry (head_dim); build each layer with its own sizes from \`prune_studio.layers\` (num_heads, num_kv_heads, ffn_size) and load the tensors${format === 'safetensors' ? ' of `model.safetensors` (checkpoint names, [out, in] / Conv1D layout as in the source)' : ''} into it.`;
  const tjs =
    format === 'onnx'
      ? `- **transformers.js** (tested with 4.3.2 in Node, local files only: greedy generation gives the studio's tokens): the folder follows its model-repo layout (\`config.json\`, \`generation_config.json\`, \`tokenizer.json\`, \`tokenizer_config.json\`, \`onnx/${dtype === 'fp32' ? 'model.onnx' : '<variant>.onnx'}\`, \`transformers.js_config.dtype\`); the graph takes a KV cache in Optimum's names. \`pipeline('text-generation', <folder>)\` or \`AutoModelForCausalLM.from_pretrained(<folder>)\` with \`env.localModelPath\` pointing at the parent folder. Layers with different head counts work: transformers.js 4 sizes each layer's empty past from the graph's declared input shape (\`past_key_values.N.key\` [batch_size, kv_heads_N, past_sequence_length, head_dim]). transformers.js 3.x sized every empty past from \`config.json\` (one head count for all layers) and is not supported for pruned heads.`
      : '';
  return [studio, torch, tjs].filter((x) => x !== '').join('\n');
}

function trainingText(p: PrunedModel): string {
  const t = p.summary.training;
  return t
    ? `; recovery training: ${t.steps} Adam steps (lr ${t.learningRate}, cosine), loss ${t.lm} · NLL + ${t.kl} · cross-entropy to the dense model, on ${t.samples} × ${t.seq} tokens of ${t.textName}`
    : '';
}

function compensationText(o: PrunedModel['summary']['compensationOptions']): string {
  return o ? ` (rank ${o.rank}, ridge ${o.ridge}${o.intercept ? ', intercept' : ''})` : '';
}

function recoveryText(p: PrunedModel): string {
  const r = p.summary.recovery;
  if (!r) return trainingText(p);
  const sgd = r.sgdSteps ? ` (${r.sgdSteps} gradient steps per round, lr ${r.sgdLearningRate})` : '';
  const iterative = `; iterative prune-and-recover: ${r.rounds} rounds, recovery ${r.method}${sgd}`;
  return `${iterative}${trainingText(p)}`;
}

function pplLine(label: string, r: PerplexityResult | undefined): string {
  if (!r) return `- ${label}: not measured`;
  const pr = r.protocol;
  return `- ${label}: **${r.perplexity.toFixed(3)}** (${pr.textName}, ${pr.tokensScored} tokens scored of ${pr.totalTokens}, context ${pr.contextLength}, stride ${pr.stride}, BOS ${pr.bosPrepended ? 'prepended' : 'not prepended'}, tokenizer ${pr.tokenizer})`;
}

/** The model file as written: its name, size, dtype and (ONNX) its own perplexity after writing. */
export interface WrittenModel {
  name: string;
  bytes: number;
  dtype: string;
  perplexity?: WrittenPerplexity;
}

function writtenText(w: WrittenModel | undefined): string {
  if (!w) return '';
  const mb = (w.bytes / 2 ** 20).toFixed(2);
  const q = w.perplexity;
  const ppl = q
    ? `- perplexity of \`${w.name}\` itself, measured after writing: **${q.perplexity.toFixed(3)}** (${q.textName}, ${q.tokensScored} tokens scored, context ${q.context}, stride ${q.stride}; the same tokens and windows as the pruned perplexity above, ${q.session.toFixed(3)} in the exporting session, relative difference ${(q.perplexity / q.session - 1).toExponential(2)})`
    : `- perplexity of \`${w.name}\` itself: not measured (${w.name.endsWith('.onnx') ? 'measure the pruned perplexity before exporting' : 'the file is verified by its logits below'})`;
  return `## Model file\n| variant (dtype) | file | bytes |\n|---|---|---|\n| ${w.dtype} | \`${w.name}\` | ${w.bytes} (${mb} MiB) |\n\n${ppl}\n\n`;
}

/** `modelFiles`: the exporter's line describing the model file(s) (exporters/*.ts `cardLine`); `written`: the model file as written. */
export function modelCard(
  m: LoadedModel,
  p: PrunedModel,
  verification: ExportBundle['verification'],
  exporter: Pick<Exporter, 'cardLine' | 'format'>,
  written?: WrittenModel,
): string {
  const modelFiles = exporter.cardLine;
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

Derivation: ${d ? `criterion ${d.criterion}, allocation ${d.allocation}, targets heads ${d.targets.heads}, FFN ${d.targets.ffn}, layers ${d.targets.layers}` : 'manual plan'}; compensation: ${p.summary.compensation}${compensationText(p.summary.compensationOptions)}${recoveryText(p)}.

## Quality
${pplLine('dense perplexity', m.denseResults.perplexity)}
${pplLine('pruned perplexity', p.perplexity)}
${pplLine('dense perplexity, held-out text', m.denseResults.heldOut)}
${pplLine('pruned perplexity, held-out text', p.heldOut)}

${writtenText(written)}## Latency
- dense: ${lat(m.denseResults.latency)}
- pruned: ${lat(p.latency)}

## Files
- ${modelFiles}
- \`config.json\`: the source model's config with the pruned layer count (and, when the layers share one shape, its top-level shape keys); \`prune_studio.layers\` lists every layer's \`num_heads\`, \`num_kv_heads\`, \`ffn_size\` and \`original_index\` (see docs/export-bundle.md in Prune Studio).
- \`generation_config.json\`, \`tokenizer.json\`, \`tokenizer_config.json\`: generation defaults and the tokenizer, as in a Hub model repo.
- \`plan.json\`: the pruning plan (indices in the original model's numbering).

## Loading
${loadingText(p, exporter.format, written?.dtype ?? 'fp32')}

Verified on export: re-opened in a fresh onnxruntime session; max |Δlogit| against the ${verification.reference} = ${verification.maxAbsLogitDiff.toExponential(2)} over ${verification.positions} positions.
`;
}
