/**
 * Benchmark: live preview responsiveness on the demo model. For plans at 10..70% (magnitude,
 * uniform), the masked perplexity on the UI's preview protocol (evaluation.txt, first 2,048 tokens,
 * ctx 128, stride 64, batches of 8 windows) on the already-open dense session: time from the
 * request to the first streamed estimate and to the final number. Target: first estimate within
 * about a second (issue: "A person dragging a slider ... sees the first perplexity estimate within
 * about a second"); the UI adds its 150 ms debounce and the allocation round trip on top (measured
 * through the real UI in bench/browser.ts).
 */
import type { createStudioApi } from '../src/api/studio';
import { allocate } from '../src/prune/allocate';
import { EVAL_TEXT } from './common';

type Api = ReturnType<typeof createStudioApi>;

export const PREVIEW_PPL = { text: EVAL_TEXT, textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: 2048 };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function benchPreview(api: Api, ratios = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]) {
  const ir = api.state.loaded!.ir;
  const scores = await api.computeImportance('magnitude');
  // one discarded preview: the first runs of a fresh session are slower (thread pool, allocations)
  await api.previewPlan({
    plan: allocate(ir, scores, scores, null, { allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 }),
    perplexity: PREVIEW_PPL,
  });
  const rows = [];
  for (const ratio of ratios) {
    const plan = allocate(ir, scores, scores, null, { allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
    const t0 = performance.now();
    let firstMs: number | undefined;
    let batches = 0;
    const result = await api.previewPlan(
      { plan, perplexity: PREVIEW_PPL },
      {
        onProgress: () => {
          firstMs ??= performance.now() - t0;
          batches++;
        },
      },
    );
    rows.push({ ratio, firstEstimateMs: firstMs ?? NaN, finalMs: performance.now() - t0, batches, perplexity: result.perplexity });
  }
  return {
    protocol: { ...PREVIEW_PPL, text: undefined, batchSize: 8 },
    rows,
    medianFirstEstimateMs: median(rows.map((r) => r.firstEstimateMs)),
    medianFinalMs: median(rows.map((r) => r.finalMs)),
    target: 'first estimate within about 1000 ms',
  };
}
