/**
 * config.json beside an ONNX export: cross-checked against what the graph says (structure comes
 * from the graph; config.json may only add what a graph cannot hold exactly, such as the model_type
 * label, max_position_embeddings of a rotary model and the exact rope_theta / eps). A folder without
 * config.json gets one from the family adapter (`writeConfig`, src/arch); the exporter writes it into bundles.
 */
import { ShapeMismatchError } from '../../core/errors';
import type { ModelIR } from '../../core/ir';
import type { NormalizedConfig } from '../hf-config';

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

/** `config`: config.json as normalised by its family adapter (arch/config.ts). */
export function reconcileConfig(ir: ModelIR, config: Pick<NormalizedConfig, 'spec' | 'layers'>, onnxPath: string): ModelIR {
  const { spec, layers } = config;
  const mismatch = (what: string, cfg: unknown, graph: unknown) =>
    new ShapeMismatchError(
      `config.json says ${what} is ${String(cfg)}, but ${onnxPath} has ${String(graph)}.`,
      'config.json must come from the same export as the ONNX file.',
    );
  if (spec.family !== ir.spec.family) throw mismatch('the family', spec.family, ir.spec.family);
  const pairs: [string, number, number][] = [
    ['the number of layers', spec.numLayers, ir.layers.length],
    ['the hidden size', spec.hiddenSize, ir.spec.hiddenSize],
    ['head_dim', spec.headDim, ir.spec.headDim],
    ['the number of attention heads', layers[0]?.numHeads ?? 0, ir.layers[0]?.numHeads ?? 0],
    ['the number of key/value heads', layers[0]?.numKvHeads ?? 0, ir.layers[0]?.numKvHeads ?? 0],
    ['the FFN width', layers[0]?.ffnSize ?? 0, ir.layers[0]?.ffnSize ?? 0],
    ['the vocabulary size', spec.vocabSize, ir.spec.vocabSize],
  ];
  for (const [what, a, b] of pairs) if (a !== b) throw mismatch(what, a, b);
  if (spec.activation !== ir.spec.activation) throw mismatch('the activation', spec.activation, ir.spec.activation);
  const out = { ...ir.spec, modelType: spec.modelType };
  if (close(spec.normEps, ir.spec.normEps, 1e-3)) out.normEps = spec.normEps;
  if (spec.ropeTheta !== undefined && ir.spec.ropeTheta !== undefined && close(spec.ropeTheta, ir.spec.ropeTheta, 1e-3))
    out.ropeTheta = spec.ropeTheta;
  if (ir.spec.positions === 'rotary') out.maxPositions = spec.maxPositions;
  else if (spec.maxPositions > ir.spec.maxPositions) throw mismatch('the number of positions', spec.maxPositions, ir.spec.maxPositions);
  return { ...ir, spec: out };
}
