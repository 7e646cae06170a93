/**
 * Bounds before allocation: the sizes config.json states (layers, widths, vocabulary) imply a
 * minimum number of weight values; it is compared with what the weight files' headers declare
 * before any tensor is converted, so a config with a vocabulary of 1e9 fails by name before
 * anything is built (`n_layer` beyond MAX_CONFIG_LAYERS is refused before per-layer shapes exist).
 */
import { ConfigError } from '../core/errors';
import type { ArchSpec, LayerShape } from '../core/ir';

/** The fewest weight values a checkpoint of this config holds (projections and embeddings; biases and norms left out). */
export function minimumWeights(spec: ArchSpec, layers: readonly LayerShape[]): number {
  const d = spec.hiddenSize;
  const hd = spec.headDim;
  let n = spec.vocabSize * d;
  for (const l of layers) {
    n += 2 * d * l.numHeads * hd; // q, o
    n += 2 * d * l.numKvHeads * hd; // k, v
    n += (spec.gatedMlp ? 3 : 2) * d * l.ffnSize;
  }
  return n;
}

const describe = (spec: ArchSpec, layers: readonly LayerShape[]) =>
  `${layers.length} layers, hidden size ${spec.hiddenSize}, vocabulary ${spec.vocabSize}, FFN width ${layers[0]?.ffnSize ?? 0}`;

/**
 * After the headers are read (nothing converted yet): the values the checkpoint's tensors hold.
 * A config needing more than twice as many is refused here by name; closer disagreements reach
 * the adapter's per-tensor shape check, which names the tensor.
 */
export function checkConfigAgainstElements(spec: ArchSpec, layers: readonly LayerShape[], elements: number, files: string): void {
  const need = minimumWeights(spec, layers);
  if (need > 2 * elements) {
    throw new ConfigError(
      `config.json describes a model (${describe(spec, layers)}) of at least ${need.toExponential(3)} weights, but ${files} holds only ${elements} values.`,
    );
  }
}
