/**
 * Benchmark: quantization after pruning on the demo model. 50% of heads and FFN neurons removed
 * (wanda scores, uniform allocation, OBS compensation), then each variant written through the
 * exporters room (StudioApi.exportModel: write, re-load, compare with the fp32 preview) and
 * measured on the written file itself: bytes, perplexity (evaluation.txt, first 8192 tokens,
 * context 128, stride 64), median latency of batch 1 x 128 tokens in onnxruntime-web WASM (Node).
 * Ratios are to the dense fp32 model.onnx. Targets (issue 12): int4-gptq <= 1/12 of dense fp32
 * bytes with perplexity within 5% of the fp32 pruned model; GPTQ better than RTN; int8 within 1%.
 */
import { allocate } from '../src/prune/allocate';
import { buildOnnx } from '../src/graph/build';
import type { Runner } from '../src/core/runner';
import { decodeModel } from '../src/io/onnx';
import { modelFeeds } from '../src/io/onnx-import/source-model';
import { tokensOf } from '../src/api/state';
import { summarizeTimings } from '../src/eval/latency';
import { logitsModelPerplexity } from '../src/quantize/evaluate';
import type { ExportDtype } from '../src/exporters/types';
import type { createStudioApi } from '../src/api/studio';
import { CALIB_TEXT, EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;
interface Row {
  dtype: ExportDtype;
  file: string;
  bytes: number;
  ratioToDenseFp32: number;
  perplexity: number;
  perplexityVsFp32Pruned: number;
  maxAbsLogitDiff: number;
  latencyMs: number;
  exportMs: number;
}
const DTYPES: ExportDtype[] = ['fp32', 'fp16', 'int8', 'int4-rtn', 'int4-gptq'];

async function latencyMs(runner: Runner, bytes: Uint8Array, vocab: number): Promise<number> {
  const s = await runner.open(bytes);
  // The bundle's with-past graph timed as a 128-token prefill (empty pasts).
  const feeds = modelFeeds(decodeModel(bytes), [Array.from({ length: 128 }, (_, i) => (i * 31 + 7) % vocab)]);
  try {
    for (let i = 0; i < 3; i++) await s.run(feeds, ['logits']);
    const times: number[] = [];
    for (let i = 0; i < 15; i++) {
      const t0 = performance.now();
      await s.run(feeds, ['logits']);
      times.push(performance.now() - t0);
    }
    return summarizeTimings(times.sort((a, b) => a - b)).medianMs;
  } finally {
    await s.release();
  }
}

export async function benchQuantize(api: Api, runner: Runner, log: (l: string) => void = () => {}) {
  const m = api.state.loaded!;
  const vocab = m.ir.spec.vocabSize;
  const ids = tokensOf(m, 'evaluation.txt', EVAL_TEXT, 8192).slice(0, 8192);
  const denseBytes = buildOnnx(m.ir, { logits: true }).length;
  await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true });
  const scores = await api.computeImportance('wanda');
  const plan = allocate(m.ir, scores, scores, null, { allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
  await api.applyPlan({ plan, compensation: 'obs' });
  const rows: Row[] = [];
  let fp32Ppl = NaN;
  for (const dtype of DTYPES) {
    const t0 = performance.now();
    const bundle = await api.exportModel({ format: 'onnx', dtype });
    const exportMs = performance.now() - t0;
    const file = bundle.files[0]!;
    const { perplexity } = await logitsModelPerplexity(runner, file.bytes, ids, vocab);
    if (dtype === 'fp32') fp32Ppl = perplexity;
    const row: Row = {
      dtype,
      file: file.name,
      bytes: file.bytes.length,
      ratioToDenseFp32: file.bytes.length / denseBytes,
      perplexity,
      perplexityVsFp32Pruned: perplexity / fp32Ppl - 1,
      maxAbsLogitDiff: bundle.verification.maxAbsLogitDiff,
      latencyMs: await latencyMs(runner, file.bytes, vocab),
      exportMs,
    };
    log(JSON.stringify(row));
    rows.push(row);
  }
  const by = (d: ExportDtype) => rows.find((r) => r.dtype === d)!;
  return {
    protocol:
      'evaluation.txt, first 8192 tokens, context 128, stride 64; latency batch 1 x 128, median of 15 (onnxruntime-web WASM in Node)',
    pruning: '50% heads + 50% FFN neurons, wanda, uniform, OBS compensation; calibration 16 x 128 tokens',
    denseFp32Bytes: denseBytes,
    rows,
    targets: {
      int4GptqBytesAtMostTwelfth: by('int4-gptq').ratioToDenseFp32 <= 1 / 12,
      int4GptqPerplexityWithin5Percent: by('int4-gptq').perplexityVsFp32Pruned <= 0.05,
      gptqBeatsRtn: by('int4-gptq').perplexity < by('int4-rtn').perplexity,
      int8Within1Percent: Math.abs(by('int8').perplexityVsFp32Pruned) <= 0.01,
      int4SpeedupVsFp32: by('fp32').latencyMs / by('int4-gptq').latencyMs,
    },
  };
}
