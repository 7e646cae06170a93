/**
 * config.json beside an ONNX export: cross-checked against what the graph says (structure comes
 * from the graph; config.json may only add what a graph cannot hold exactly, such as the model_type
 * label, max_position_embeddings of a rotary model and the exact rope_theta / eps). A folder without
 * config.json gets one from the family adapter (`writeConfig`, src/arch); the exporter writes it into bundles.
 */
import { ConfigError, ShapeMismatchError } from '../../core/errors';
import type { ModelIR } from '../../core/ir';
import { isObject, type NormalizedConfig } from '../hf-config';
import { SCALE_FOLDED_KEY } from './errors';
import type { ImportHints } from './import';

/**
 * What config.json says about the graph that the graph cannot show: `prune_studio.attention_scale_folded`
 * (true when Prune Studio's exporter folded 1/sqrt(head_dim) into the query projection) and, from
 * `prune_studio.layers`, the layers pruned to 0 heads or 0 FFN neurons (no branch to find in the graph).
 */
export function importHints(config: unknown): ImportHints {
  const ps = isObject(config) ? config.prune_studio : undefined;
  const folded = isObject(ps) ? ps.attention_scale_folded : undefined;
  if (folded !== undefined && typeof folded !== 'boolean')
    throw new ConfigError(`config.json "${SCALE_FOLDED_KEY}" must be true or false, got ${JSON.stringify(folded)}.`);
  const layers = isObject(ps) && Array.isArray(ps.layers) ? (ps.layers as unknown[]) : [];
  // Layers without attention / MLP (their shapes are validated with the rest of config.json later).
  const emptyBranches = layers.map((l) => ({
    attention: isObject(l) && l.num_heads === 0,
    mlp: isObject(l) && l.ffn_size === 0,
  }));
  return {
    ...(folded !== undefined ? { attentionScaleFolded: folded } : {}),
    ...(emptyBranches.some((b) => b.attention || b.mlp) ? { emptyBranches } : {}),
  };
}

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

/** `config`: config.json as normalised by its family adapter (arch/config.ts). */
export function reconcileConfig(ir: ModelIR, config: Pick<NormalizedConfig, 'spec' | 'layers'>, onnxPath: string): ModelIR {
  const { spec, layers } = config;
  const mismatch = (what: string, cfg: unknown, graph: unknown, where = '') =>
    new ShapeMismatchError(
      `config.json says ${what} is ${String(cfg)}, but ${onnxPath} has ${String(graph)}${where}.`,
      'config.json must come from the same export as the ONNX file.',
    );
  if (spec.family !== ir.spec.family) throw mismatch('the family', spec.family, ir.spec.family);
  const pairs: [string, number, number, string?][] = [
    ['the number of layers', spec.numLayers, ir.layers.length],
    ['the hidden size', spec.hiddenSize, ir.spec.hiddenSize],
    ['head_dim', spec.headDim, ir.spec.headDim],
    ['the vocabulary size', spec.vocabSize, ir.spec.vocabSize],
  ];
  // Every layer: a pruned model's shapes differ per layer (prune_studio.layers).
  ir.layers.forEach((l, i) => {
    const c = layers[i];
    const at = ` (layer ${i})`;
    pairs.push(
      ['the number of attention heads', c?.numHeads ?? 0, l.numHeads, at],
      ['the number of key/value heads', c?.numKvHeads ?? 0, l.numKvHeads, at],
      ['the FFN width', c?.ffnSize ?? 0, l.ffnSize, at],
    );
  });
  for (const [what, a, b, where] of pairs) if (a !== b) throw mismatch(what, a, b, where);
  if (spec.activation !== ir.spec.activation) throw mismatch('the activation', spec.activation, ir.spec.activation);
  const out = { ...ir.spec, modelType: spec.modelType };
  if (ir.spec.vision) out.vision = reconcileVision(ir.spec.vision, spec.vision, mismatch);
  if (close(spec.normEps, ir.spec.normEps, 1e-3)) out.normEps = spec.normEps;
  if (spec.ropeTheta !== undefined && ir.spec.ropeTheta !== undefined && close(spec.ropeTheta, ir.spec.ropeTheta, 1e-3))
    out.ropeTheta = spec.ropeTheta;
  if (ir.spec.positions === 'rotary') out.maxPositions = spec.maxPositions;
  else if (spec.maxPositions > ir.spec.maxPositions) throw mismatch('the number of positions', spec.maxPositions, ir.spec.maxPositions);
  return { ...ir, spec: out };
}

/** An image classifier: config.json's geometry must equal the graph's; its class names (id2label) replace LABEL_i. */
function reconcileVision(
  graph: NonNullable<ModelIR['spec']['vision']>,
  config: ModelIR['spec']['vision'],
  mismatch: (what: string, cfg: unknown, graph: unknown) => Error,
): NonNullable<ModelIR['spec']['vision']> {
  if (!config) throw mismatch('the model reads', 'no images', 'pixel_values');
  for (const k of ['imageSize', 'patchSize', 'numChannels'] as const) if (config[k] !== graph[k]) throw mismatch(k, config[k], graph[k]);
  if (config.labels.length !== graph.labels.length) throw mismatch('the number of labels', config.labels.length, graph.labels.length);
  return { ...graph, labels: [...config.labels] };
}
