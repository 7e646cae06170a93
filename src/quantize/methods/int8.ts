/**
 * int8: symmetric per-output-channel int8 weights, activations quantized per tensor at run time to
 * uint8 (DynamicQuantizeLinear + MatMulInteger), as onnxruntime's quantize_dynamic (QInt8 weights,
 * per_channel) writes them.
 */
import { transpose } from '../targets';
import { quantizeInt8 } from '../scalar';
import type { QuantMethod } from '../types';

export const int8: QuantMethod = {
  name: 'int8',
  what: 'int8 weights (one scale per output channel), activations quantized to uint8 per tensor at run time.',
  source: 'onnxruntime quantize_dynamic (DynamicQuantizeLinear + MatMulInteger, per-channel QInt8 weights)',
  needs: { hessians: false },
  file: 'model_quantized.onnx',
  tolerance: 1,
  quantize: (t) => ({ kind: 'int8', name: t.name, n: t.n, k: t.k, q: quantizeInt8(transpose(t.w, t.n, t.k), t.k, t.n, true) }),
};
