/** Errors of the ONNX importer: the graph is valid ONNX but not a structure we can map onto ModelIR. */
import { OnnxFormatError, UnsupportedModelError } from '../../core/errors';

export const STRUCTURE_HINT =
  'Prune Studio reads decoder-only gpt2 / llama-family exports as optimum or torch.onnx.export write them; re-export without graph optimisations or fusions.';

export class OnnxStructureError extends OnnxFormatError {
  constructor(message: string, hint = STRUCTURE_HINT) {
    super(`The ONNX graph does not match a supported decoder: ${message}`, hint);
  }
}

/** Where the 1/sqrt(head_dim) attention scale is recorded as folded into the query projection (docs/export-bundle.md). */
export const SCALE_FOLDED_KEY = 'prune_studio.attention_scale_folded';

/**
 * The attention scale cannot be read unambiguously: the graph applies no 1/sqrt(head_dim) and
 * nothing says it was folded into the query weights, or config.json says it was folded while the
 * graph scales the scores as well.
 */
export class AttentionScaleError extends UnsupportedModelError {
  constructor(
    message: string,
    hint = `A graph that folds 1/sqrt(head_dim) into the query projection needs config.json "${SCALE_FOLDED_KEY}": true (Prune Studio bundles write it); other scales are not supported.`,
  ) {
    super(message, hint);
  }
}
