/** int4-rtn: 4-bit block-wise weights (MatMulNBits layout, blocks of 32 along the input), each rounded to the nearest level. */
import { quantizeRtn } from '../blocks';
import type { QuantMethod } from '../types';

export const int4Rtn: QuantMethod = {
  name: 'int4-rtn',
  what: '4-bit weights in blocks of 32 inputs (float32 scale + 4-bit zero point per block), round to nearest; MatMulNBits.',
  source:
    'onnxruntime MatMulNBits (com.microsoft) layout; asymmetric min/max quantizer as GPTQ Quantizer(sym=False); symmetric (zero point 8) as an option',
  needs: { hessians: false },
  file: 'model_q4.onnx',
  tolerance: 8,
  quantize: (t, ctx) => ({ kind: 'int4', name: t.name, q: quantizeRtn(t.w, t.n, t.k, ctx.blockSize, ctx.int4Symmetric) }),
};
