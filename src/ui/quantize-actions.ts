/**
 * The Quantize step after apply: list the engine's variants once, run one as a visible, cancellable
 * job (StudioApi.quantizeApplied: the bundle file of that variant, its perplexity on the applied
 * model's tokens, bytes and latency against the fp32 file), keep it for the Quantize block and add
 * it to the results table (persisted) as its own row marked by dtype.
 */
import type { QuantizedVariant } from '../api/types';
import { useStudio } from '../store';
import { modelKey } from '../store/model-key';
import type { ResultRow } from '../store/results';
import { latencyRequest } from './inputs';
import { engine, job, report } from './jobs';
import { quiet } from './prune-actions';

/** One plain sentence per variant (the engine's `what` is the precise one). */
export const QUANT_PLAIN: Readonly<Record<string, string>> = {
  fp16: 'Stores every weight in 16 bits instead of 32: half the size, practically the same answers.',
  int8: 'Stores each weight as an 8-bit integer with one scale per output channel: about a quarter of the size, with a tiny loss.',
  'int4-rtn': 'Rounds each weight to one of 16 levels shared by a block of 32 weights: about an eighth of the size, with a small loss.',
  'int4-gptq':
    'Like int4-rtn, but each rounding error is corrected on the weights not yet rounded, using the calibration text, so less quality is lost.',
};

let listing: Promise<void> | undefined;
export function loadQuantVariants(): Promise<void> {
  listing ??= engine()
    .run('quantVariants', [])
    .then((v) => useStudio.getState().setQuantVariants(v))
    .catch((e: unknown) => {
      listing = undefined;
      report('Listing the quantization variants', e);
    });
  return listing;
}

/** The results row of a measured variant: the applied plan's row with the variant's numbers. */
type RowBase = Omit<ResultRow, 'id' | 'at' | 'dtype' | 'perplexity' | 'latencyMs' | 'bytes' | 'fp32Bytes'>;

export function quantizedRow(q: QuantizedVariant, base: RowBase, at = new Date()): ResultRow {
  return {
    ...base,
    id: `${at.getTime()}-${q.variant}`,
    dtype: q.variant,
    perplexity: q.perplexity.perplexity,
    latencyMs: q.latency.medianMs,
    bytes: q.bytes,
    fp32Bytes: q.fp32Bytes,
    at: at.toISOString(),
  };
}

export async function quantizeVariant(variant: string): Promise<void> {
  if (!useStudio.getState().applied) return;
  await quiet();
  const { seq, warmup, runs } = latencyRequest();
  const q = await job(`Quantizing the applied model (${variant})`, 'quantizeApplied', [{ variant, latency: { seq, warmup, runs } }]);
  const st = useStudio.getState();
  const { model, applied } = st;
  if (!q || !model || !applied || applied.plan.name !== q.plan) return;
  st.addQuantized(q);
  const key = modelKey(model);
  const fp32Row = [...st.results].reverse().find((r) => r.model === key && r.plan === q.plan && !r.dtype);
  st.addResult(
    quantizedRow(q, {
      model: key,
      plan: q.plan,
      criterion: fp32Row?.criterion ?? applied.plan.derivation?.criterion ?? 'manual',
      allocation: fp32Row?.allocation ?? applied.plan.derivation?.allocation ?? 'manual',
      compensation: applied.compensation,
      parameters: applied.parameters,
      denseLatencyMs: fp32Row?.denseLatencyMs ?? null,
      flopRatio: applied.cost.flops / applied.denseCost.flops,
    }),
  );
}
