/** fp16: every quantizable weight stored as IEEE half, cast back to float32 in the graph (compute stays fp32). */
import { toHalfArray } from '../scalar';
import type { QuantMethod } from '../types';

export const fp16: QuantMethod = {
  name: 'fp16',
  what: 'Weights stored in float16 (half the bytes), cast to float32 when the session loads; compute in float32.',
  source: 'IEEE 754 binary16, round to nearest even',
  needs: { hessians: false },
  file: 'model_fp16.onnx',
  tolerance: 0.05,
  quantize: (t) => ({ kind: 'fp16', name: t.name, half: toHalfArray(t.data), dims: t.dims }),
};
