/**
 * The bundle's config.json (documented in docs/export-bundle.md): the source model's config with
 * - the top-level shape keys of the family's transformers config class rewritten by the adapter
 *   (`writeConfig`: n_layer / n_head / n_inner, or num_hidden_layers / num_attention_heads /
 *   num_key_value_heads / intermediate_size / head_dim) when every layer has one shape that the
 *   config class can describe (the Hub layout: transformers loads the bundle as is);
 * - otherwise only the layer count rewritten, the source geometry (head_dim) kept, and the
 *   per-layer shapes in `prune_studio.layers`, which Prune Studio always writes and always reads;
 * - the exporter's own entries (e.g. `transformers.js_config`, `prune_studio.attention_scale_folded`).
 */
import { adapterFor } from '../arch/registry';
import type { ModelIR } from '../core/ir';
import type { ExportConfigEntries } from './types';

export type HubLayout = { ok: true } | { ok: false; reason: string };

/** Whether transformers' model class of the family can load this model from a plain config.json. */
export function hubLayout(ir: ModelIR): HubLayout {
  const [first] = ir.layers;
  if (!first) return { ok: false, reason: 'every layer was removed.' };
  const odd = ir.layers.findIndex((l) => l.numHeads !== first.numHeads || l.numKvHeads !== first.numKvHeads || l.ffnSize !== first.ffnSize);
  if (odd >= 0)
    return {
      ok: false,
      reason: `the layers differ in shape (layer 0: ${shapeText(first)}; layer ${odd}: ${shapeText(ir.layers[odd]!)}), and transformers' config classes hold one shape for all layers.`,
    };
  if (first.numHeads === 0 || first.ffnSize === 0)
    return { ok: false, reason: 'a layer without attention heads or FFN neurons has no transformers equivalent.' };
  const why = adapterFor(ir.spec).hubIncompatibility?.(ir);
  return why ? { ok: false, reason: why } : { ok: true };
}

function shapeText(l: ModelIR['layers'][number]): string {
  return `${l.numHeads} heads / ${l.numKvHeads} kv heads / FFN ${l.ffnSize}`;
}

export interface BundleConfigInput {
  /** config.json of the loaded (source) model. */
  base: Record<string, unknown>;
  /** The model written. */
  ir: ModelIR;
  /** The `prune_studio` block's own entries (format, source model, compensation, ...). */
  pruneStudio: Record<string, unknown>;
  /** What the exporter adds. */
  exporter?: ExportConfigEntries;
}

/** config.json of an export bundle. */
export function bundleConfig({ base, ir, pruneStudio, exporter }: BundleConfigInput): Record<string, unknown> {
  const adapter = adapterFor(ir.spec);
  const layout = hubLayout(ir);
  const shapeKeys = layout.ok ? adapter.writeConfig(ir) : { [adapter.layerCountKey]: ir.layers.length };
  // The source's own transformers.js settings name files this bundle may not have.
  const { 'transformers.js_config': _dropped, ...kept } = base;
  return {
    ...kept,
    ...shapeKeys,
    ...exporter?.top,
    prune_studio: {
      ...pruneStudio,
      ...exporter?.pruneStudio,
      hub_layout: layout.ok,
      hidden_size: ir.spec.hiddenSize,
      ...(layout.ok ? {} : { hub_layout_reason: layout.reason }),
      layers: ir.layers.map((l, i) => ({
        original_index: ir.originalLayerIndex[i],
        num_heads: l.numHeads,
        num_kv_heads: l.numKvHeads,
        ffn_size: l.ffnSize,
      })),
    },
  };
}
