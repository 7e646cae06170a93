/**
 * Benchmark: latency of the physically pruned demo model for removal ratios 0..70% (heads and FFN
 * alike, magnitude order), measured speedup vs the FLOP-bound speedup (dense FLOPs / pruned FLOPs).
 */
import type { createStudioApi } from '../src/api/studio';
import { allocate } from '../src/prune/allocate';

type Api = ReturnType<typeof createStudioApi>;

export async function benchLatency(api: Api, ratios = [0, 0.1, 0.3, 0.5, 0.7], runs = 30) {
  const ir = api.state.loaded!.ir;
  const scores = await api.computeImportance('magnitude');
  const req = { batch: 1, seq: 128, warmup: 5, runs };
  const rows = [];
  for (const ratio of ratios) {
    const plan = allocate(ir, scores, scores, null, { allocation: 'uniform', heads: ratio, ffn: ratio, layers: 0 });
    const applied = await api.applyPlan({ plan, compensation: 'none' });
    // dense and pruned runs interleaved so drift affects both alike; pruned = the exported (logits-only) graph
    const { dense, pruned, speedup: measuredSpeedup } = await api.compareLatency(req);
    const flopBoundSpeedup = applied.denseCost.flops / applied.cost.flops;
    rows.push({
      ratio,
      denseMs: dense.medianMs,
      prunedMs: pruned.medianMs,
      measuredSpeedup,
      flopBoundSpeedup,
      efficiency: measuredSpeedup / flopBoundSpeedup,
      parameters: applied.parameters,
      backend: pruned.backend,
    });
  }
  return { request: req, rows, target: 'efficiency >= 0.8 at ratio 0.5' };
}
