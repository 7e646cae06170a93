/**
 * `quantize`: the loaded model (dense, or a bundle the studio exported) as one quantized variant,
 * written through the exporters room (write, re-load, logits checked against the fp32 model), with
 * the perplexity of the written file next to the fp32 one on the same tokens.
 */
import { emptyPlan, quantMethod, type createStudioApi } from '../api';
import { stringFlag, type ParsedArgs } from './args';
import { exportRequest, writeBundle } from './bundle';
import { calibrateFromArgs, perplexityRequest } from './prune';

export const QUANTIZE_USAGE = `  prune-studio quantize --model <dir> --quantize <fp16|int8|int4-rtn|int4-gptq> [--int4-symmetric] [--calib <file>] [--text <file>] --out <dir>
  (prune, apply, iterate and slimgpt take --quantize too: the bundle holds the quantized model)`;

export async function quantizeCommand(api: ReturnType<typeof createStudioApi>, args: ParsedArgs) {
  const variant = stringFlag(args, 'quantize');
  const method = quantMethod(variant);
  if (method.needs.hessians) await calibrateFromArgs(api, args, false);
  const m = api.state.loaded!;
  await api.applyPlan({ plan: emptyPlan(m.ir, 'dense'), compensation: 'none' });
  const bundle = await writeBundle(api, stringFlag(args, 'out'), exportRequest(args));
  const { readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const written = new Uint8Array(readFileSync(join(bundle.out, 'onnx', method.file)));
  const p = await api.modelFilePerplexity(written, perplexityRequest(args));
  return {
    ...bundle,
    variant,
    perplexity: { fp32: p.fp32, [variant]: p.file, tokens: p.tokens, context: p.context, stride: p.stride },
  };
}
