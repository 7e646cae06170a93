/**
 * The quantization step after apply (StudioApi.quantizeApplied; the UI's Quantize block): the
 * applied model's bundle file for one variant (the with-past decoder exactly as export writes it,
 * exporters/onnx.ts quantizedDecoderOnnx), measured like an applied plan: its perplexity on the
 * tokens of the session's last perplexity of the applied model (bundle-perplexity.ts), its bytes
 * next to the fp32 file's, and its latency against the fp32 file, runs interleaved (a prefill of
 * batch x seq tokens, empty pasts). exportModel({ dtype: variant }) then writes the same file.
 */
import { InputError, throwIfAborted } from '../core/errors';
import type { Runner, RunnerSession } from '../core/runner';
import { summarizeTimings } from '../eval/latency';
import { decoderOnnx, quantizedDecoderOnnx } from '../exporters/onnx';
import { decodeModel } from '../io/onnx';
import { modelFeeds } from '../io/onnx-import/source-model';
import { QUANT_METHODS, quantMethod } from '../quantize/registry';
import { writtenPerplexity } from './bundle-perplexity';
import { requirePruned, type LoadedModel, type StudioState } from './state';
import type { JobOptions, LatencyRequest, LatencyResult, QuantizeRequest, QuantizedVariant, QuantVariantInfo } from './types';

export function quantVariantInfos(): QuantVariantInfo[] {
  return QUANT_METHODS.map((m) => ({ name: m.name, what: m.what, source: m.source, needsCalibration: m.needs.hessians, file: m.file }));
}

/** Median-of-runs latency of two files, one run of each in turn, so drift hits both alike. */
async function interleavedLatency(
  runner: Runner,
  now: () => number,
  files: readonly Uint8Array[],
  ids: number[],
  req: LatencyRequest,
  signal?: AbortSignal,
): Promise<LatencyResult[]> {
  const sessions: RunnerSession[] = [];
  try {
    for (const f of files) sessions.push(await runner.open(f));
    const feeds = files.map((f) =>
      modelFeeds(
        decodeModel(f),
        Array.from({ length: req.batch }, () => ids),
      ),
    );
    const samples = files.map((): number[] => []);
    for (let i = 0; i < req.warmup + req.runs; i++) {
      throwIfAborted(signal, 'Measuring latency');
      for (let s = 0; s < sessions.length; s++) {
        const t0 = now();
        await sessions[s]!.run(feeds[s]!, ['logits']);
        if (i >= req.warmup) samples[s]!.push(now() - t0);
      }
    }
    return samples.map((ms, s) => ({ ...summarizeTimings(ms), samplesMs: ms, request: req, backend: sessions[s]!.backend }));
  } finally {
    for (const s of sessions) await s.release();
  }
}

export async function quantizeApplied(
  state: StudioState,
  m: LoadedModel,
  req: QuantizeRequest,
  options: JobOptions,
): Promise<QuantizedVariant> {
  const p = requirePruned(m);
  const method = quantMethod(req.variant);
  if (!p.perplexity)
    throw new InputError(
      'The applied model has no measured perplexity to compare the variant with.',
      "Measure the applied model's perplexity first (Apply does it).",
    );
  const calibration = m.calibration?.set.sequences;
  if (method.needs.hessians && !calibration?.length)
    throw new InputError(`${method.name} needs calibration sequences for its Hessians.`, 'Calibrate first, or choose int4-rtn.');
  const step = (done: number, message: string) => options.onProgress?.({ stage: 'quantize', done, total: 3, message });
  step(0, `Quantizing the applied model (${method.name})`);
  const fp32 = decoderOnnx(p.ir);
  const bytes = await quantizedDecoderOnnx(p.ir, method.name, calibration, state.deps.runner, req.int4Symmetric);
  throwIfAborted(options.signal, 'Quantizing');
  step(1, `Perplexity of ${method.file}`);
  const perplexity = await writtenPerplexity(state.deps.runner, m, p, bytes);
  if (!perplexity) throw new InputError('The tokens of the applied model’s perplexity are no longer cached.', 'Apply the plan again.');
  throwIfAborted(options.signal, 'Quantizing');
  step(2, `Latency of ${method.file} against the fp32 file`);
  const seq = Math.min(req.latency?.seq ?? 128, p.ir.spec.maxPositions);
  const latencyReq: LatencyRequest = { target: 'pruned', batch: 1, seq, runs: req.latency?.runs ?? 10, warmup: req.latency?.warmup ?? 2 };
  const ids = Array.from({ length: seq }, (_, i) => (i * 31 + 7) % p.ir.spec.vocabSize);
  const [fp32Latency, latency] = await interleavedLatency(state.deps.runner, state.now, [fp32, bytes], ids, latencyReq, options.signal);
  step(3, `${method.name} measured`);
  return {
    variant: method.name,
    plan: p.summary.plan.name,
    file: `onnx/${method.file}`,
    bytes: bytes.length,
    fp32Bytes: fp32.length,
    perplexity,
    latency: latency!,
    fp32Latency: fp32Latency!,
  };
}
