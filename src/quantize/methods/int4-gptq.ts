/**
 * int4-gptq: the int4-rtn format, with the weights of every linear chosen by GPTQ (gptq.ts) from
 * the calibration Gram of the linear's input. A table that the token embedding also reads (tied
 * head) or a gather-only table is rounded to nearest: GPTQ would trade embedding rows for head
 * outputs.
 */
import { InputError } from '../../core/errors';
import { quantizeRtn } from '../blocks';
import { quantizeGptq } from '../gptq';
import type { QuantMethod } from '../types';

export const int4Gptq: QuantMethod = {
  name: 'int4-gptq',
  what: '4-bit weights in blocks of 32 as int4-rtn, rounding errors compensated column by column with the calibration Hessian (GPTQ).',
  source: 'Frantar et al. 2022, GPTQ (Algorithm 1: Cholesky of H^-1, lazy batches of 128, 1% damping)',
  needs: { hessians: true },
  file: 'model_q4.onnx',
  tolerance: 8,
  quantize(t, ctx) {
    if (t.uses.includes('gather') || !t.input)
      return { kind: 'int4', name: t.name, q: quantizeRtn(t.w, t.n, t.k, ctx.blockSize, ctx.int4Symmetric) };
    const g = ctx.grams?.get(t.input);
    if (!g)
      throw new InputError(
        `GPTQ needs the calibration Hessian of "${t.input}" (the input of ${t.name}).`,
        'Calibrate first (the studio collects it), or use int4-rtn.',
      );
    if (g.gram.length !== t.k * t.k)
      throw new InputError(`The Hessian of "${t.input}" is ${Math.sqrt(g.gram.length)} wide; ${t.name} has ${t.k} inputs.`);
    return { kind: 'int4', name: t.name, q: quantizeGptq(t.w, t.n, t.k, g.gram, g.tokens, ctx.blockSize, ctx.int4Symmetric) };
  },
};
