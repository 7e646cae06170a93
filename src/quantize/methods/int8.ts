/**
 * int8: symmetric per-output-channel int8 weights, activations quantized per tensor at run time to
 * uint8 (DynamicQuantizeLinear + MatMulInteger), as onnxruntime's quantize_dynamic (QInt8 weights,
 * per_channel, reduce_range) writes them. Weights use 7 bits (codes in [-63, 63], reduce_range): on
 * x86 CPUs without VNNI onnxruntime's u8s8 kernels add pairs of uint8 x int8 products in int16
 * (vpmaddubsw), which saturates with full-range weights (255 x 127 x 2 > 32,767) and makes the file
 * compute something else than its weights say; 255 x 63 x 2 fits (measured on an AVX2-only EPYC:
 * full range gave logits 1.6 off the fp32 model and failed the import check).
 */
import { transpose } from '../targets';
import { quantizeInt8 } from '../scalar';
import type { QuantMethod } from '../types';

/** Largest int8 weight code: 7 bits (onnxruntime's reduce_range), so u8s8 pair sums fit int16. */
export const INT8_REDUCED_RANGE = 63;

export const int8: QuantMethod = {
  name: 'int8',
  what: 'int8 weights (one scale per output channel), activations quantized to uint8 per tensor at run time.',
  source: 'onnxruntime quantize_dynamic (DynamicQuantizeLinear + MatMulInteger, per-channel QInt8 weights)',
  needs: { hessians: false },
  file: 'model_quantized.onnx',
  tolerance: 1,
  quantize: (t) => ({
    kind: 'int8',
    name: t.name,
    n: t.n,
    k: t.k,
    q: quantizeInt8(transpose(t.w, t.n, t.k), t.k, t.n, true, INT8_REDUCED_RANGE),
  }),
};
