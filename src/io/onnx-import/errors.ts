/** Errors of the ONNX importer: the graph is valid ONNX but not a structure we can map onto ModelIR. */
import { OnnxFormatError } from '../../core/errors';

export const STRUCTURE_HINT =
  'Prune Studio reads decoder-only gpt2 / llama-family exports as optimum or torch.onnx.export write them; re-export without graph optimisations or fusions.';

export class OnnxStructureError extends OnnxFormatError {
  constructor(message: string, hint = STRUCTURE_HINT) {
    super(`The ONNX graph does not match a supported decoder: ${message}`, hint);
  }
}
