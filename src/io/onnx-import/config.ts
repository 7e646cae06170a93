/**
 * config.json beside an ONNX export: cross-checked against what the graph says (structure comes
 * from the graph; config.json may only add what a graph cannot hold exactly, such as the model_type
 * label, max_position_embeddings of a rotary model and the exact rope_theta / eps), or synthesised
 * from the imported model when the folder has none (the exporter writes it into bundles).
 */
import { ShapeMismatchError } from '../../core/errors';
import type { ModelIR } from '../../core/ir';
import { normalizeConfig } from '../hf-config';

const close = (a: number, b: number, rel: number) => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

export function reconcileConfig(ir: ModelIR, config: unknown, onnxPath: string): ModelIR {
  const { spec, layers } = normalizeConfig(config);
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

/** A Hugging Face config.json for an imported model that came without one. */
export function configFromIR(ir: ModelIR): Record<string, unknown> {
  const s = ir.spec;
  const l = ir.layers[0]!;
  if (s.family === 'gpt2') {
    return {
      model_type: 'gpt2',
      architectures: ['GPT2LMHeadModel'],
      n_layer: ir.layers.length,
      n_head: l.numHeads,
      n_embd: s.hiddenSize,
      n_inner: l.ffnSize,
      n_positions: s.maxPositions,
      vocab_size: s.vocabSize,
      activation_function: s.activation === 'gelu_new' ? 'gelu_new' : s.activation,
      layer_norm_epsilon: s.normEps,
      tie_word_embeddings: s.tiedEmbeddings,
    };
  }
  return {
    model_type: s.modelType,
    architectures: [s.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM'],
    hidden_size: s.hiddenSize,
    intermediate_size: l.ffnSize,
    num_hidden_layers: ir.layers.length,
    num_attention_heads: l.numHeads,
    num_key_value_heads: l.numKvHeads,
    head_dim: s.headDim,
    max_position_embeddings: s.maxPositions,
    rms_norm_eps: s.normEps,
    rope_theta: s.ropeTheta,
    hidden_act: s.activation,
    tie_word_embeddings: s.tiedEmbeddings,
    vocab_size: s.vocabSize,
  };
}
